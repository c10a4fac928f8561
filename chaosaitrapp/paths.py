"""Where chaosaitrapp keeps its state: the lab, the fault ledger, the reports.

Everything is under one state directory, ``$AITRAPP_CHAOS_STATE`` (default
``~/.local/state/chaosaitrapp``), so tests can give each run a directory of its own.
Evidence goes under ``$AITRAPP_REPORTS_DIR`` (default ``reports/chaos`` in the
current directory, the seed's location).
"""
from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """The root state directory (created on demand by whoever writes into it)."""
    env = os.environ.get("AITRAPP_CHAOS_STATE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "chaosaitrapp"


def lab_dir() -> Path:
    """The lab's state directory: pidfiles, logs, data directories and ``lab.json``."""
    env = os.environ.get("AITRAPP_LAB_DIR")
    return Path(env).expanduser() if env else state_dir() / "lab"


def ledger_path() -> Path:
    """The durable fault ledger (JSON) shared by every drill on this machine."""
    return state_dir() / "ledger.json"


def reports_dir() -> Path:
    """Where drills write evidence: ``reports/chaos`` unless ``AITRAPP_REPORTS_DIR`` says otherwise."""
    env = os.environ.get("AITRAPP_REPORTS_DIR")
    return Path(env).expanduser() if env else Path.cwd() / "reports" / "chaos"
