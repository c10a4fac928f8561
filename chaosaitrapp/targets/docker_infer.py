"""What a container runs and where the host reaches it: the check (``redis``/``postgres``) from
its image, compose service or name, and the port from its command, ``PGPORT`` and port bindings."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.targets.answers import DEFAULT_PORTS

# Image name fragments -> check. Order matters: the first match wins.
_IMAGE_CHECKS: Tuple[Tuple[str, str], ...] = (
    ("redis", "redis"),
    ("valkey", "redis"),
    ("keydb", "redis"),
    ("postgres", "postgres"),
    ("postgis", "postgres"),
)


def infer_check(image: str, service: Optional[str], name: str) -> Optional[str]:
    """``redis`` / ``postgres`` from the image's repository name, else from the compose
    service name, else from the container name; ``None`` when none says."""
    repo = image.split("@", 1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo[: repo.rfind(":")]
    for text in (repo, service or "", name):
        lowered = text.lower()
        for fragment, check in _IMAGE_CHECKS:
            if fragment in lowered:
                return check
    return None


def _argv_port(argv: List[str], check: Optional[str]) -> Optional[int]:
    """The listening port named in a server's argv, if any."""
    for i, arg in enumerate(argv):
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if check == "redis" or check is None:
            if arg == "--port" and nxt.isdigit():
                return int(nxt)
        if check == "postgres" or check is None:
            if arg == "-c" and re.fullmatch(r"port\s*=\s*\d+", nxt):
                return int(nxt.split("=", 1)[1])
            m = re.fullmatch(r"(?:-c\s*|--)port=(\d+)", arg)
            if m:
                return int(m.group(1))
            if arg == "-p" and nxt.isdigit():
                return int(nxt)
            m = re.fullmatch(r"-p(\d+)", arg)
            if m:
                return int(m.group(1))
    return None


def inside_port(attrs: Dict[str, Any], check: Optional[str]) -> Optional[int]:
    """The port the service listens on inside the container described by ``attrs`` (``docker inspect``):
    the port in its command or ``PGPORT``, else the check's default; None when nothing is known."""
    argv = [attrs.get("Path") or ""] + list(attrs.get("Args") or [])
    port = _argv_port(argv, check)
    if port is None and check == "postgres":
        for item in (attrs.get("Config") or {}).get("Env") or []:
            if item.startswith("PGPORT=") and item[7:].isdigit():
                port = int(item[7:])
    return port if port is not None else DEFAULT_PORTS.get(check or "")


def infer_port(attrs: Dict[str, Any], check: Optional[str]) -> Optional[int]:
    """The port on which the host reaches the service of the container described by
    ``attrs`` (``docker inspect``): the port in its command or ``PGPORT`` (else the check's
    default), translated through the published port bindings unless it uses host networking.
    ``None`` when it cannot be reached from the host (not published) or nothing is known.
    """
    port = inside_port(attrs, check)
    if port is None:
        return None
    host_config = attrs.get("HostConfig") or {}
    if host_config.get("NetworkMode") == "host":
        return port
    bindings = (host_config.get("PortBindings") or {}).get(f"{port}/tcp") or []
    for binding in bindings:
        if (binding or {}).get("HostPort", "").isdigit():
            return int(binding["HostPort"])
    # Published at random (-P) ports only show while running.
    live = ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{port}/tcp") or []
    for binding in live:
        if (binding or {}).get("HostPort", "").isdigit():
            return int(binding["HostPort"])
    return None
