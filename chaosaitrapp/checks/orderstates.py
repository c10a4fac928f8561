"""The order-state checks: after the broker said something other than "filled" of an order (pending then cancelled,
rejected after its 200, filled in parts, a change only an explicit question shows, a late fill), the trader's view
converged to the broker's, was never ahead of it, and its recorded fills equal the broker's.

The broker's truth is the script the broker fault proxy played for each order (:mod:`chaosaitrapp.kitestates`),
kept on its placement record (``script``: the states and the wall time the placement was answered), so the drill's
watch and these checks judge by the very states the trader was shown. An order agrees when its status at the
trader is of the broker's class (waiting, COMPLETE, CANCELLED, REJECTED) and its filled quantity is the broker's;
it is *ahead* when the trader shows a fill or an end the broker has not (more filled, or an end the broker is not
at).

Read from the timeline: the drill's watch (a ``converged`` or ``converge_timeout`` event: ``lag_s`` per order, the
first orders found ahead, ``in_doubt_max``, the fills the trader recorded in Postgres), and at the end the trader's
``/orders`` against the placements' scripts (the ``orders`` and ``broker`` records).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from chaosaitrapp import kitestates
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline
from chaosaitrapp.orderids import tags_of

#: Statuses a trader may use for each end (any other reads as still waiting at the broker).
ENDS = {"COMPLETE": ("COMPLETE", "FILLED", "EXECUTED"), "CANCELLED": ("CANCELLED", "CANCELED"),
        "REJECTED": ("REJECTED", "FAILED")}
WAITING = "waiting"


def trader_class(status: Any) -> str:
    """``COMPLETE``, ``CANCELLED``, ``REJECTED`` or ``waiting`` for a status the trader shows."""
    text = str(status or "").upper()
    return next((end for end, names in ENDS.items() if text in names), WAITING)


def broker_class(status: str) -> str:
    """The same classes for a Kite status."""
    return status if kitestates.is_final(status) else WAITING


def scripts_by_tag(records: List[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """The scripts of the placements the broker accepted (history records of kind/what ``order`` with ``script``),
    by tag (the last placement of a tag wins)."""
    return {str(r.get("tag") or ""): dict(r["script"]) for r in records
            if isinstance(r.get("script"), dict) and r.get("status") == 200}


def broker_state(script: Mapping[str, Any], at_wall: float) -> Tuple[str, int]:
    """``(status, filled)`` the broker shows of a scripted order at wall time ``at_wall``."""
    status, filled, _ = kitestates.state_at(script["states"], at_wall - float(script["answered_wall"]))
    return status, filled


def final_at(script: Mapping[str, Any]) -> float:
    """The wall time a scripted order reached its last state."""
    return float(script["answered_wall"]) + kitestates.settles_at(script["states"])


def script_of(client_order_id: str, scripts: Mapping[str, Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The broker's script of the order ``client_order_id`` (by any tag it may carry), or None."""
    return next((scripts[t] for t in tags_of(client_order_id) if t in scripts), None)


