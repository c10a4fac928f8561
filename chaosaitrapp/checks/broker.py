"""What happened between the target and its broker during a broker fault.

They read the samples (``token_refreshes``, ``md_connected``, ``md_hb``), the events (faults,
restores, order bursts with the ids the target accepted) and the broker evidence the evidence
control gathers at the end (:mod:`chaosaitrapp.broker.evidence`: the fault proxy's ``broker``
records and the target's ``orders``):

- ``token_refresh_bounded``: the token-refresh count rose during the drill, by at least 1 and at most
  ``limits.max_token_refreshes`` (no refresh: the target never renewed its session; more: a storm);
- ``orders_exactly_once``: every order of the drill the target accepted is, at the end, either placed
  at the broker exactly once (one broker order id among the placements the proxy saw with its tag) or
  refused in a way the target reports (``REJECTED``, and then not at the broker): none lost silently
  (missing from ``/orders``; said placed but never accepted by the broker; still ``PENDING``), none
  duplicated (two broker order ids for one tag, or two rows in Postgres);
- ``no_order_on_stale_feed``: no order placement reached the broker while the market-data heartbeat
  was at or past ``heartbeat_max`` (the feed was dead), when orders were offered meanwhile;
- ``md_disconnect_seen``: after the fault, ``/state`` ``marketdata_connected`` read false at least once
  (a closed socket is noticed);
- ``feed_resubscribed``: after the restore, a tick reached the target for every instrument it had
  subscribed before the fault (the proxy's subscriptions when the first fault came, and those made
  since; a reconnect without resubscribing leaves the socket up and silent).

A check that lacks its evidence (no broker records, no order of the drill, no stale window with
orders offered in it) says ``unknown``, naming what is missing, never ``pass``.

An order is matched to its placements by Kite ``tag``: the ``client_order_id`` itself, or (Kite
allows 20 alphanumerics) the first 20 hex digits of its SHA-1 (:func:`order_tags`).
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Set, Tuple

from chaosaitrapp.checks.events import fault_ref, restore_began_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import FAULT_EVENTS, Timeline

#: Statuses of an order the target has neither placed nor refused yet.
UNSETTLED = frozenset({"PENDING", "NEW", "QUEUED", "SUBMITTING"})
#: Statuses of an order the target reports it did not place.
REFUSED = frozenset({"REJECTED", "CANCELLED", "FAILED"})
#: The trip of a placement from the target's decision to the proxy, at most (see :func:`stale_windows`).
STALE_MARGIN_S = 0.05


def order_tags(client_order_id: str) -> Set[str]:
    """The Kite tags an order with ``client_order_id`` may carry (module docstring)."""
    return {client_order_id, hashlib.sha1(client_order_id.encode()).hexdigest()[:20]}


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _no_broker_evidence(timeline: Timeline) -> Optional[str]:
    if timeline.broker is None:
        errors = (timeline.orders or {}).get("errors") or []
        why = f": {errors[0]}" if errors else " (the drill injected no broker fault, or it was not recorded)"
        return "no broker evidence in the timeline" + why
    return None


# ---- token refresh --------------------------------------------------------------------------------

def token_refresh_bounded(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the token-refresh count did not rise during the drill, or rose by more than
    ``max_token_refreshes``; unknown without the count, a fault, or when the counter went down."""
    name, most = "token_refresh_bounded", limits.max_token_refreshes
    series = [(t, _number(v)) for t, v in timeline.series("token_refreshes")]
    series = [(t, v) for t, v in series if v is not None]
    if not series:
        return CheckResult(name, "unknown", "no sample read trader_retries_total{type=\"token_refresh\"}: the "
                           "target does not count its token refreshes", None, float(most))
    fault = fault_ref(timeline)
    if fault is None:
        return CheckResult(name, "unknown", "no fault event: nothing to refresh for", None, float(most))
    # samples overlap (their reads run in parallel), so a count read a little earlier may sort after a
    # later one: a dip that comes back is read skew; a count that ends below an earlier one was reset
    peak = max(v for _, v in series)
    if series[-1][1] < peak:
        drop_t = next(t for (t0, v0), (t, v) in zip(series, series[1:]) if v < v0)
        return CheckResult(name, "unknown", f"the refresh counter went down at t={drop_t:.2f} and stayed down (the "
                           "target restarted?): the refreshes cannot be counted", None, float(most))
    before = [v for t, v in series if t < fault.t]
    after = [(t, v) for t, v in series if t >= fault.t]
    if not after:
        return CheckResult(name, "unknown", f"no refresh count read after {fault.label}", None, float(most))
    baseline = max(before) if before else series[0][1]
    rose = max(v for _, v in after) - baseline
    if rose < 1:
        return CheckResult(name, "fail", f"the target never refreshed its broker session: the token-refresh "
                           f"count stayed at {baseline:g} from {fault.label} to the end", rose, float(most))
    if rose > most:
        return CheckResult(name, "fail", f"the target refreshed its broker session {rose:g} times after "
                           f"{fault.label}: more than {most} (a refresh storm)", rose, float(most))
    first = next(t for t, v in after if v > baseline)
    return CheckResult(name, "pass", f"{rose:g} token refresh(es), the first {secs(first - fault.t)} after "
                       f"{fault.label} (at most {most})", rose, float(most))


