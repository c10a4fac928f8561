"""Redis as a local process: ``redis-server`` on loopback with RDB persistence in ``<lab_dir>/redis``.

Persistence is on (``--save "3600 1"``, and Redis saves on SIGTERM) so the leader lock's key
survives a restart: the real service's stale-key quirk is reproduced, not simulated.
"""
from __future__ import annotations

from pathlib import Path

from chaosaitrapp.lab.runtime.preflight import redis_server
from chaosaitrapp.targets.labstate import ServiceSpec


def redis_spec(lab_dir: Path, port: int) -> ServiceSpec:
    """The ServiceSpec that starts (and restarts) the lab's Redis."""
    data = lab_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = [redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data),
            "--save", "3600 1", "--dbfilename", "dump.rdb", "--appendonly", "no", "--protected-mode", "yes",
            "--daemonize", "no"]
    return ServiceSpec(name="redis", kind="process", host="127.0.0.1", port=port, check="redis",
                       pidfile=str(lab_dir / "run" / "redis.pid"), argv=argv, env={}, cwd=str(data),
                       log=str(lab_dir / "logs" / "redis.log"))
