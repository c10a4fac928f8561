"""What happened to the target's market-data feed during a broker fault, and what it did meanwhile.

They read the samples (``md_connected``, ``md_hb``), the events (faults, restores, order bursts) and the
broker fault proxy's records the evidence control gathers at the end (:mod:`chaosaitrapp.broker.evidence`):

- ``no_order_on_stale_feed``: no order placement reached the broker while the feed was dead by any of
  three witnesses (:func:`stale_windows`): the proxy cut it, the target said ``marketdata_connected:
  false``, or the market-data heartbeat was at or past ``heartbeat_max``; when orders were offered meanwhile;
- ``md_disconnect_seen``: after the fault, ``/state`` ``marketdata_connected`` read false at least once
  (a closed socket is noticed);
- ``feed_resubscribed``: after the restore, a tick reached the target for every instrument it had
  subscribed before the fault (the proxy's subscriptions when the first fault came, and those made
  since; a reconnect without resubscribing leaves the socket up and silent).

A check that lacks its evidence (no broker records, no stale window with orders offered in it) says
``unknown``, naming what is missing, never ``pass``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from chaosaitrapp.checks.broker import no_broker_evidence
from chaosaitrapp.checks.events import fault_ref, restore_began_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import FAULT_EVENTS, Timeline, number

# ---- no order on a stale feed ---------------------------------------------------------------------

#: The trip of a placement from the target's decision to the proxy, at most.
STALE_MARGIN_S = 0.05
#: Proxy faults that cut the target's feed: those that close or refuse its socket (dead at once, and the
#: target's ticker is told) and those that silence it (noticed only once the heartbeat passes its limit).
FEED_CLOSING = frozenset({"ws_close", "ws_refuse"})
FEED_SILENCING = frozenset({"ws_stall", "partition"})
#: Proxy faults that act once, with no lease to clear.
INSTANT_FAULTS = frozenset({"ws_close", "ws_drop_subscriptions"})


def _merge(windows: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
    merged: List[Tuple[float, float]] = []
    for a, b in sorted(w for w in windows if w[1] > w[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _runs(timeline: Timeline, start_of: Callable[[Dict[str, Any]], Optional[float]]) -> List[Tuple[float, float]]:
    """``(start, end)`` of each run of samples for which ``start_of`` gives a start (None ends a run): the run's
    first sample's start, to its last sample's ``t``; empty windows dropped."""
    windows: List[Tuple[float, float]] = []
    start: Optional[float] = None
    last: Optional[float] = None
    for sample in timeline.samples:
        begins = start_of(sample)
        if begins is not None:
            start = begins if start is None else start
            last = float(sample["t"])
        elif start is not None and last is not None:
            windows.append((start, last))
            start = last = None
    if start is not None and last is not None:
        windows.append((start, last))
    return [(a, b) for a, b in windows if b > a]


def _read_s(sample: Dict[str, Any]) -> float:
    return (number(sample.get("latency_ms")) or 0.0) / 1000.0


def heartbeat_windows(timeline: Timeline, heartbeat_max: float) -> List[Tuple[float, float]]:
    """The heartbeat's witness: runs of samples whose market-data heartbeat age was at or past
    ``heartbeat_max`` (a sample without the age ends a run). ``start`` is when the age crossed the limit,
    from the run's first sample (its ``t`` plus the time its reads took, minus how far past the limit the
    age already was), plus :data:`STALE_MARGIN_S` for the trip from the target to the proxy; ``end`` is the
    run's last sample (the feed was still stale when it was read, so no placement before it came after a
    fresh tick)."""
    def start_of(sample: Dict[str, Any]) -> Optional[float]:
        age = number(sample.get("md_hb"))
        if age is None or age < heartbeat_max:
            return None
        return float(sample["t"]) + _read_s(sample) - (age - heartbeat_max) + STALE_MARGIN_S

    return _runs(timeline, start_of)


def disconnected_windows(timeline: Timeline) -> List[Tuple[float, float]]:
    """The target's own witness: runs of samples in which ``/state`` said ``marketdata_connected: false``,
    from the first (plus its read time and :data:`STALE_MARGIN_S`) to the last."""
    return _runs(timeline, lambda sample: float(sample["t"]) + _read_s(sample) + STALE_MARGIN_S
                 if sample.get("md_connected") is False else None)


def cut_windows(timeline: Timeline, heartbeat_max: float) -> List[Tuple[float, float]]:
    """The proxy's witness: from a fault that cut the target's feed (:data:`FEED_CLOSING`: from its instant
    plus :data:`STALE_MARGIN_S`; :data:`FEED_SILENCING`: a silent socket can only be noticed by its heartbeat,
    so from its instant plus ``heartbeat_max``) to the first tick the target got again: once every lasting
    feed fault was cleared, or on a socket it opened after the cut. A cut with no tick after it lasts to
    the end of the drill. A partition limited to one instance's REST calls does not cut the feed."""
    windows: List[Tuple[float, float]] = []
    start: Optional[float] = None
    active: Set[str] = set()
    reopened: Set[Any] = set()
    for record in timeline.broker_records():
        what, t = record.get("what"), float(record["t"])
        kind = record.get("fault")
        if what == "fault" and (kind in FEED_CLOSING or kind in FEED_SILENCING):
            if kind == "partition" and (record.get("params") or {}).get("instance"):
                continue
            if kind not in INSTANT_FAULTS:
                active.add(str(record.get("id")))
            begins = t + (STALE_MARGIN_S if kind in FEED_CLOSING else heartbeat_max)
            if start is None:
                start, reopened = begins, set()
            else:
                start = min(start, begins)
        elif what == "fault_cleared":
            active.discard(str(record.get("id")))
        elif what == "ws_open" and start is not None:
            reopened.add(record.get("sid"))
        elif what == "ws_tick" and start is not None and (not active or record.get("sid") in reopened):
            windows.append((start, t))
            start = None
    if start is not None:
        windows.append((start, math.inf))
    return [(a, b) for a, b in windows if b > a]


