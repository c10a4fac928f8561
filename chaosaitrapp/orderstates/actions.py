"""Actions and probes of the order-state drill: script what the broker says of the next orders (at the broker fault
proxy), and watch the trader's view converge to it.

The proxy plays each order placed while the fault is active by its script (:mod:`chaosaitrapp.kitestates`) and
keeps the script on the placement's history record; :func:`wait_converged` reads the trader's ``/orders`` against
those scripts (:func:`chaosaitrapp.checks.orderstates.compare`) until the trader agrees with the broker's last word
on every order of the drill, or one stays at odds past the deadline. The fault is held in the fault ledger like
every broker fault (``clear_broker_faults`` undoes it); a script outlives it in the proxy (an order the broker
cancelled stays cancelled).
"""
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List

import psycopg
from chaoslib.types import Configuration, Secrets

from chaosaitrapp import kitestates
from chaosaitrapp.broker.actions import inject_broker_fault
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.checks.orderstates import broker_state, compare, final_at, script_of, scripts_by_tag
from chaosaitrapp.config import settings_from
from chaosaitrapp.crash.actions import require_not_live
from chaosaitrapp.deployment.database import connect
from chaosaitrapp.errors import ChaosAitrappError, ConditionTimeout, ConfigError
from chaosaitrapp.evidence.recorder import dry_wait, record_event
from chaosaitrapp.orders.probes import UNSETTLED, list_orders, run_order_prefix
from chaosaitrapp.waiting import check_duration, require, wait_until

__all__ = ["script_order_state", "wait_converged"]

#: The longest ``seconds`` a state may take to change.
MAX_STATE_S = 600.0
#: How many parts a partial fill comes in.
PARTS = 3
#: Slack of the fault's duration beyond the drill's longest wait (seconds).
SLACK_S = 5.0
TARGET = "broker"
#: The most changes of the orders-in-doubt count kept for the report's lane.
SERIES_MAX = 500
FILLS_SQL = ("SELECT client_order_id, coalesce(sum(quantity), 0) FROM trades WHERE client_order_id LIKE %s "
             "GROUP BY 1")

_LOCK = threading.Lock()


@dataclass
class Scripted:
    """An order state this run scripted: the state, the proxy's fault id, since when (wall clock)."""

    state: str
    fault_id: str
    since_wall: float
    seconds: float


_SCRIPTED: List[Scripted] = []


def check_state(state: Any) -> str:
    """``state`` as an order state; ConfigError naming the known ones."""
    text = str(state or "").strip()
    if text not in kitestates.KINDS:
        raise ConfigError(f"unknown order state {state!r}; known: {', '.join(kitestates.KINDS)}", key="order_state")
    return text


def check_seconds(seconds: Any) -> float:
    """``seconds`` as a number of seconds in (0, 600]; ConfigError otherwise."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 < value <= MAX_STATE_S:
        raise ConfigError(f"order_state_s must be a number of seconds above 0 and at most {MAX_STATE_S:g}, got "
                          f"{seconds!r}", key="order_state_s")
    return value


def state_params(state: str, seconds: float) -> Dict[str, Any]:
    """The proxy fault's parameters for ``state`` changing after ``seconds`` (partial fills: between parts)."""
    key = {"pending_then_cancelled": "pending_s", "rejected_after_ack": "after_s", "partial_fill": "interval_s",
           "lost_update": "after_s", "late_update": "delay_s"}[state]
    return {key: seconds, **({"parts": PARTS} if state == "partial_fill" else {})}


