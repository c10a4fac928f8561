"""The deployment description the lab writes for itself on ``lab up`` (``<lab dir>/deployment.json``): the
same file a team writes for its own deployment, so that a drill against the lab reads what it would read
against any other target (:mod:`chaosaitrapp.description`). It holds no secret: the database URL without
its password (the lab target kind supplies that in memory: :func:`chaosaitrapp.targets.lab.lab_secrets`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from chaosaitrapp.description import Description, dump
from chaosaitrapp.targets.lab import DESCRIPTION_FILE
from chaosaitrapp.targets.labstate import LabState


def lab_description(state: LabState) -> Description:
    """The description of the lab ``state`` records."""
    timings = state.timings
    replicas = state.replicas or []
    values: Dict[str, Any] = {
        "api": state.api,
        "redis_target": "lab:redis",
        "postgres_target": "lab:postgres",
        "broker_proxy": state.endpoints.get("broker_proxy"),
        "broker_proxy_target": "lab:broker_proxy",
        "net_proxy": state.endpoints.get("net_proxy"),
        "net_proxy_target": "lab:net_proxy",
        "target_process": "lab:trader",
        "lock_ttl": timings.get("lock_ttl"),
        "lock_refresh": timings.get("refresh"),
        "lock_backoff_max": timings.get("backoff_max"),
        "ticker_max_delay": timings.get("ticker_max_delay"),
        "lock_redis": state.redis_url,
        "orders_database": state.database_url,
    }
    if len(replicas) > 1:
        values.update(replicas=",".join(r["api"] for r in replicas[1:]),
                      replica_targets=",".join(f"lab:{r['service']}" for r in replicas),
                      replica_redis_routes=",".join(r["redis_route"] for r in replicas))
    if replicas and all(r.get("instance_id") for r in replicas):
        values["replica_instance_ids"] = ",".join(r["instance_id"] for r in replicas)
    return Description({k: v for k, v in values.items() if v is not None}, provider="lab")


def write_lab_description(state: LabState, lab_dir: Path) -> Path:
    """Write the lab's description into ``lab_dir``; returns its path."""
    return dump(lab_description(state), Path(lab_dir) / DESCRIPTION_FILE)


def remove_lab_description(lab_dir: Path) -> None:
    """Remove the lab's description (``lab down``)."""
    (Path(lab_dir) / DESCRIPTION_FILE).unlink(missing_ok=True)
