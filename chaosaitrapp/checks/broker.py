"""What happened between the target and its broker during a broker fault.

They read the samples (``token_refreshes``), the events (faults,
restores, order bursts with the ids the target accepted) and the broker evidence the evidence
control gathers at the end (:mod:`chaosaitrapp.broker.evidence`: the fault proxy's ``broker``
records and the target's ``orders``):

- ``token_refresh_bounded``: after the fault the broker saw at least 1 and at most
  ``limits.max_token_refreshes`` new sessions, and a new token in use after the first (none: the target never
  renewed its session, whatever its own counter says; more: a storm);
- ``orders_exactly_once``: every order of the drill the target accepted is, at the end, either placed
  at the broker exactly once (one broker order id among the placements the proxy saw with its tag) or
  refused in a way the target reports (``REJECTED``, and then not at the broker, or cancelled or rejected by the
  broker after it accepted the order: an order-state script's end): none lost silently
  (missing from ``/orders``; said placed but never accepted by the broker; still ``PENDING``), none
  duplicated (two broker order ids for one tag, or two rows in Postgres).

The market-data feed's checks are in :mod:`chaosaitrapp.checks.feed`. A check that lacks its evidence
(no broker records, no order of the drill) says ``unknown``, naming what is missing, never ``pass``.

An order is matched to its placements by Kite ``tag``: the ``client_order_id`` itself (the drills' ids are
valid tags), its first 20 characters, or the first 20 hex digits of its SHA-1 (:func:`chaosaitrapp.orderids.tags_of`).
"""
from __future__ import annotations

from typing import Any, Collection, Dict, FrozenSet, List, Optional, Set, Tuple

from chaosaitrapp.checks.events import fault_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import FAULT_EVENTS, Timeline, number
from chaosaitrapp.orderids import tags_by_id

#: Statuses of an order the target has neither placed nor refused yet.
UNSETTLED = frozenset({"PENDING", "NEW", "QUEUED", "SUBMITTING"})
#: Statuses of an order the target reports it did not place.
REFUSED = frozenset({"REJECTED", "CANCELLED", "FAILED"})
#: No broker order id.
NONE: frozenset = frozenset()


def no_broker_evidence(timeline: Timeline) -> Optional[str]:
    if timeline.broker is None:
        errors = (timeline.orders or {}).get("errors") or []
        why = f": {errors[0]}" if errors else " (the drill injected no broker fault, or it was not recorded)"
        return "no broker evidence in the timeline" + why
    return None


# ---- token refresh --------------------------------------------------------------------------------

def broker_refreshes(records: List[Dict[str, Any]], fault_t: float
                     ) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """From the broker proxy's records (``what``, ``t``; in time order): the sessions made at the broker
    (``session`` answered 200) at or after ``fault_t``, and the first use of a token not seen before
    (``token_new``) after the first of those sessions, or None. One reading for :func:`token_refresh_bounded`
    and the drill's wait (:func:`chaosaitrapp.broker.probes.wait_token_refreshed`)."""
    sessions = [r for r in records if r.get("what") == "session" and r.get("status") == 200
                and float(r["t"]) >= fault_t]
    if not sessions:
        return sessions, None
    first = float(sessions[0]["t"])
    new_token = next((r for r in records if r.get("what") == "token_new" and float(r["t"]) >= first), None)
    return sessions, new_token


def _counter_rise(timeline: Timeline, fault_t: float) -> Optional[float]:
    """How far ``trader_retries_total{type="token_refresh"}`` rose from before the fault to the end (a counter
    with no sample yet counts 0 from the run's start), or None when it was never read or went down."""
    series = [(t, number(v)) for t, v in timeline.series("token_refreshes")]
    series = [(t, v) for t, v in series if v is not None]
    if not series or series[-1][1] < max(v for _, v in series):
        return None
    before = [v for t, v in series if t < fault_t]
    return max(v for _, v in series) - (max(before) if before else 0.0)


