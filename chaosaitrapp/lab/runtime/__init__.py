"""The lab runtime: start, stop and inspect the lab (Redis, Postgres, broker simulator, trader).

Public API::

    lab_up(config: LabConfig) -> LabState
    lab_down(lab_dir: Path) -> None
    lab_status(lab_dir: Path) -> dict
    lab_logs(lab_dir: Path, service: str, lines: int = 50) -> str
"""
from chaosaitrapp.lab.runtime.config import LabConfig, LabPorts
from chaosaitrapp.lab.runtime.lifecycle import lab_down, lab_logs, lab_status, lab_up

__all__ = ["LabConfig", "LabPorts", "lab_up", "lab_down", "lab_status", "lab_logs"]
