"""The lab's state file, ``<lab_dir>/lab.json``: what runs, where, and how to restart it; and
:func:`lab_for`, the one function that decides whether a lab describes a drill's target.

Written by the lab runtime on ``aitrapp-chaos lab up``; the format lives here, with the targets,
because the extension reads it (the lab is a consumer of :mod:`chaosaitrapp.targets`, never the
other way round). It never holds a secret: the API key, if any, is passed to the trader's
environment at spawn time only, and the database URL is stored without password.

Nothing but :func:`lab_for` may decide that a drill runs against the lab: target resolution
(``auto``), the checkers' timing limits, the rollback settle time, the Redis URL of the lock probe
and the database of the SQL checks all ask it. A lab state file alone is not enough: its API must
be the drill's API and its trader must be alive; otherwise the drill behaves as against a real
deployment.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit, urlunsplit

from chaosaitrapp.paths import lab_dir
from chaosaitrapp.targets.process import read_pid_quietly, runs_command

STATE_FILE = "lab.json"


@dataclass
class ServiceSpec:
    """How one lab service runs and is restarted.

    ``kind`` is ``process`` (``pidfile`` + ``argv``, started in ``cwd`` with ``env`` and its
    output appended to ``log``) or ``docker`` (``container``, a container name). ``check``
    says how to tell the service answers: ``redis``, ``postgres`` or ``http``.
    """

    name: str
    kind: str
    host: str
    port: int
    check: str
    pidfile: Optional[str] = None
    argv: Optional[List[str]] = None
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Optional[str] = None
    log: Optional[str] = None
    container: Optional[str] = None


@dataclass
class LabState:
    """The whole lab as ``lab up`` left it."""

    runtime: str  # "process" or "docker"
    profile: str  # "fast" or "aitrapp"
    api: str  # e.g. http://127.0.0.1:8000
    redis_url: str  # redis://127.0.0.1:6379/0
    database_url: str  # postgresql://trader@127.0.0.1:5432/aitrapp (no password)
    services: Dict[str, ServiceSpec]
    defects: List[str] = field(default_factory=list)
    timings: Dict[str, float] = field(default_factory=dict)  # lock_ttl, refresh, backoff_max ...
    started_at: float = 0.0
    mode: str = "PAPER"  # the mode the trader was started in
    api_key_required: bool = False  # whether an API key was set (the key itself is never stored)
    lab_dir: str = ""  # where this state lives
    ports: Dict[str, int] = field(default_factory=dict)  # the ports lab up was given, by name
    endpoints: Dict[str, str] = field(default_factory=dict)  # kite_root, kite_ticker_root, kite_api_key, broker_proxy
    # every trader instance: {"name": "r0", "api", "service": "trader", "redis_route": "redis", "instance_id"}
    replicas: List[Dict[str, str]] = field(default_factory=list)
    # each trader's own cgroup when lab up was given --cpu-limit/--memory-limit: {service: to_dict(cgroup)}
    cgroups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    limits: Dict[str, Any] = field(default_factory=dict)  # {"cpu": 0.5, "memory": bytes}; None: unlimited

    def to_json(self) -> str:
        """Serialise to the JSON stored in ``lab.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LabState":
        """Parse ``lab.json`` text."""
        raw = json.loads(text)
        raw["services"] = {k: ServiceSpec(**v) for k, v in raw["services"].items()}
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known})


def state_path(directory: Optional[Path] = None) -> Path:
    """Path of ``lab.json`` in ``directory`` (default: :func:`chaosaitrapp.paths.lab_dir`)."""
    return (directory or lab_dir()) / STATE_FILE


def load_state(directory: Optional[Path] = None) -> Optional[LabState]:
    """The lab state, or ``None`` when no lab is up in ``directory``."""
    path = state_path(directory)
    if not path.exists():
        return None
    return LabState.from_json(path.read_text())


def save_state(state: LabState, directory: Optional[Path] = None) -> Path:
    """Write ``lab.json`` atomically and return its path."""
    path = state_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, path)
    return path


def clear_state(directory: Optional[Path] = None) -> None:
    """Remove ``lab.json`` (after ``lab down``)."""
    state_path(directory).unlink(missing_ok=True)


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def same_api(a: str, b: str) -> bool:
    """True when two API URLs name the same service: same scheme and port, and the same host, every
    loopback name (``localhost``, ``127.0.0.1``, ``::1``) counting as one."""
    pa, pb = urlsplit(str(a)), urlsplit(str(b))
    if pa.scheme != pb.scheme:
        return False
    default = {"http": 80, "https": 443}.get(pa.scheme)
    try:
        ports = (pa.port or default, pb.port or default)
    except ValueError:
        return False
    hosts = [(h or "").lower() for h in (pa.hostname, pb.hostname)]
    hosts = ["loopback" if h in _LOOPBACK or h.startswith("127.") else h for h in hosts]
    return ports[0] == ports[1] and hosts[0] == hosts[1]


def trader_alive(state: LabState) -> bool:
    """True when the lab's trader process (its pidfile's pid, running the trader's command) lives."""
    spec = state.services.get("trader")
    if spec is None or spec.kind != "process" or not spec.pidfile:
        return False
    pid = read_pid_quietly(Path(spec.pidfile))
    return pid is not None and runs_command(pid, spec.argv or [])


_DECIDED: Dict[Tuple[str, int, str], Optional[LabState]] = {}


def lab_for(api: str, directory: Optional[Path] = None) -> Optional[LabState]:
    """The lab that *is* the target at ``api``, or None (then behave as against a real deployment).

    A lab describes the target when ``lab.json`` exists in ``directory`` (default
    :func:`chaosaitrapp.paths.lab_dir`), its API is ``api`` (:func:`same_api`) and its trader is
    alive. The answer is kept for the life of the process while ``lab.json`` stays the same file,
    so a drill that stops the lab's Redis (or whose trader dies mid-drill) still rolls back the
    lab's Redis and not some container.
    """
    path = state_path(directory)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    key = (str(path), mtime, str(api))
    if key not in _DECIDED:
        try:
            state: Optional[LabState] = LabState.from_json(path.read_text())
        except (OSError, ValueError, TypeError, KeyError):
            state = None
        if state is not None and not (same_api(state.api, api) and trader_alive(state)):
            state = None
        _DECIDED[key] = state
    return _DECIDED[key]


def forget_lab_decisions() -> None:
    """Drop the answers :func:`lab_for` keeps (for tests that bring labs up and down in one process)."""
    _DECIDED.clear()


DEFAULT_DB_PASSWORD = "trader"  # the compose file's default


def lab_db_password() -> str:
    """The lab database password: ``$AITRAPP_LAB_DB_PASSWORD``, else the compose file's ``trader``."""
    return os.environ.get("AITRAPP_LAB_DB_PASSWORD") or DEFAULT_DB_PASSWORD


def lab_database_url(state: LabState) -> str:
    """The lab's full database URL with its password (:func:`lab_db_password`), assembled in memory only."""
    parts = urlsplit(state.database_url)
    netloc = f"{parts.username or ''}:{quote(lab_db_password(), safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