def token_refresh_bounded(timeline: Timeline, limits: Limits) -> CheckResult:
    """Judged by what the broker saw (the fault proxy's ``session`` and ``token_new`` records), not by the
    target's counter: fail when no session was made at the broker after the fault (whatever the target's
    ``trader_retries_total{type="token_refresh"}`` says: a refused call counted as a refresh is not one),
    when sessions were made but no new token was ever used, or when more than ``max_token_refreshes``
    sessions were made (a storm); unknown without broker evidence or a fault. The counter's rise is
    reported beside, as the target's own account."""
    name, most = "token_refresh_bounded", limits.max_token_refreshes
    fault = fault_ref(timeline)
    if fault is None:
        return CheckResult(name, "unknown", "no fault event: nothing to refresh for", None, float(most))
    missing = no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing + ": the broker's sessions cannot be seen", None, float(most))
    sessions, new_token = broker_refreshes(timeline.broker_records("session", "token_new"), fault.t)
    rise = _counter_rise(timeline, fault.t)
    counted = ("the target's own counter did not rise" if rise == 0 else
               f"the target's own counter rose by {rise:g}" if rise is not None else
               "the target's own counter could not be read")
    made = float(len(sessions))
    if not sessions:
        claim = (f": trader_retries_total{{type=\"token_refresh\"}} rose by {rise:g}, yet no session was created "
                 "(refusals counted as refreshes?)" if rise else f" ({counted})")
        return CheckResult(name, "fail", f"no session was created at the broker after {fault.label}: the target "
                           f"never refreshed its broker session{claim}", made, float(most))
    if len(sessions) > most:
        return CheckResult(name, "fail", f"{len(sessions)} sessions were created at the broker after {fault.label}: "
                           f"more than {most} (a refresh storm; {counted})", made, float(most))
    if new_token is None:
        return CheckResult(name, "fail", f"{len(sessions)} session(s) created at the broker after {fault.label}, "
                           "but no new token was ever used: the target kept calling with the old one", made,
                           float(most))
    first = float(sessions[0]["t"])
    return CheckResult(name, "pass", f"{len(sessions)} session(s) created at the broker, the first "
                       f"{secs(first - fault.t)} after {fault.label}, its token in use "
                       f"{secs(float(new_token['t']) - first)} later (at most {most}; {counted})", made, float(most))


# ---- orders exactly once --------------------------------------------------------------------------

def _accepted_ids(timeline: Timeline) -> FrozenSet[str]:
    """The ids the target's API accepted (the order bursts' ``accepted_ids``), read once per timeline."""
    if "accepted_ids" not in timeline.derived:
        ids: Set[str] = set()
        for event in timeline.events_named(*FAULT_EVENTS):
            if event.get("target") == "orders" and isinstance(event.get("accepted_ids"), list):
                ids.update(map(str, event["accepted_ids"]))
        timeline.derived["accepted_ids"] = frozenset(ids)
    return timeline.derived["accepted_ids"]


def placements(timeline: Timeline) -> Tuple[Dict[str, Collection[str]], int, int]:
    """``(broker order ids by tag, refused by a fault, replies dropped)``, read once per timeline (shared: do not
    change it). A tag's ids are a tuple of one, or a set when the broker accepted it under several ids."""
    if "placements" in timeline.derived:
        return timeline.derived["placements"]
    accepted: Dict[str, Collection[str]] = {}
    refused = dropped = 0
    for record in timeline.broker_records("order"):
        if record.get("by") == "proxy":
            refused += 1
            continue
        order_id = record.get("status") == 200 and record.get("order_id")
        if not order_id:
            continue
        tag = record.get("tag") or ""
        tag = tag if tag.__class__ is str else str(tag)
        order_id = order_id if order_id.__class__ is str else str(order_id)
        ids = accepted.setdefault(tag, (order_id,))
        if order_id not in ids:
            accepted[tag] = {*ids, order_id}
        if record.get("dropped"):
            dropped += 1
    timeline.derived["placements"] = accepted, refused, dropped
    return timeline.derived["placements"]


