"""The lab's state file, ``<lab_dir>/lab.json``: what runs, where, and how to restart it.

Written by the lab runtime on ``aitrapp-chaos lab up`` and read by the ``lab:`` target driver
and by ``auto`` target resolution. It never holds a secret: the API key, if any, is passed to
the trader's environment at spawn time only, and the database URL is stored without password.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from chaosaitrapp.paths import lab_dir

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
