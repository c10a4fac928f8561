"""Every checker by name, the checks each kind of fault calls for, and :func:`run_checks`.

A checker is a pure function ``(timeline, limits) -> CheckResult``. :func:`run_checks` never
raises for a checker's sake: an unknown name or a checker that raises gives an ``unknown``
result naming the problem, so a typo or a bug can never turn into a PASS.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List

from chaosaitrapp.checks.broker import (
    feed_resubscribed,
    md_disconnect_seen,
    no_order_on_stale_feed,
    orders_exactly_once,
    token_refresh_bounded,
)
from chaosaitrapp.checks.detection import time_to_detect_pause, time_to_detect_ready
from chaosaitrapp.checks.invariants import health_stayed_up, heartbeat_while_ready, ready_while_not_leader
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.partition import (
    acknowledged_orders_stored_once,
    no_leadership_loss,
    no_order_after_lease_expiry,
    trading_stopped_before_lease_expiry,
)
from chaosaitrapp.checks.queue import queue_drained
from chaosaitrapp.checks.recovery import flaps, time_to_recover_ready, time_to_recover_resume, total_unavailability
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.sampling import sampling_rate
from chaosaitrapp.checks.split_brain import (
    fencing_tokens_monotonic,
    one_leader_at_a_time,
    one_placer_at_a_time,
    orders_once_across_replicas,
)
from chaosaitrapp.checks.stress import (
    heartbeats_under_stress,
    latency_under_stress,
    memory_settles,
    no_leader_flap,
    order_latency_under_stress,
    stress_bounded,
    target_survived,
)
from chaosaitrapp.checks.timeline import Timeline

Checker = Callable[[Timeline, Limits], CheckResult]

CHECKS: Dict[str, Checker] = {
    "sampling_rate": sampling_rate,
    "time_to_detect_ready": time_to_detect_ready,
    "time_to_detect_pause": time_to_detect_pause,
    "time_to_recover_ready": time_to_recover_ready,
    "time_to_recover_resume": time_to_recover_resume,
    "total_unavailability": total_unavailability,
    "flaps": flaps,
    "heartbeat_while_ready": heartbeat_while_ready,
    "ready_while_not_leader": ready_while_not_leader,
    "queue_drained": queue_drained,
    "health_stayed_up": health_stayed_up,
    "token_refresh_bounded": token_refresh_bounded,
    "orders_exactly_once": orders_exactly_once,
    "no_order_on_stale_feed": no_order_on_stale_feed,
    "md_disconnect_seen": md_disconnect_seen,
    "feed_resubscribed": feed_resubscribed,
    "trading_stopped_before_lease_expiry": trading_stopped_before_lease_expiry,
    "no_order_after_lease_expiry": no_order_after_lease_expiry,
    "acknowledged_orders_stored_once": acknowledged_orders_stored_once,
    "no_leadership_loss": no_leadership_loss,
    "one_placer_at_a_time": one_placer_at_a_time,
    "fencing_tokens_monotonic": fencing_tokens_monotonic,
    "orders_once_across_replicas": orders_once_across_replicas,
    "one_leader_at_a_time": one_leader_at_a_time,
    "heartbeats_under_stress": heartbeats_under_stress,
    "latency_under_stress": latency_under_stress,
    "order_latency_under_stress": order_latency_under_stress,
    "no_leader_flap": no_leader_flap,
    "target_survived": target_survived,
    "memory_settles": memory_settles,
    "stress_bounded": stress_bounded,
}

#: What holds on every drill, whatever its fault: a dense enough timeline, a live API, honest readiness.
BASELINE_CHECKS: List[str] = ["sampling_rate", "health_stayed_up", "heartbeat_while_ready", "ready_while_not_leader"]

#: The checks each kind of fault calls for, on top of the baseline (see :mod:`chaosaitrapp.controls.inference`).
FAULT_CHECKS: Dict[str, List[str]] = {
    # Redis stopped: the seed's leader-lock criteria, timed.
    "redis_stop": ["time_to_detect_ready", "time_to_detect_pause", "time_to_recover_ready",
                   "time_to_recover_resume", "total_unavailability", "flaps"],
    # Postgres stopped: the API stays up and is ready again after the restart.
    "postgres_stop": ["time_to_recover_ready", "flaps"],
    # Order burst: the throttle queue fills and drains.
    "order_burst": ["queue_drained"],
    # Broker session faults: the target refreshes (boundedly) and stays, or is again, ready.
    "broker_token_invalidated": ["token_refresh_bounded", "time_to_recover_ready", "flaps"],
    "broker_rate_limit": ["time_to_recover_ready"],
    "broker_server_error": ["time_to_recover_ready"],
    "broker_latency": ["time_to_recover_ready"],
    "broker_drop_reply": ["time_to_recover_ready"],
    # Market-data faults: the feed goes stale (503), comes back by itself, every instrument ticks again.
    "broker_ws_close": ["md_disconnect_seen", "time_to_detect_ready", "time_to_recover_ready",
                        "feed_resubscribed", "flaps"],
    "broker_ws_stall": ["time_to_detect_ready", "time_to_recover_ready", "feed_resubscribed", "flaps"],
    "broker_ws_refuse": ["time_to_recover_ready"],
    "broker_ws_drop_subscriptions": ["time_to_detect_ready", "time_to_recover_ready", "feed_resubscribed"],
    # Partitions (the dependency runs, the path is cut): stop trading before the lease can run out,
    # come back by itself; Postgres and the broker: the API stays up and is ready again after.
    "partition_redis": ["time_to_detect_pause", "time_to_detect_ready", "trading_stopped_before_lease_expiry",
                        "time_to_recover_ready", "time_to_recover_resume", "flaps"],
    "partition_postgres": ["time_to_recover_ready", "flaps"],
    "partition_broker": ["time_to_recover_ready"],
    # A slowdown below the target's timeouts: nothing may change.
    "latency_redis": ["no_leadership_loss"],
    "latency_postgres": ["no_leadership_loss"],
    "latency_broker": ["no_leadership_loss"],
    # Split brain (the leader paused, or cut off from Redis, while standbys run): one trader at a time,
    # on the broker's history and every replica's gauge; the service is ready again after.
    "split_brain_pause": ["one_placer_at_a_time", "fencing_tokens_monotonic", "orders_once_across_replicas",
                          "one_leader_at_a_time"],
    "split_brain_partition": ["one_placer_at_a_time", "fencing_tokens_monotonic", "orders_once_across_replicas",
                              "one_leader_at_a_time"],
    # CPU and memory stress: the target keeps beating, answering and leading, survives, gives memory back.
    "stress_cpu": ["heartbeats_under_stress", "latency_under_stress", "order_latency_under_stress", "no_leader_flap",
                   "target_survived", "stress_bounded"],
    "stress_memory": ["heartbeats_under_stress", "latency_under_stress", "order_latency_under_stress",
                      "no_leader_flap", "target_survived", "memory_settles", "stress_bounded"],
}

#: The checks a fault calls for when orders arrive during it (an order burst alongside): what became
#: of every order, and no order on a dead feed.
LOADED_CHECKS: Dict[str, List[str]] = {
    "broker_token_invalidated": ["orders_exactly_once"],
    "broker_rate_limit": ["orders_exactly_once"],
    "broker_server_error": ["orders_exactly_once"],
    "broker_latency": ["orders_exactly_once"],
    "broker_drop_reply": ["orders_exactly_once"],
    "broker_ws_close": ["no_order_on_stale_feed", "orders_exactly_once"],
    "broker_ws_stall": ["no_order_on_stale_feed", "orders_exactly_once"],
    "broker_ws_drop_subscriptions": ["no_order_on_stale_feed", "orders_exactly_once"],
    "partition_redis": ["no_order_after_lease_expiry", "orders_exactly_once"],
    "partition_postgres": ["acknowledged_orders_stored_once"],
    "partition_broker": ["orders_exactly_once"],
    "stress_cpu": ["orders_exactly_once"],
    "stress_memory": ["orders_exactly_once"],
}


def checks_for_faults(faults: Iterable[str], loaded: bool = False) -> List[str]:
    """The baseline checks plus those of every fault kind in ``faults`` (and, when ``loaded``: orders
    arrived during them, their :data:`LOADED_CHECKS`), each once, in a stable order."""
    names = list(BASELINE_CHECKS)
    for fault in faults:
        for name in FAULT_CHECKS.get(fault, []) + (LOADED_CHECKS.get(fault, []) if loaded else []):
            if name not in names:
                names.append(name)
    return names


def run_checks(timeline: Timeline, limits: Limits, names: Iterable[str]) -> List[CheckResult]:
    """Run the named checkers in order; unknown names and raising checkers give ``unknown``."""
    results: List[CheckResult] = []
    for name in names:
        checker = CHECKS.get(name)
        if checker is None:
            results.append(CheckResult(name, "unknown", f"no checker named {name!r} (known: {', '.join(CHECKS)})"))
            continue
        try:
            results.append(checker(timeline, limits))
        except Exception as exc:  # a checker bug must never pass, nor hide the other results
            results.append(CheckResult(name, "unknown", f"checker raised {type(exc).__name__}: {exc}"))
    return results