def broker_ends(timeline: Timeline) -> Dict[str, str]:
    """The final status the broker gave each order it scripted (an order-state fault at the proxy: the placement
    record's ``script``), by broker order id: an order the broker accepted and then cancelled or rejected is
    rightly reported refused."""
    scripted = [r for r in timeline.broker_records("order") if "script" in r]
    return {str(r["order_id"]): str(r["script"]["states"][-1][1]) for r in scripted
            if isinstance(r.get("script"), dict) and r.get("order_id") and r["script"].get("states")}


def _counted(name: str, timeline: Timeline, bursts: List[Dict[str, Any]]) -> CheckResult:
    """The drill's orders when their ids never reached the service (an injector without
    ``{client_order_id}``): only counts. Fewer distinct broker orders placed after the first burst than
    the source's accepted orders is a loss (fail); otherwise unknown, since a plan may place several broker
    orders and duplicates cannot be told from them without the ids."""
    taken = sum(int(e.get("accepted") or 0) for e in bursts)
    since = min(float(e["t"]) for e in timeline.events_named(*FAULT_EVENTS) if e.get("target") == "orders")
    placed = {str(r["order_id"]) for r in timeline.broker_records("order")
              if float(r["t"]) >= since and r.get("status") == 200 and r.get("order_id")}
    if len(placed) < taken:
        return CheckResult(name, "fail", f"the order source took {taken} order(s) but the broker accepted only "
                           f"{len(placed)} placement(s) from the first burst on: orders lost", float(taken - len(placed)),
                           0.0)
    return CheckResult(name, "unknown", f"the order source took {taken} order(s) and the broker accepted "
                       f"{len(placed)} placement(s) since; without the service's ids (no {{client_order_id}} in the "
                       "order source) a duplicate cannot be told from a plan's several orders", None, 0.0)


def _view(record: Dict[str, Any], listed: List[Any], prefix: str) -> Tuple[Dict[str, Dict[str, Any]], bool]:
    """The target's view of the drill's orders by ``client_order_id``: what ``GET /orders`` listed, and the rows
    of the ``orders`` table (evidence ``sql_status``) it did not list; and whether those rows were read."""
    by_id: Dict[str, Dict[str, Any]] = {}
    for order in listed:
        if order.__class__ is dict:
            client_order_id = order.get("client_order_id", "")
            client_order_id = client_order_id if client_order_id.__class__ is str else str(client_order_id)
            if client_order_id.startswith(prefix):
                by_id[client_order_id] = order
    stored = record.get("sql_status")
    if not isinstance(stored, dict):
        return by_id, False
    for client_order_id, status in stored.items():
        if client_order_id not in by_id:
            by_id[client_order_id] = {"client_order_id": client_order_id, "status": status}
    return by_id, True


