"""The reference instants checkers measure from: the fault, the restore, the burst.

- fault: the first ``fault`` or ``fault_injected`` event (in practice ``fault``: the moment the
  drill began stopping the dependency, so detection times include the stop itself);
- restore: the last ``restored`` event after the fault (the dependency answers again), or the
  last ``restore`` event when no ``restored`` was recorded;
- burst: the first fault event whose detail is ``burst``, else the first fault event;
- restore began: the last ``restore`` event after the fault (the instant the undo was issued: what it
  lets through may arrive before its ``restored`` event is written), else the last ``restored``.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, NamedTuple, Optional

from chaosaitrapp.checks.timeline import FAULT_EVENTS, Timeline


class Ref(NamedTuple):
    """A reference instant ``t`` and how to name it in a reason (``label``)."""

    t: float
    label: str


def _label(event: dict) -> str:
    target = event.get("target")
    where = f" on {target}" if target else ""
    return f"the {event.get('event')} event{where} (t={float(event['t']):.2f})"


def fault_ref(timeline: Timeline) -> Optional[Ref]:
    """The first fault event, or None when the timeline has none."""
    event = timeline.first_event(*FAULT_EVENTS)
    return Ref(float(event["t"]), _label(event)) if event else None


def restore_ref(timeline: Timeline) -> Optional[Ref]:
    """The last ``restored`` event after the first fault (else the last ``restore``), or None."""
    fault = fault_ref(timeline)
    after = fault.t if fault else None
    for name in ("restored", "restore"):
        found = [e for e in timeline.events_named(name) if after is None or float(e["t"]) >= after]
        if found:
            return Ref(float(found[-1]["t"]), _label(found[-1]))
    return None


def restore_began(events: Iterable[Dict[str, Any]], fault_at: float, key: str = "t") -> Optional[Dict[str, Any]]:
    """The event at which the last restore after ``fault_at`` began (module docstring), comparing each
    event's ``key`` (``t`` on a timeline, ``wall`` in a running drill); None when there was none."""
    after = [e for e in events if float(e[key]) >= fault_at]
    for name in ("restore", "restored"):
        found = [e for e in after if e.get("event") == name]
        if found:
            return found[-1]
    return None


def restore_began_ref(timeline: Timeline) -> Optional[Ref]:
    """:func:`restore_began` on a timeline, after its first fault; None without a fault or a restore."""
    fault = fault_ref(timeline)
    event = restore_began(timeline.events, fault.t) if fault else None
    return Ref(float(event["t"]), _label(event)) if event else None


def burst_ref(timeline: Timeline) -> Optional[Ref]:
    """The first fault event with detail ``burst``, else the first fault event, or None."""
    for event in timeline.events_named(*FAULT_EVENTS):
        if event.get("detail") == "burst":
            return Ref(float(event["t"]), _label(event))
    return fault_ref(timeline)
