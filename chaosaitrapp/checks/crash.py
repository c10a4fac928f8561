"""The crash check: after the trader was killed at a crash point and started again, it converged to the broker's
truth: no order of the drill left in doubt (PENDING at the trader, or held by the broker and unknown to it or
refused by it) within the deadline.

Read from the timeline: the crash (a ``fault_injected`` event of the ``trader`` dependency), the restart
(``restored``: ``stale_key_ms`` when the lock key still held the dead trader's grant), the drill's watch after
it (``reconciled``: ``reconciled_s``, ``in_doubt_max``; or ``reconcile_timeout``: ``in_doubt``), leadership back
(``leader_back``), and at the end the trader's ``/orders`` against the broker proxy's history (the ``orders``
and ``broker`` records), which must agree: an order the broker holds is OPEN or COMPLETE at the trader.
"""
from __future__ import annotations

from typing import Collection, Dict, List, Mapping, Optional

from chaosaitrapp.checks.broker import REFUSED, UNSETTLED, placements
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline, number
from chaosaitrapp.orderids import tags_of


def _crash(timeline: Timeline) -> Optional[Dict]:
    return next((e for e in timeline.events_named("fault_injected") if e.get("dependency") == "trader"
                 and e.get("fault_name") == "crash"), None)


def in_doubt(orders: List[Dict], accepted: Mapping[str, Collection[str]], prefix: str, *, pending: bool = True) -> List[str]:
    """The drill's orders (``client_order_id`` starting with ``prefix``) whose fate the trader does not know, given
    its ``orders`` (``client_order_id``, ``status``) and the broker's order ids by tag (``accepted``): an order the
    broker holds that the trader lists not at all, as unsettled or as refused; with ``pending``, every unsettled one
    (the broker may hold it yet)."""
    mine = {str(o.get("client_order_id")): str(o.get("status") or "").upper() for o in orders
            if isinstance(o, dict) and str(o.get("client_order_id", "")).startswith(prefix)}
    doubt = []
    for client_order_id, status in sorted(mine.items()):
        held = any(tag in accepted for tag in tags_of(client_order_id))
        if (status in UNSETTLED and (pending or held)) or (status in REFUSED and held):
            doubt.append(f"{client_order_id} held by the broker, {status} at the trader" if held
                         else f"{client_order_id} {status} at the trader")
    known = {tag for client_order_id in mine for tag in tags_of(client_order_id)}
    doubt += [f"{tag} held by the broker, unknown to the trader" for tag in sorted(accepted)
              if tag not in known and tag.startswith(prefix)]
    return doubt


def _end_doubt(timeline: Timeline) -> Optional[List[str]]:
    """:func:`in_doubt` of the orders the broker holds, at the end (the trader's final ``/orders``, the broker proxy's
    history); None when either side was not read."""
    record = timeline.orders or {}
    listed = record.get("orders")
    if timeline.broker is None or not isinstance(listed, list):
        return None
    return in_doubt(listed, placements(timeline)[0], str(record.get("prefix") or ""), pending=False)


def _resent(timeline: Timeline) -> int:
    """How many of the drill's tags the broker accepted more than once."""
    prefix = str((timeline.orders or {}).get("prefix") or "")
    return sum(1 for tag, ids in placements(timeline)[0].items() if len(ids) > 1 and tag.startswith(prefix))


def orders_reconciled(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when orders of the drill stayed in doubt past the deadline after the restart, or the trader's final
    view disagrees with what the broker holds; unknown without a crash, without the watch after the restart, or
    without the broker's history and the trader's orders at the end (module docstring)."""
    name = "orders_reconciled"
    crash = _crash(timeline)
    if crash is None:
        return CheckResult(name, "unknown", "the trader was not killed in this run (no crash fault_injected event)")
    restored = next((e for e in timeline.events_named("restored") if e.get("dependency") == "trader"), None)
    figures: Dict[str, float] = {"resent": float(_resent(timeline))}
    if restored is not None and number(restored.get("stale_key_ms")) is not None:
        figures["stale_key_s"] = round(float(restored["stale_key_ms"]) / 1000.0, 3)
    back = timeline.first_event("leader_back")
    if back is not None and number(back.get("leader_back_s")) is not None:
        figures["leader_back_s"] = float(back["leader_back_s"])
    watched = timeline.first_event("reconciled", "reconcile_timeout")
    if watched is None:
        return CheckResult(name, "unknown", "the orders were not watched after the restart (no reconciled or "
                           "reconcile_timeout event)", figures=figures)
    figures["orders_in_doubt_max"] = float(watched.get("in_doubt_max") or 0)
    point = crash.get("point") or "?"
    if watched["event"] == "reconcile_timeout":
        left = list(watched.get("in_doubt") or [])
        return CheckResult(name, "fail", f"{len(left)} order(s) still in doubt {secs(float(watched.get('timeout_s') or 0))} "
                           f"after the trader was restarted from a crash at {point}: " + "; ".join(left[:3])
                           + (" ..." if len(left) > 3 else "") + " (the trader never adopted the broker's truth)",
                           float(len(left)), 0.0, figures)
    reconciled = float(watched.get("reconciled_s") or 0.0)
    figures["reconciled_s"] = reconciled
    end = _end_doubt(timeline)
    if end is None:
        return CheckResult(name, "unknown", "the broker's history or the trader's /orders was not read at the end",
                           reconciled, None, figures)
    if end:
        return CheckResult(name, "fail", f"{len(end)} order(s) the broker holds disagree with the trader at the end: "
                           + "; ".join(end[:3]), float(len(end)), 0.0, figures)
    return CheckResult(name, "pass", f"no order in doubt {secs(reconciled)} after the restart from a crash at {point} "
                       f"(at most {int(figures['orders_in_doubt_max'])} in doubt); the trader's orders agree with the "
                       "broker's at the end", reconciled, None, figures)