# ---- orders exactly once --------------------------------------------------------------------------

def _accepted_ids(timeline: Timeline) -> Set[str]:
    ids: Set[str] = set()
    for event in timeline.events_named(*FAULT_EVENTS):
        if event.get("target") == "orders" and isinstance(event.get("accepted_ids"), list):
            ids.update(str(i) for i in event["accepted_ids"])
    return ids


def _placements(timeline: Timeline) -> Tuple[Dict[str, Set[str]], Dict[str, int], int, int]:
    """``(broker order ids by tag, attempts by tag, refused by a fault, replies dropped)``."""
    accepted: Dict[str, Set[str]] = {}
    attempts: Dict[str, int] = {}
    refused = dropped = 0
    for record in timeline.broker_records("order"):
        tag = str(record.get("tag") or "")
        attempts[tag] = attempts.get(tag, 0) + 1
        if record.get("by") == "proxy":
            refused += 1
        elif record.get("status") == 200 and record.get("order_id"):
            accepted.setdefault(tag, set()).add(str(record["order_id"]))
            dropped += 1 if record.get("dropped") else 0
    return accepted, attempts, refused, dropped


def orders_exactly_once(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order of the drill was lost, duplicated, or left unsettled (module docstring)."""
    name = "orders_exactly_once"
    missing = _no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    record = timeline.orders or {}
    listed = record.get("orders")
    if not isinstance(listed, list):
        errors = record.get("errors") or ["no orders record"]
        return CheckResult(name, "unknown", f"the target's /orders was not read at the end: {errors[0]}")
    prefix = str(record.get("prefix") or "")
    mine = [o for o in listed if isinstance(o, dict) and str(o.get("client_order_id", "")).startswith(prefix)]
    given = _accepted_ids(timeline)
    if not mine and not given:
        return CheckResult(name, "unknown", f"no order of this drill ({prefix}*) was accepted by the target: "
                           "nothing to follow to the broker")
    accepted, attempts, refused, dropped = _placements(timeline)
    problems: List[str] = []
    by_id = {str(o["client_order_id"]): o for o in mine}
    for lost in sorted(given - set(by_id)):
        problems.append(f"{lost} accepted by the API but missing from /orders")
    placed = refused_ok = 0
    for client_order_id, order in sorted(by_id.items()):
        status = str(order.get("status") or "?").upper()
        ids: Set[str] = set()
        for tag in order_tags(client_order_id):
            ids |= accepted.get(tag, set())
        if len(ids) > 1:
            problems.append(f"{client_order_id} is at the broker {len(ids)} times (order ids {sorted(ids)[:3]})")
        elif status in UNSETTLED:
            problems.append(f"{client_order_id} still {status} at the end: neither placed nor refused")
        elif status in REFUSED:
            if ids:
                problems.append(f"{client_order_id} reported {status} but the broker holds it ({sorted(ids)[0]})")
            else:
                refused_ok += 1
        elif not ids:
            problems.append(f"{client_order_id} reported {status} but the broker never accepted an order tagged "
                            f"for it (tags tried: the id and its SHA-1 prefix)")
        else:
            placed += 1
    for client_order_id, rows in sorted((record.get("sql_counts") or {}).items()):
        if rows > 1:
            problems.append(f"{client_order_id} stored {rows} times in Postgres")
    total = len(set(by_id) | given)
    seen = (f"{placed} placed exactly once, {refused_ok} refused and reported; the proxy refused {refused} "
            f"attempt(s) by fault and dropped {dropped} reply(ies)")
    if problems:
        return CheckResult(name, "fail", f"{len(problems)} of {total} order(s) not exactly once: "
                           + "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "") + f" ({seen})",
                           float(len(problems)), 0.0)
    sql = "" if record.get("sql_counts") is None else "; one Postgres row each"
    return CheckResult(name, "pass", f"all {total} order(s) of the drill: {seen}{sql}", 0.0, 0.0)


# ---- no order on a stale feed ---------------------------------------------------------------------

def stale_windows(timeline: Timeline, heartbeat_max: float) -> List[Tuple[float, float]]:
    """``(start, end)`` of each stretch in which the market-data feed was certainly stale: runs of
    samples whose heartbeat age was at or past ``heartbeat_max`` (a sample without the age ends a
    run). ``start`` is when the age crossed the limit, from the run's first sample (its ``t`` plus the
    time its reads took, minus how far past the limit the age already was), plus
    :data:`STALE_MARGIN_S` for the trip from the target to the proxy; ``end`` is the run's last sample
    (the feed was still stale when it was read, so no placement before it came after a fresh tick)."""
    windows: List[Tuple[float, float]] = []
    start: Optional[float] = None
    last: Optional[float] = None
    for sample in timeline.samples:
        age = _number(sample.get("md_hb"))
        t = float(sample["t"])
        if age is not None and age >= heartbeat_max:
            if start is None:
                read_s = (_number(sample.get("latency_ms")) or 0.0) / 1000.0
                start = t + read_s - (age - heartbeat_max) + STALE_MARGIN_S
            last = t
        elif start is not None and last is not None:
            windows.append((start, last))
            start = last = None
    if start is not None and last is not None:
        windows.append((start, last))
    return [(a, b) for a, b in windows if b > a]


def no_order_on_stale_feed(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order placement reached the broker while the feed was stale (module docstring)."""
    name = "no_order_on_stale_feed"
    missing = _no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    windows = stale_windows(timeline, limits.heartbeat_max)
    if not windows:
        return CheckResult(name, "unknown", f"the market-data heartbeat never reached {secs(limits.heartbeat_max)}: "
                           "the feed was never seen stale")
    offered = [e for e in timeline.events_named(*FAULT_EVENTS) if e.get("target") == "orders"
               and any(a - STALE_MARGIN_S <= float(e["t"]) <= b for a, b in windows)]
    inside = [r for r in timeline.broker_records("order") if any(a <= float(r["t"]) <= b for a, b in windows)]
    stale_s = sum(b - a for a, b in windows)
    if inside:
        first = inside[0]
        return CheckResult(name, "fail", f"{len(inside)} order placement(s) reached the broker while the feed was "
                           f"stale, the first at t={float(first['t']):.2f} (tag {first.get('tag')}): trading on a "
                           "dead feed", float(len(inside)), 0.0)
    if not offered:
        return CheckResult(name, "unknown", f"no order was offered while the feed was stale ({secs(stale_s)} "
                           "over the drill): nothing to judge", 0.0, 0.0)
    end = max(b for _, b in windows)
    later = [float(r["t"]) for r in timeline.broker_records("order") if float(r["t"]) > end]
    after = f"; the first placement came {secs(later[0] - end)} after the feed was fresh" if later else ""
    return CheckResult(name, "pass", f"orders offered during {secs(stale_s)} of stale feed; none reached the "
                       f"broker until it was fresh{after}", 0.0, 0.0)


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
    missing = _no_broker_evidence(timeline)
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
