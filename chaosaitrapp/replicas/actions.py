"""Split-brain faults on the leader among the target's replicas (:mod:`chaosaitrapp.deployment.replicas`).

- :func:`pause_leader`: freeze the replica that leads (SIGSTOP of its process group, ``docker
  pause``, or on Kubernetes ``kill -STOP -1`` in its pod through the exec API), as a GC pause or a frozen VM would, while its standbys keep running: its lease runs out in
  Redis, a standby takes the lock, and when it is thawed it may trade on beside its successor until its
  next refresh tells it it lost (unless it is fenced);
- :func:`isolate_leader`: cut the leader's own path to Redis only (its route through the TCP fault
  proxy) while it still reaches the broker;
- :func:`resume_paused`: thaw every replica this run froze (idempotent; the rollback);
- :func:`hold_leader_orders`: hold the leader's broker calls on the wire (the broker fault proxy, for that
  instance only) until :func:`chaosaitrapp.broker.actions.clear_broker_faults` lets them go: frozen right
  after, its last order reaches the broker after its successor's orders, Kleppmann's delayed packet,
  which only a fencing token checked by the broker defeats.

Every pause is in the fault ledger with a lease before the signal is sent, so a crashed or SIGKILLed
``chaos run`` leaves the process thawed by the watchdog within the lease; within the run a timer thaws
it after ``max_seconds`` even when the experiment never calls :func:`resume_paused`.
"""
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.actions import inject_broker_fault
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.config import settings_from
from chaosaitrapp.deployment.replicas import Replica, instance_id, leader_values, pause_driver, replicas_of, the_leader
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.network.actions import partition
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding
from chaosaitrapp.targets.kubernetes.freeze import PodFreezeDriver, parse_pod
from chaosaitrapp.targets.pause import PauseDriver
from chaosaitrapp.waiting import check_duration, wait_until

__all__ = ["hold_leader_orders", "pause_leader", "isolate_leader", "resume_paused"]

LEASE_MARGIN_S = 30.0
#: name -> (driver, ledger target, when it was frozen (monotonic), its auto-resume timer)
_PAUSED: Dict[str, Tuple[Any, str, float, threading.Timer]] = {}
_LOCK = threading.Lock()


def _leader(configuration: Configuration, secrets: Secrets) -> Tuple[Replica, List[Replica], Dict[str, Any]]:
    """The one leading replica, every replica, their gauges; ConfigError for fewer than two replicas,
    TargetError when not exactly one leads."""
    replicas = replicas_of(configuration)
    if len(replicas) < 2:
        raise ConfigError("split brain needs at least two replicas of the target: `aitrapp-chaos lab up --replicas 2`, "
                          "or REPLICAS (the other replicas' API URLs)", key="replicas")
    values = leader_values(replicas, configuration, secrets, timeout=2.0)
    name = the_leader(values)
    if name is None:
        raise TargetError(f"split brain: not exactly one replica leads before the fault (trader_is_leader: {values})")
    return next(r for r in replicas if r.name == name), replicas, values


def _auto_max(configuration: Configuration) -> float:
    """The longest a pause may last when the experiment gives no bound: two lock TTLs plus the longest
    re-acquire delay plus 10 s (a standby surely took over by then); with that timing unknown,
    ``WAIT_READY_TIMEOUT`` plus 10 s (the drill waits no longer for a standby)."""
    timing = target_timing(configuration)
    if timing.lock_ttl is None or timing.lock_backoff_max is None:
        return settings_from(configuration).wait_ready_timeout + 10.0
    return 2 * timing.lock_ttl + timing.lock_backoff_max + 10.0


def pause_leader(max_seconds: float = 0, configuration: Configuration = None,
                 secrets: Secrets = None) -> Dict[str, Any]:
    """Freeze the leading replica (module docstring) for at most ``max_seconds`` (0: two lock TTLs plus
    the longest re-acquire delay plus 10 s); returns at once with ``{"replica", "api", "target",
    "max_seconds", "lease_s", "ledger_entry", "leaders_before"}``. ConfigError for a bad value or fewer
    than two replicas, TargetError when not exactly one leads or the process cannot be frozen (nothing
    is left frozen); raises nothing else."""
    bound = check_duration("max_seconds", max_seconds)
    bound = bound or _auto_max(configuration)
    leader, _, values = _leader(configuration, secrets)
    driver = pause_driver(leader, configuration)
    target = driver.describe()
    lease_s = bound + LEASE_MARGIN_S
    detail = f"pause leader {leader.name} ({leader.api}) for at most {bound:g}s"
    entry = register_fault(f"pause {leader.name}", target, driver.undo(), lease_s)
    record_event("fault", target, detail, dependency="leader", replica=leader.name)
    try:
        driver.stop(10.0)
    except Exception:
        restore_faults(target, driver, 10.0)
        raise
    timer = threading.Timer(bound, _resume_one, args=(leader.name, "its pause reached max_seconds"))
    timer.daemon = True
    with _LOCK:
        _PAUSED[leader.name] = (driver, target, time.monotonic(), timer)
    timer.start()
    record_event("fault_injected", target, detail, dependency="leader", replica=leader.name)
    run = current_run()
    if run is not None:
        run.note(f"split brain: leader {leader.name} frozen ({target}), lease {lease_s:g}s")
    return {"replica": leader.name, "api": leader.api, "target": target, "max_seconds": bound, "lease_s": lease_s,
            "ledger_entry": entry, "leaders_before": values}