def script_order_state(state: str = "pending_then_cancelled", seconds: float = 2, timeout: float = 20,
                       configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """From now on the broker fault proxy shows every order placed through it as ``state`` says (module docstring),
    its change ``seconds`` after the placement's answer; the fault lasts long enough for the drill's watch
    (``timeout``: how long the trader may disagree after the broker's last word), through the fault ledger.
    Returns ``{"state", "fault_id", "params", "duration"}``; raises ConfigError for an unknown state, a bad
    ``seconds``, a fault longer than the fault lease (``AITRAPP_FAULT_LEASE``) or no broker fault proxy (nothing is
    injected), GuardRefused for a trader not in PAPER mode,
    TargetError when the proxy does not answer."""
    state = check_state(state)
    seconds = check_seconds(seconds)
    timeout = check_duration("timeout", timeout, allow_zero=False)
    require_not_live(configuration, secrets)
    params = state_params(state, seconds)
    duration = timeout + (PARTS + 1) * seconds + SLACK_S
    lease = settings_from(configuration).fault_lease
    if duration > lease:
        raise ConfigError(f"the order-state fault must last {duration:g}s (converge_timeout {timeout:g}s + "
                          f"{PARTS + 1} x order_state_s {seconds:g}s + {SLACK_S:g}s), longer than the fault lease "
                          f"({lease:g}s, AITRAPP_FAULT_LEASE): shorten them or lengthen the lease", key="converge_timeout")
    fault = inject_broker_fault(state, duration=duration, params=params, lease=lease, configuration=configuration,
                                secrets=secrets)
    with _LOCK:
        _SCRIPTED.append(Scripted(state, str(fault["fault_id"]), time.time() - 1.0, seconds))
    return {"state": state, "fault_id": fault["fault_id"], "params": fault["params"], "duration": duration}


def _last() -> Scripted:
    with _LOCK:
        if not _SCRIPTED:
            raise ConfigError("wait_converged follows a script_order_state of the same run, and this run scripted "
                              "none", key="order_state")
        return _SCRIPTED[-1]


def _fills(prefix: str, configuration: Configuration, secrets: Secrets) -> Dict[str, Any]:
    """``{"fills": {client_order_id: quantity}}`` the trader recorded (its trades), or ``{"fills_error": why}``."""
    try:
        with connect(configuration, secrets) as conn:
            rows = conn.execute(FILLS_SQL, (prefix.replace("_", r"\_") + "%",)).fetchall()
    except ConfigError as exc:
        return {"fills_error": f"no database URL to read the trader's trades from ({exc})"}
    except (psycopg.Error, OSError, ChaosAitrappError) as exc:  # evidence: the check says unknown, naming it
        return {"fills_error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"fills": {str(r[0]): int(r[1]) for r in rows}}


def wait_converged(timeout: float = 20, interval: float = 0.2, configuration: Configuration = None,
                   secrets: Secrets = None) -> Dict[str, Any]:
    """Watch the trader's ``/orders`` against the broker's scripts until, for every order of the drill the broker
    scripted, the broker has said its last word and the trader agrees (and no order of the drill is still
    unsettled at the trader), or one stays at odds ``timeout`` seconds after the broker's last word on it. Orders
    the trader shows ahead of the broker are noted (the check fails on them). Records ``converged`` or
    ``converge_timeout`` (``lag_s`` per order: from the broker's last word to the read that saw the trader agree;
    ``in_doubt_max`` and ``in_doubt_series``, each change of the count at odds: the report's lane; ``ahead``; the
    fills the trader recorded). Returns the wait's record; raises ConfigError when
    nothing was scripted in this run, ConditionTimeout when the trader never agreed."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    skipped = dry_wait("the trader to agree with the broker's order states")
    if skipped is not None:
        return skipped
    scripted = _last()
    prefix = run_order_prefix() or ""
    client = ProxyClient.from_configuration(configuration)
    seen: Dict[str, Any] = {"worst": 0, "lag": {}, "ahead": {}, "watched": set(), "series": []}

    def observe() -> Dict[str, Any]:
        before = time.time()
        orders = list_orders(configuration, secrets)
        after = time.time()
        scripts = scripts_by_tag([r for r in client.history(scripted.since_wall) if r.get("kind") == "order"])
        disagreeing, ahead = compare(orders, scripts, prefix, before, after)
        mine = {str(o["client_order_id"]): o for o in orders if str(o.get("client_order_id", "")).startswith(prefix)}
        scripted_ids = [cid for cid in mine if script_of(cid, scripts) is not None]
        seen["watched"].update(scripted_ids)
        seen["worst"] = max(seen["worst"], len(disagreeing))
        if not seen["series"] or seen["series"][-1][1] != len(disagreeing):
            seen["series"].append([round(after, 3), len(disagreeing)])
        for cid, what in ahead.items():
            seen["ahead"].setdefault(cid, what)
        overdue, waiting = [], []
        for cid in scripted_ids:
            script = script_of(cid, scripts)
            last_word = final_at(script)
            if cid not in disagreeing and after >= last_word:
                seen["lag"].setdefault(cid, round(max(0.0, after - last_word), 3))
            elif cid in disagreeing and before - last_word > timeout:
                overdue.append(f"{cid}: {disagreeing[cid]}")
            elif cid not in seen["lag"]:
                waiting.append(f"{cid}: {disagreeing.get(cid) or 'the broker: ' + broker_state(script, after)[0]}")
        unsettled = [f"{cid}: {o.get('status')} at the trader" for cid, o in mine.items()
                     if str(o.get("status") or "").upper() in UNSETTLED]
        done = bool(scripted_ids) and not waiting and not overdue and not unsettled and not disagreeing
        return {"done": done, "overdue": overdue, "open": (waiting + unsettled)[:20]}

    longest = timeout + (PARTS + 1) * scripted.seconds + SLACK_S
    result = wait_until(observe, lambda v: v["done"] or bool(v["overdue"]), timeout=longest, interval=interval,
                        what="the trader agreeing with the broker's last word on every order of the drill")
    common = {"dependency": TARGET, "state": scripted.state, "lag_s": dict(seen["lag"]),
              "in_doubt_max": seen["worst"], "ahead": [f"{k}: {v}" for k, v in sorted(seen["ahead"].items())][:20],
              "watched": sorted(seen["watched"]), "prefix": prefix, "timeout_s": timeout,
              "in_doubt_series": seen["series"][-SERIES_MAX:],
              **_fills(prefix, configuration, secrets)}
    value = result.value or {}
    if result.held and value.get("done"):
        worst = max(seen["lag"].values(), default=0.0)
        record_event("converged", client.describe(), f"the trader agrees with the broker {worst:.2f}s after its last "
                     f"word ({scripted.state})", **common)
        return {**result.as_dict(), "lag_s": seen["lag"], "in_doubt_max": seen["worst"]}
    left = list(value.get("overdue") or value.get("open") or [])
    record_event("converge_timeout", client.describe(), f"orders at odds with the broker ({scripted.state})",
                 in_doubt=left[:20], **common)
    if result.held:  # decided early: an order at odds past its deadline
        raise ConditionTimeout(f"{len(left)} order(s) at odds with the broker {timeout:g}s after its last word: "
                               + "; ".join(left[:3]), what=result.what, waited_s=result.waited_s)
    require(result, "the trader agreeing with the broker on every order")
    return result.as_dict()
