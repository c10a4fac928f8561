"""What ``lab up`` is asked for: :class:`LabConfig`.

The API key, if any, is passed to the trader's environment at spawn time only; it is kept out
of ``repr`` and never written to ``lab.json``.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import psutil

from chaosaitrapp.lab.defects import parse_defects, refuse_in_live
from chaosaitrapp.lab.profiles import DEFAULT_PROFILE, get_profile
from chaosaitrapp.paths import lab_dir as default_lab_dir
from chaosaitrapp.targets.cgroups import parse_size
from chaosaitrapp.targets.labstate import lab_db_password

RUNTIMES = ("process", "docker")
MAX_REPLICAS = 5
REPLICA_API_BASE = 8010  # the second trader's API port (the first is LabPorts.trader); then 8011, ...
REPLICA_REDIS_BASE = 6390  # its Redis route through the TCP fault proxy; then 6391, ...
DEFAULT_IMAGES = {"redis": "redis:7", "postgres": "postgres:16"}
DB_USER = "trader"
DB_PASSWORD = "trader"  # the compose file's default; passed to the trader's env only
DB_NAME = "aitrapp"


@dataclass
class LabPorts:
    """Loopback ports of the services: ``kite`` is where the trader's Kite roots point (the broker fault
    proxy's listening port), ``proxy_control`` the proxy's control API; ``redis_proxy`` and
    ``postgres_proxy`` are where the trader reaches Redis and Postgres (the TCP fault proxy's routes),
    ``net_control`` that proxy's control API."""

    trader: int = 8000
    broker: int = 8001
    redis: int = 6379
    postgres: int = 5432
    kite: int = 8002
    proxy_control: int = 8003
    redis_proxy: int = 6380
    postgres_proxy: int = 5433
    net_control: int = 8004

    def as_dict(self) -> Dict[str, int]:
        """Every port by name."""
        return asdict(self)


@dataclass
class LabConfig:
    """How to bring the lab up; every field has the documented default.

    ``runtime``: ``process`` (everything as local processes) or ``docker`` (Redis and Postgres as
    containers, via :mod:`chaosaitrapp.lab.runtime.docker_services`). ``profile``: ``fast`` or
    ``aitrapp``. ``defects``: names from :mod:`chaosaitrapp.lab.defects`. ``ready_timeout``: seconds
    ``lab_up`` waits for the trader's ``/ready`` 200. ``db_password``: the ``trader`` role's
    password (``$AITRAPP_LAB_DB_PASSWORD``, default the compose file's ``trader``); it is set when the
    cluster is first made, passed to the trader's environment only, and never written to ``lab.json``.
    ``replicas``: how many trader instances contend for the leader lock (1-5; they share Redis, Postgres
    and the broker); ``replica_ports``: ``[api, redis_route]`` of each one after the first (default
    ``[8010, 6390]``, ``[8011, 6391]``, ...: its API, and the TCP fault proxy's route to Redis that only it
    uses, so one replica can be cut from Redis alone). ``cpu_limit`` (CPUs, e.g. ``0.5``) and ``memory_limit``
    (``256M``, bytes): each trader runs in a cgroup of its own with those limits (v1 or v2,
    :mod:`chaosaitrapp.targets.cgroups`), removed by ``lab down``; None: no limit. ``order_intake``: ``api``
    (the lab's ``POST /orders``) or ``spool`` (like AITRAPP: no ``POST /orders``; orders come from the injector
    ``python -m chaosaitrapp.lab.injector`` through the spool directory ``<lab dir>/spool``, or over
    ``POST /plans``). ``fake_clock``: each trader starts with the wall-clock shim and a clock file of its own,
    ``<lab dir>/clock/<trader>.offset`` (:func:`clock_file`; the clock drills write an offset into it: its wall
    clock jumps, its monotonic clock does not). ``pg_volume_mb``: Postgres keeps its cluster on a data volume of
    its own, a tmpfs of that many MiB (96-4096; the process runtime, as root), which the disk-full drill may fill
    (``POSTGRES_VOLUME``: :func:`chaosaitrapp.lab.runtime.postgres_process.volume_dir`); 0: none.
    """

    lab_dir: Path = field(default_factory=default_lab_dir)
    runtime: str = "process"
    profile: str = DEFAULT_PROFILE
    ports: Union[LabPorts, Mapping[str, int]] = field(default_factory=LabPorts)
    defects: List[str] = field(default_factory=list)
    api_key: Optional[str] = field(default=None, repr=False)
    mode: str = "PAPER"
    images: Dict[str, str] = field(default_factory=lambda: dict(DEFAULT_IMAGES))
    ready_timeout: float = 60.0
    db_password: str = field(default_factory=lambda: lab_db_password(), repr=False)
    replicas: int = 1
    replica_ports: List[List[int]] = field(default_factory=list)
    cpu_limit: Optional[float] = None
    memory_limit: Optional[Union[int, str]] = None
    order_intake: str = "api"
    fake_clock: bool = False
    pg_volume_mb: int = 0

    def __post_init__(self) -> None:
        if self.order_intake not in ("api", "spool"):
            raise ValueError(f"order_intake must be api or spool, got {self.order_intake!r}")
        self.lab_dir = Path(self.lab_dir).expanduser().absolute()
        if not isinstance(self.ports, LabPorts):
            unknown = set(self.ports) - set(LabPorts().as_dict())
            if unknown:
                raise ValueError(f"unknown lab port name(s) {sorted(unknown)}; known: {', '.join(LabPorts().as_dict())}")
            self.ports = LabPorts(**{k: int(v) for k, v in self.ports.items()})
        self.images = {**DEFAULT_IMAGES, **(self.images or {})}
        try:
            self.replicas = int(self.replicas)
        except (TypeError, ValueError):
            raise ValueError(f"replicas must be a whole number 1-{MAX_REPLICAS}, got {self.replicas!r}") from None
        if not self.replica_ports and self.replicas > 1:
            self.replica_ports = [[REPLICA_API_BASE + i, REPLICA_REDIS_BASE + i] for i in range(self.replicas - 1)]
        self.replica_ports = [[int(api), int(route)] for api, route in self.replica_ports]

    def validate(self) -> None:
        """ValueError/ConfigError on a bad runtime, profile, mode, port or defect (each named)."""
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown lab runtime {self.runtime!r}; choose one of {', '.join(RUNTIMES)}")
        get_profile(self.profile)
        self.mode = self.mode.upper()
        if self.mode not in ("PAPER", "LIVE"):
            raise ValueError(f"lab mode must be PAPER or LIVE, got {self.mode!r}")
        self.defects = sorted(parse_defects(self.defects))
        refuse_in_live(self.mode, self.defects)
        if self.pg_volume_mb and not (MIN_VOLUME_MB <= int(self.pg_volume_mb) <= MAX_VOLUME_MB):
            raise ValueError(f"pg_volume_mb must be 0 or {MIN_VOLUME_MB}-{MAX_VOLUME_MB}, got {self.pg_volume_mb}")
        if self.pg_volume_mb and self.runtime != "process":
            raise ValueError("pg_volume_mb (a data volume of Postgres' own) needs the process runtime")
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"replicas must be 1-{MAX_REPLICAS}, got {self.replicas}")
        if len(self.replica_ports) != self.replicas - 1:
            raise ValueError(f"replica_ports must give [api, redis_route] for each of the {self.replicas - 1} "
                             f"replica(s) after the first, got {self.replica_ports}")
        ports = self.all_ports()
        for name, port in ports.items():
            if not 1 <= port <= 65535:
                raise ValueError(f"{name} port {port} is out of range 1-65535")
        if len(set(ports.values())) != len(ports):
            raise ValueError(f"lab ports must differ, got {ports}")
        if self.ready_timeout <= 0:
            raise ValueError(f"ready_timeout must be positive, got {self.ready_timeout}")
        self.limits()

    def limits(self) -> Dict[str, Any]:
        """``{"cpu": CPUs or None, "memory": bytes or None}``; ValueError for a CPU limit outside 0.05 to the
        machine's CPUs, or a memory limit below 64 MiB or above the machine's memory."""


        cpu = memory = None
        if self.cpu_limit is not None:
            try:
                cpu = float(self.cpu_limit)
            except (TypeError, ValueError):
                raise ValueError(f"cpu_limit must be a number of CPUs like 0.5, got {self.cpu_limit!r}") from None
            cpus = os.cpu_count() or 1
            if not 0.05 <= cpu <= cpus:
                raise ValueError(f"cpu_limit must be 0.05-{cpus} CPUs (this machine has {cpus}), got {self.cpu_limit!r}")
        if self.memory_limit is not None:
            try:
                memory = parse_size(self.memory_limit, "memory_limit")
            except Exception as exc:
                raise ValueError(str(exc)) from None
            total = int(psutil.virtual_memory().total)
            if not 64 * 2**20 <= memory <= total:
                raise ValueError(f"memory_limit must be 64M to this machine's {total // 2**20}M, got {self.memory_limit!r}")
        return {"cpu": cpu, "memory": memory}

    def all_ports(self) -> Dict[str, int]:
        """Every port the lab will listen on, by service name (``trader_1``, ``redis_1``: the replicas')."""
        ports = self.ports.as_dict()
        for i, (api, route) in enumerate(self.replica_ports, start=1):
            ports[f"trader_{i}"], ports[f"redis_{i}"] = api, route
        return ports

    def public(self) -> Dict[str, Any]:
        """The config without secrets (the api key is reduced to whether one is set)."""
        return {
            "lab_dir": str(self.lab_dir),
            "runtime": self.runtime,
            "profile": self.profile,
            "ports": self.ports.as_dict(),
            "defects": sorted(self.defects),
            "api_key_required": bool(self.api_key),
            "mode": self.mode,
            "images": dict(self.images),
            "replicas": self.replicas,
            "replica_ports": [list(p) for p in self.replica_ports],
            "limits": self.limits(),
        }


#: The sizes a lab Postgres' own data volume may have (MiB): a cluster needs about 40.
MIN_VOLUME_MB = 96
MAX_VOLUME_MB = 4096


def clock_file(lab_dir: Path, trader: str = "trader") -> Path:
    """The clock file a lab trader started with ``fake_clock`` reads its wall clock from (``CLOCK_FILE`` for
    the clock drills)."""
    return Path(lab_dir) / "clock" / f"{trader}.offset"
