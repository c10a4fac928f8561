"""Which of a drill's probes share one reading of the target (:func:`chaosaitrapp.api.client.take_reading`).

A reading is the target's /ready, /state, /metrics and /health read at once. A steady state takes one; a probe
of the method that reads the API, with no current reading, takes one at its first read of the target. Each
activity's first read of a path is answered from the current reading; it stops being current at an action, a pause, any newer read of the
API by the probes' thread, or when it is a second old. So probes that follow one another with nothing between
them (the snapshot after the steady state; after a recovery, the leader, pause and snapshot checks) cost one
answer's time together, and each still sees the target as it was after the last thing done to it.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp import registry
from chaosaitrapp.api.client import TraderClient, arm_reading, begin_activity, forget_reading, reading_covers
from chaosaitrapp.evidence.observe import OBSERVED_PATHS

#: The modules whose probes read the API through :class:`chaosaitrapp.api.client.TraderClient`.
API_PROBE_MODULES = registry.CORE_ACTIVITY_MODULES + registry.EVIDENCE_ACTIVITY_MODULES


def begin_reading(run: Optional[Any], activity: Any, configuration: Configuration, secrets: Secrets) -> None:
    """An activity begins (the evidence control's ``before_activity_control``): nothing of the current reading
    is served in it yet; an action or an activity with a pause ends the reading; a probe of ours that reads the
    API, in the method (``run.method_started``, not a dry run), with no current reading, takes one at its first
    read of the target's API (:func:`chaosaitrapp.api.client.arm_reading`: a probe that reads only another
    replica, while this one is frozen, waits on nothing)."""
    activity = activity if isinstance(activity, dict) else {}
    action = activity.get("type") == "action"
    begin_activity(action or bool(activity.get("pauses")))
    provider: Dict[str, Any] = activity.get("provider") or {}
    if run is None or action or not run.method_started or run.dry or activity.get("type") != "probe" or \
            provider.get("type") != "python" or provider.get("module") not in API_PROBE_MODULES:
        return
    client = TraderClient.from_configuration(configuration, secrets)
    if not reading_covers(client, OBSERVED_PATHS):
        arm_reading(client, OBSERVED_PATHS)


def end_reading(activity: Any) -> None:
    """An activity ended (``after_activity_control``): a pause after it ends the current reading."""
    if isinstance(activity, dict) and (activity.get("pauses") or {}).get("after"):
        forget_reading()
