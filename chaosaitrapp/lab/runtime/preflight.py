"""Checks made before anything starts: programs installed, ports free. Each error names what failed."""
from __future__ import annotations

import errno
import glob
import os
import shutil
import socket
from pathlib import Path
from typing import Dict, Optional

from chaosaitrapp.lab.errors import BinaryMissing, PortInUse

PORT_OPTIONS = {"trader": "--api-port", "broker": "--broker-port", "redis": "--redis-port",
                "postgres": "--postgres-port"}


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (bind test with SO_REUSEADDR, like the servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_ports(ports: Dict[str, int]) -> None:
    """PortInUse naming the first taken port, its service and the option that moves it."""
    for service, port in ports.items():
        if not port_free(port):
            raise PortInUse(
                f"port {port} on 127.0.0.1 is already in use, the lab's {service} needs it; stop whatever "
                f"listens there or choose another port ({PORT_OPTIONS.get(service, 'ports')})",
                service=service, port=port,
            )


def require_binary(name: str, hint: str) -> str:
    """The path of program ``name`` (absolute or on PATH), or BinaryMissing with an install hint."""
    path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
    if not path:
        raise BinaryMissing(f"the lab needs {name!r} but it is not installed or not on PATH; {hint}", binary=name)
    return path


def postgres_bindir() -> Path:
    """The directory of ``postgres``/``initdb``: ``$PG_BIN``, ``pg_config --bindir``, or the newest
    ``/usr/lib/postgresql/*/bin``; BinaryMissing when none has both programs."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(os.environ["PG_BIN"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(os.path.dirname(which))
    for directory in candidates:
        if all(os.access(os.path.join(directory, p), os.X_OK) for p in ("postgres", "initdb")):
            return Path(directory)
    raise BinaryMissing("the lab needs PostgreSQL's 'postgres' and 'initdb' programs but found neither in $PG_BIN, "
                        "/usr/lib/postgresql/*/bin nor on PATH; install postgresql (apt-get install postgresql) "
                        "or set PG_BIN", binary="postgres")


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def redis_server() -> str:
    """Path of ``redis-server`` or BinaryMissing."""
    return require_binary("redis-server", "install redis (apt-get install redis-server)")


def maybe_setpriv() -> Optional[str]:
    """Path of ``setpriv`` (util-linux), needed to run Postgres as its own user when we are root."""
    return shutil.which("setpriv")
