"""Throwaway labs for tests and benchmarks: free ports (the one :func:`free_port`), a fresh lab
directory, start.

``tests/conftest.py`` builds its ``lab_factory`` and ``lab`` fixtures on these; import them from here
(``from chaosaitrapp.testing.lab import free_port``), not from a conftest (several exist).
"""
from __future__ import annotations

import os
import random
import socket
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from chaosaitrapp.lab.errors import LabError, PortInUse
from chaosaitrapp.lab.runtime import LabConfig, LabPorts, lab_up
from chaosaitrapp.targets.labstate import LabState

#: Below Linux's ephemeral range (32768-60999): a port handed out here is never also the source port the
#: kernel picks for some test's outgoing connection between our check and the lab's bind.
PORT_RANGE = (20000, 32000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, outside the ephemeral range: a free port
    for a service to bind, and a closed port for a client to be refused on (the one helper for both).
    RuntimeError when 200 tries found none."""
    for _ in range(200):
        port = random.randrange(*PORT_RANGE)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port on 127.0.0.1 in {PORT_RANGE[0]}-{PORT_RANGE[1]} after 200 tries")


def free_ports(count: int) -> List[int]:
    """``count`` distinct free ports."""
    ports: List[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def make_lab_dir(prefix: str = "aitrapp-lab-") -> Path:
    """A fresh lab directory under the system temp dir, traversable by the ``postgres`` OS user."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(directory, 0o711)
    return directory


def start_lab(directory: Path, *, profile: str = "fast", defects: Iterable[str] = (), api_key: Optional[str] = None,
              runtime: str = "process", mode: str = "PAPER", ready_timeout: float = 60.0,
              images: Optional[Dict[str, str]] = None, **config: Any) -> LabState:
    """``lab_up`` on fresh free ports in ``directory`` (new ports tried when one was taken meanwhile).

    ``images`` (docker runtime) overrides the Redis/Postgres image names, e.g. local builds; any
    other :class:`LabConfig` field (``db_password``...) passes through ``config``.
    """
    replicas = int(config.pop("replicas", 1))
    for attempt in range(3):
        drawn = free_ports(9 + 2 * (replicas - 1))  # one draw: every port distinct from every other
        trader, broker, redis, postgres, kite, control, redis_proxy, postgres_proxy, net = drawn[:9]
        extra = drawn[9:]
        config["replica_ports"] = [extra[i:i + 2] for i in range(0, len(extra), 2)]
        config["replicas"] = replicas
        lab_config = LabConfig(lab_dir=directory, runtime=runtime, profile=profile, defects=list(defects),
                           api_key=api_key, mode=mode, ready_timeout=ready_timeout, images=dict(images or {}),
                           ports=LabPorts(trader=trader, broker=broker, redis=redis, postgres=postgres, kite=kite,
                                          proxy_control=control, redis_proxy=redis_proxy,
                                          postgres_proxy=postgres_proxy, net_control=net), **config)
        try:
            return lab_up(lab_config)
        except PortInUse:
            if attempt == 2:
                raise
        except LabError as exc:  # a free port taken between the check and the bind (another test's socket)
            if "address already in use" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")