def compare(orders: List[Mapping[str, Any]], scripts: Mapping[str, Dict[str, Any]], prefix: str,
            before_wall: float, after_wall: float) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The drill's scripted orders (``client_order_id`` starting with ``prefix``) as the trader's ``orders`` show
    them, read between ``before_wall`` and ``after_wall``, against the broker's scripts: ``(disagreeing,
    ahead)``, each ``{client_order_id: what differs}``. An order agrees when it matches the broker at either
    instant (a change may fall inside the read); it is ahead when it shows more than the broker at the later."""
    disagreeing: Dict[str, str] = {}
    ahead: Dict[str, str] = {}
    for order in orders:
        client_order_id = str(order.get("client_order_id") or "")
        script = script_of(client_order_id, scripts) if client_order_id.startswith(prefix) else None
        if script is None:
            continue
        mine = trader_class(order.get("status"))
        raw_filled = order.get("filled_quantity")
        filled = None if raw_filled is None else int(raw_filled)
        views = [broker_state(script, at) for at in (before_wall, after_wall)]
        if any(mine == broker_class(s) and filled in (None, f) for s, f in views):
            continue
        status, broker_filled = views[-1]
        shown = f"{order.get('status')} {filled if filled is not None else '?'} filled"
        disagreeing[client_order_id] = f"{shown} at the trader, {status} {broker_filled} filled at the broker"
        if (filled or 0) > broker_filled or (mine != WAITING and mine != broker_class(status)):
            ahead[client_order_id] = disagreeing[client_order_id]
    return disagreeing, ahead


def _watch(timeline: Timeline) -> Optional[Dict[str, Any]]:
    return timeline.first_event("converged", "converge_timeout")


def _kind(watch: Mapping[str, Any]) -> str:
    return str(watch.get("state") or "?")


def _end_disagreements(timeline: Timeline) -> Optional[Dict[str, str]]:
    """The drill's scripted orders the trader's final ``/orders`` disagrees on with their broker's final state
    (None when either side was not read, or nothing was scripted)."""
    record = timeline.orders or {}
    listed = record.get("orders")
    scripts = scripts_by_tag(timeline.broker_records("order"))
    if not isinstance(listed, list) or not scripts:
        return None
    last = max(final_at(s) for s in scripts.values())
    return compare(listed, scripts, str(record.get("prefix") or ""), last, last)[0]


def orders_converged(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the trader was ever ahead of the broker (a fill or an end the broker had not made), when an order
    of the drill stayed at odds with the broker's final state past the deadline, or when its final view disagrees
    with the broker's; unknown without the drill's watch or without the evidence at the end (module docstring)."""
    name = "orders_converged"
    watch = _watch(timeline)
    if watch is None:
        return CheckResult(name, "unknown", "the orders were not watched against the broker's states (no converged "
                           "or converge_timeout event)")
    state = _kind(watch)
    figures: Dict[str, float] = {"orders_in_doubt_max": float(watch.get("in_doubt_max") or 0)}
    lags = {str(k): float(v) for k, v in (watch.get("lag_s") or {}).items()}
    if lags:
        figures["converged_s"] = max(lags.values())
    ahead = list(watch.get("ahead") or [])
    if ahead:
        return CheckResult(name, "fail", f"{len(ahead)} order(s) ahead of the broker under {state}: "
                           + "; ".join(ahead[:3]) + " (the trader recorded what the broker never said)",
                           float(len(ahead)), 0.0, figures)
    limit = float(watch.get("timeout_s") or 0)
    if not watch.get("watched"):
        return CheckResult(name, "unknown", f"no order of the drill was scripted by the broker ({state}): the "
                           "placements did not pass the broker fault proxy while the fault was active (a trader that "
                           "fills PAPER orders itself sends none)", None, None, figures)
    if watch["event"] == "converge_timeout":
        left = list(watch.get("in_doubt") or [])
        return CheckResult(name, "fail", f"{len(left)} order(s) still at odds with the broker {secs(limit)} after its "
                           f"last word under {state}: " + "; ".join(left[:3]) + (" ..." if len(left) > 3 else ""),
                           float(len(left)), 0.0, figures)
    end = _end_disagreements(timeline)
    if end is None:
        return CheckResult(name, "unknown", "the trader's /orders or the broker's history was not read at the end",
                           figures["converged_s"], limit or None, figures)
    if end:
        return CheckResult(name, "fail", f"{len(end)} order(s) disagree with the broker at the end: "
                           + "; ".join(f"{k}: {v}" for k, v in sorted(end.items())[:3]), float(len(end)), 0.0, figures)
    return CheckResult(name, "pass", f"{len(lags)} order(s) under {state}: the trader agreed with the broker's last "
                       f"word within {secs(figures['converged_s'])} (at most {int(figures['orders_in_doubt_max'])} at "
                       "odds at once), never ahead of it", figures["converged_s"], limit or None, figures)


def positions_match_fills(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the fills the trader recorded for an order of the drill (its trades in Postgres) differ from what
    the broker filled; unknown without the trades (no database URL) or without the broker's scripts."""
    name = "positions_match_fills"
    watch = _watch(timeline)
    if watch is None:
        return CheckResult(name, "unknown", "the orders were not watched (no converged or converge_timeout event)")
    recorded = watch.get("fills")
    if not isinstance(recorded, dict):
        why = watch.get("fills_error") or "no database URL (DATABASE_URL) to read its trades from"
        return CheckResult(name, "unknown", f"the trader's fills were not read: {why}")
    scripts = scripts_by_tag(timeline.broker_records("order"))
    prefix = str((timeline.orders or {}).get("prefix") or watch.get("prefix") or "")
    mine = sorted(str(k) for k in (watch.get("watched") or []) if str(k).startswith(prefix))
    if not scripts or not mine:
        return CheckResult(name, "unknown", "no scripted order of the drill to compare fills with")
    wrong = []
    for client_order_id in mine:
        script = script_of(client_order_id, scripts)
        if script is None:
            continue
        broker_filled = int(script["states"][-1][2])
        got = int(recorded.get(client_order_id) or 0)
        if got != broker_filled:
            wrong.append(f"{client_order_id}: {got} recorded filled, the broker filled {broker_filled}")
    if wrong:
        return CheckResult(name, "fail", f"{len(wrong)} order(s) whose recorded fills differ from the broker's under "
                           f"{_kind(watch)}: " + "; ".join(wrong[:3]) + " (the position is wrong by as much)",
                           float(len(wrong)), 0.0)
    return CheckResult(name, "pass", f"the fills recorded for {len(mine)} order(s) equal the broker's "
                       f"({sum(int(recorded.get(k) or 0) for k in mine)} filled in all)", 0.0, 0.0)