def _resume_one(name: str, why: str) -> Optional[float]:
    """Thaw replica ``name`` if this run froze it; the seconds it was frozen, or None."""
    with _LOCK:
        held = _PAUSED.pop(name, None)
    if held is None:
        return None
    driver, target, since, timer = held
    timer.cancel()
    record_event("restore", target, f"resume {name}: {why}", replica=name)
    restore_faults(target, driver, 10.0)
    paused_s = time.monotonic() - since
    record_event("restored", target, f"{name} resumed after {paused_s:.2f}s", replica=name)
    return round(paused_s, 3)


def resume_paused(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Thaw every replica this run froze, and any pause the ledger still holds (a run that died before
    its rollback); idempotent. Returns ``{"resumed": {name: seconds frozen}, "from_ledger": n}``; raises
    TargetError when a frozen process cannot be thawed."""
    with _LOCK:
        names = list(_PAUSED)
    resumed = {name: _resume_one(name, "resume_paused") for name in names}
    from_ledger = restore_outstanding(PauseDriver) + restore_outstanding(PodFreezeDriver)
    return {"resumed": {k: v for k, v in resumed.items() if v is not None}, "from_ledger": from_ledger}


def isolate_leader(kind: str = "blackhole", duration: float = 120, configuration: Configuration = None,
                   secrets: Secrets = None) -> Dict[str, Any]:
    """Cut the leading replica's own path to Redis (``kind`` ``blackhole`` or ``reject``) at the TCP fault
    proxy (on Kubernetes, its pod by a Chaos Mesh NetworkChaos: ``blackhole`` only), for at most ``duration``
    seconds, while it still reaches the broker; healed by
    :func:`chaosaitrapp.network.actions.heal_partition`. Returns what
    :func:`~chaosaitrapp.network.actions.partition` returns plus ``replica``; raises ConfigError when the
    leader's route is unknown (``REPLICA_REDIS_ROUTES``), TargetError when not exactly one replica leads."""
    if kind not in ("blackhole", "reject"):
        raise ConfigError(f"isolate_leader: kind must be blackhole or reject, got {kind!r}", key="kind")
    leader, _, values = _leader(configuration, secrets)
    if leader.redis_route:
        result = partition("redis", kind, "both", 0, duration, "proxy", route=leader.redis_route, replica=leader.name,
                           configuration=configuration, secrets=secrets)
    elif leader.target and leader.target.startswith("k8s:"):  # its pod cut from Redis's by a NetworkChaos
        result = partition("redis", kind, "both", 0, duration, "chaosmesh", replica=leader.name,
                           pod=parse_pod(leader.target.partition(":")[2])[1], configuration=configuration,
                           secrets=secrets)
    else:
        raise ConfigError(f"isolate_leader: replica {leader.name} ({leader.api}) has no known route to Redis through "
                          "the TCP fault proxy; set REPLICA_REDIS_ROUTES (on Kubernetes: name it k8s:NAMESPACE/pod/NAME "
                          "in REPLICA_TARGETS)", key="replica_redis_routes")
    return {**result, "replica": leader.name, "api": leader.api, "leaders_before": values}


def hold_leader_orders(duration: float = 300, timeout: float = 10, configuration: Configuration = None,
                       secrets: Secrets = None) -> Dict[str, Any]:
    """Hold the leading replica's REST calls to the broker at the broker fault proxy (a ``partition`` of
    ``requests`` limited to its ``X-AITRAPP-Instance``), for at most ``duration`` seconds, and wait up to
    ``timeout`` seconds until one of them is held (an order on the wire). Needs the replicas' instance ids
    (the lab's); without them nothing is injected and the result says why (``skipped``). Returns
    ``{"replica", "instance", "fault_id", "held", "waited_s"}``; released by
    :func:`chaosaitrapp.broker.actions.clear_broker_faults`. Raises ConfigError for a bad timeout,
    TargetError when not exactly one replica leads or the broker fault proxy is unreachable."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    leader, _, _ = _leader(configuration, secrets)
    instance = instance_id(leader, configuration, secrets)
    if not instance:
        why = (f"replica {leader.name}'s instance id is not known (REPLICA_INSTANCE_IDS unset and its "
               "trader_is_leader gauge has no single instance_id label): its orders cannot be held alone")
        run = current_run()
        if run is not None:
            run.note(f"split brain: {why}")
        return {"replica": leader.name, "skipped": why, "held": False}
    fault = inject_broker_fault("partition", duration, {"direction": "requests", "instance": instance},
                                configuration=configuration, secrets=secrets)
    client = ProxyClient.from_configuration(configuration)

    def hits() -> int:
        return sum(int(f.get("hits") or 0) for f in client.active() if f.get("id") == fault["fault_id"])

    waited = wait_until(hits, lambda n: n >= 1, timeout=timeout, interval=0.02,
                        what=f"a broker call of {leader.name} held on the wire")
    return {"replica": leader.name, "instance": instance, "fault_id": fault["fault_id"],
            "held": waited.held, "waited_s": round(waited.waited_s, 3)}