def orders_exactly_once(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order of the drill was lost, duplicated, or left unsettled (module docstring).

    The target's view is ``GET /orders`` and, when the database was read, the ``orders`` table; without the table,
    orders the API accepted that are older than every order of the drill ``/orders`` lists may have fallen off a
    list of the newest only: they make the check unknown (never pass), naming the database setting that decides it."""
    name = "orders_exactly_once"
    missing = no_broker_evidence(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    record = timeline.orders or {}
    listed = record.get("orders")
    if not isinstance(listed, list):
        errors = record.get("errors") or ["no orders record"]
        return CheckResult(name, "unknown", f"the target's /orders was not read at the end: {errors[0]}")
    prefix = str(record.get("prefix") or "")
    by_id, stored = _view(record, listed, prefix)
    given = _accepted_ids(timeline)
    uncarried = [e for e in timeline.events_named(*FAULT_EVENTS)
                 if e.get("target") == "orders" and e.get("ids_carried") is False]
    if uncarried and not given:
        return _counted(name, timeline, uncarried)
    if not by_id and not given:
        return CheckResult(name, "unknown", f"no order of this drill ({prefix}*) was accepted by the target: "
                           "nothing to follow to the broker")
    accepted, refused, dropped = placements(timeline)
    ended = broker_ends(timeline)
    problems: List[str] = []
    everyone = given.union(by_id)
    tags = tags_by_id(everyone, accepted)
    unlisted = given.difference(by_id)
    oldest = min(by_id) if by_id else ""
    beyond = set() if stored else {i for i in unlisted if i < oldest}  # may have fallen off a newest-only list
    where = "/orders and the orders table" if stored else "/orders"
    problems += [f"{lost} accepted by the API but missing from {where}" for lost in sorted(unlisted - beyond)]
    own_problems: List[Tuple[str, str]] = []
    placed = refused_ok = 0
    identity = tags.identity
    for client_order_id, order in by_id.items():
        status = order.get("status") or "?"
        if status.__class__ is not str or not status.isupper():
            status = str(status).upper()
        if identity:  # every id its own only tag
            ids = accepted.get(client_order_id, NONE)
        else:
            own = tags[client_order_id]
            ids = accepted.get(own[0], NONE) if len(own) == 1 else set().union(*(accepted.get(t, NONE) for t in own))
        if len(ids) > 1:
            own_problems.append((client_order_id, f"{client_order_id} is at the broker {len(ids)} times "
                                                  f"(order ids {sorted(ids)[:3]})"))
        elif status in UNSETTLED:
            own_problems.append((client_order_id, f"{client_order_id} still {status} at the end: neither placed "
                                                  "nor refused"))
        elif status in REFUSED:
            if ids and not all(ended.get(i) in REFUSED for i in ids):
                own_problems.append((client_order_id, f"{client_order_id} reported {status} but the broker holds it "
                                                      f"({sorted(ids)[0]})"))
            else:
                refused_ok += 1
        elif not ids:
            own_problems.append((client_order_id, f"{client_order_id} reported {status} but the broker never "
                                                  "accepted an order tagged for it (tags tried: the id and its SHA-1 "
                                                  "prefix)"))
        else:
            placed += 1
    problems += [text for _, text in sorted(own_problems)]
    shared = [(t, i) for t, i in accepted.items() if len(i) > 1]
    known = {tag for each in tags.values() for tag in each} if shared else set()
    for tag, ids in sorted((t, i) for t, i in shared if t not in known):
        problems.insert(0, f"the broker holds {len(ids)} orders under the one tag {tag!r}: they cannot be told "
                           "apart (nor looked up after a lost reply); each order needs its own tag")
    for client_order_id, rows in sorted((c, n) for c, n in (record.get("sql_counts") or {}).items() if n > 1):
        problems.append(f"{client_order_id} stored {rows} times in Postgres")
    total = len(everyone)
    seen = (f"{placed} placed exactly once, {refused_ok} refused and reported; the proxy refused {refused} "
            f"attempt(s) by fault and dropped {dropped} reply(ies)")
    if beyond and not problems:
        return CheckResult(name, "unknown", f"{len(beyond)} of {total} order(s) accepted by the API are not in "
                           f"/orders, all older than the oldest it lists ({oldest}): a list of the newest orders only? "
                           "Give the target's database (database_url, DATABASE_URL) so the orders table decides "
                           f"({seen})", float(len(beyond)), 0.0)
    if problems:
        return CheckResult(name, "fail", f"{len(problems)} of {total} order(s) not exactly once: "
                           + "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "") + f" ({seen})",
                           float(len(problems)), 0.0)
    sql = "" if record.get("sql_counts") is None else "; one Postgres row each"
    return CheckResult(name, "pass", f"all {total} order(s) of the drill: {seen}{sql}", 0.0, 0.0)
