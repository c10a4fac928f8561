"""What the split-brain drills record: the sampler reads the replica that leads at the start (the one the fault
will hit) and every other replica's leader gauge (:func:`plan`); after the run, the order history the
checkers judge is written next to the timeline, one placement per line (:func:`write_history`)."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.checks.split_brain import history_of
from chaosaitrapp.checks.timeline import load_timeline
from chaosaitrapp.deployment.replicas import leader_values, replicas_of, the_leader
from chaosaitrapp.evidence.sampler import SamplerPlan
from chaosaitrapp.replicas.family import FAMILY


def plan(current: SamplerPlan, configuration: Configuration, secrets: Secrets) -> SamplerPlan:
    """Sample the replica that leads at the drill's start (``r0``, the drill's ``API``, when none leads
    alone), and read the others' leader gauges on every sample."""
    replicas = replicas_of(configuration)
    name = the_leader(leader_values(replicas, configuration, secrets, timeout=2.0)) or replicas[0].name
    leader = next(r for r in replicas if r.name == name)
    current.client = current.client.fork(api=leader.api)
    current.name = leader.name
    current.others = [(r.name, r.api) for r in replicas if r.name != name]
    current.meta.update(replicas=[leader.name] + [n for n, _ in current.others], sampled_replica=leader.name,
                        sampled_api=leader.api)
    return current


#: The fields of a placement in the history file (docs/internals.md), besides ``dropped``.
HISTORY_FIELDS = ("t", "instance", "fence", "tag", "status", "order_id")


def write_history(run: Any, configuration: Configuration, secrets: Secrets) -> Optional[Dict[str, Any]]:
    """For a split-brain drill whose broker history was collected, the order history the checkers judge,
    one placement per line, next to the timeline (``<prefix>.history.jsonl``); None otherwise. A failure to
    write it is noted (the checks read the timeline itself; the file is for people)."""
    if not set(run.fault_kinds) & {kind.name for kind in FAMILY.kinds}:
        return None
    try:
        timeline = load_timeline(run.path(".timeline.jsonl"))
        if timeline.broker is None:
            return None
        path = run.path(".history.jsonl")
        path.write_text("".join(json.dumps({**{k: p.get(k) for k in HISTORY_FIELDS}, "dropped": bool(p.get("dropped"))},
                                           sort_keys=True) + "\n" for p in history_of(timeline)))
        return {"files": {"history": str(path)}}
    except Exception as exc:  # noqa: BLE001 - reported in the evidence, never fatal
        run.note(f"the order history could not be written: {type(exc).__name__}: {exc}")
        return None