def stale_windows(timeline: Timeline, heartbeat_max: float) -> Dict[str, List[Tuple[float, float]]]:
    """``{witness: [(start, end)]}``: the stretches in which the market-data feed was dead, by each witness
    that saw one: ``proxy`` (:func:`cut_windows`), ``target`` (:func:`disconnected_windows`), ``heartbeat``
    (:func:`heartbeat_windows`). A feed fed by something other than ticks (a simulator keeping the
    heartbeat fresh) is still seen dead by the other two."""
    found = {"proxy": cut_windows(timeline, heartbeat_max), "target": disconnected_windows(timeline),
             "heartbeat": heartbeat_windows(timeline, heartbeat_max)}
    return {k: v for k, v in found.items() if v}


def no_order_on_stale_feed(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order placement reached the broker while the feed was dead by any witness (module
    docstring)."""
    name = "no_order_on_stale_feed"
    missing = no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    witnessed = stale_windows(timeline, limits.heartbeat_max)
    if not witnessed:
        return CheckResult(name, "unknown", "no witness saw the feed dead (no feed fault at the proxy, "
                           "marketdata_connected never false, the market-data heartbeat never reached "
                           f"{secs(limits.heartbeat_max)})")
    windows = _merge([w for ws in witnessed.values() for w in ws])
    end_of_drill = max([float(r["t"]) for r in timeline.broker_records()] + [float(s["t"]) for s in timeline.samples])
    windows = [(a, min(b, end_of_drill)) for a, b in windows]
    by = ", ".join(sorted(witnessed))
    offered = [e for e in timeline.events_named(*FAULT_EVENTS) if e.get("target") == "orders"
               and any(a - STALE_MARGIN_S <= float(e["t"]) <= b for a, b in windows)]
    inside = [r for r in timeline.broker_records("order") if any(a <= float(r["t"]) <= b for a, b in windows)]
    stale_s = sum(b - a for a, b in windows)
    if inside:
        first = inside[0]
        seen_by = [w for w, ws in witnessed.items() if any(a <= float(first["t"]) <= b for a, b in ws)]
        return CheckResult(name, "fail", f"{len(inside)} order placement(s) reached the broker while the feed was "
                           f"dead, the first at t={float(first['t']):.2f} (tag {first.get('tag')}; dead by "
                           f"{', '.join(sorted(seen_by))}): trading on a dead feed", float(len(inside)), 0.0)
    if not offered:
        return CheckResult(name, "unknown", f"no order was offered while the feed was dead ({secs(stale_s)} "
                           f"over the drill, by {by}): nothing to judge", 0.0, 0.0)
    end = max(b for _, b in windows)
    later = [float(r["t"]) for r in timeline.broker_records("order") if float(r["t"]) > end]
    after = f"; the first placement came {secs(later[0] - end)} after the feed was alive" if later else ""
    return CheckResult(name, "pass", f"orders offered during {secs(stale_s)} of dead feed (by {by}); none reached "
                       f"the broker until it was alive{after}", 0.0, 0.0)


# ---- the market-data socket -----------------------------------------------------------------------

def md_disconnect_seen(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when ``marketdata_connected`` never read false after the fault (module docstring)."""
    name = "md_disconnect_seen"
    fault = fault_ref(timeline)
    if fault is None:
        return CheckResult(name, "unknown", "no fault event in the timeline")
    after = [(t, v) for t, v in timeline.series("md_connected") if t >= fault.t and isinstance(v, bool)]
    if not after:
        return CheckResult(name, "unknown", f"no sample read /state marketdata_connected after {fault.label}")
    first = next((t for t, v in after if v is False), None)
    if first is None:
        return CheckResult(name, "fail", f"marketdata_connected stayed true on all {len(after)} samples after "
                           f"{fault.label}: the target did not notice its feed was closed", None, limits.detect_s)
    return CheckResult(name, "pass", f"marketdata_connected false {secs(first - fault.t)} after {fault.label}",
                       round(first - fault.t, 3), limits.detect_s)


def resubscription(records: List[Dict[str, Any]], fault_t: float,
                   restore_t: float) -> Tuple[Set[int], Dict[int, float]]:
    """From the broker proxy's records (``what``, ``t``; in time order), the instruments the target's ticker
    sockets had subscribed when the first fault came (``t`` < ``fault_t``) and ``{instrument: t}`` of the
    first tick of each instrument the target got again: at or after ``restore_t``, or on a socket it
    opened after the fault began (a target that noticed a stalled socket, left it and subscribed again
    on a new one streams again before the stall is lifted). One reading for :func:`feed_resubscribed`
    and the drill's wait (:func:`chaosaitrapp.broker.probes.wait_feed_resubscribed`)."""
    subscribed: Set[int] = set()
    faults = [r for r in records if r.get("what") == "fault"]
    if faults:  # what the open sockets had subscribed when the first fault came
        subscribed = {int(t) for t in faults[0].get("subscribed") or []}
    for record in records:
        if record.get("what") not in ("ws_subscribe", "ws_unsubscribe"):
            continue
        if float(record["t"]) >= fault_t:
            break
        tokens = {int(t) for t in record.get("tokens") or []}
        subscribed = subscribed | tokens if record.get("what") == "ws_subscribe" else subscribed - tokens
    reopened = {r.get("sid") for r in records if r.get("what") == "ws_open" and float(r["t"]) >= fault_t}
    ticked: Dict[int, float] = {}
    for record in records:
        if record.get("what") != "ws_tick":
            continue
        t = float(record["t"])
        token = int(record.get("token", -1))
        if (t >= restore_t or record.get("sid") in reopened) and token not in ticked:
            ticked[token] = t
    return subscribed, ticked


def feed_resubscribed(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when, after the restore, some instrument subscribed before the fault never ticked again."""
    name = "feed_resubscribed"
    missing = no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    fault = fault_ref(timeline)
    if fault is None:
        return CheckResult(name, "unknown", "no fault event in the timeline")
    restore = restore_began_ref(timeline) or fault
    subscribed, ticked = resubscription(timeline.broker or [], fault.t, restore.t)
    if not subscribed:
        return CheckResult(name, "unknown", "the proxy saw no subscription before the fault: nothing to "
                           "resubscribe (was the sampler started after the ticker connected?)")
    missing_tokens = sorted(subscribed - set(ticked))
    if missing_tokens:
        return CheckResult(name, "fail", f"after {restore.label} no tick reached the target for "
                           f"{len(missing_tokens)} of {len(subscribed)} subscribed instrument(s) "
                           f"({missing_tokens[:6]}): it did not resubscribe", float(len(missing_tokens)), 0.0)
    last = max(ticked[t] for t in subscribed)
    when = f"{secs(last - restore.t)} after {restore.label}" if last >= restore.t else \
        f"on a socket the target opened itself, {secs(restore.t - last)} before {restore.label}"
    return CheckResult(name, "pass", f"all {len(subscribed)} subscribed instruments ticked again, the last {when}",
                       round(max(0.0, last - restore.t), 3), 0.0)
