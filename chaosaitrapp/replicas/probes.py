"""Probes of the split-brain drills: every replica's leader gauge, how many lead, whether the one that
leads is ready, and waiting until another replica than the one faulted has taken over."""

from typing import Any, Dict, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.readiness import interpret_ready
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.deployment.replicas import leader_values, replicas_of, the_leader
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import current_run, dry_wait, wait_deadline
from chaosaitrapp.waiting import require, wait_until

__all__ = ["replica_leaders", "leader_count", "leader_ready", "wait_new_leader", "wait_new_leader_trades"]


def replica_leaders(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Optional[float]]:
    """Returns ``{replica name: trader_is_leader}`` of every replica (``r0`` is ``API``; None for one that
    does not answer within 2 s). Raises ConfigError for a bad replica list."""
    return leader_values(replicas_of(configuration), configuration, secrets, timeout=2.0)


def leader_count(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Returns how many replicas report ``trader_is_leader`` 1 (the steady state: exactly 1); raises
    ConfigError when the replicas are misconfigured (an unreadable replica counts as not leading)."""
    return sum(1 for value in replica_leaders(configuration, secrets).values() if value == 1.0)


def leader_ready(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """Returns ``ready`` when exactly one replica leads and its ``/ready`` answers 200 ``ready``, else
    ``no_single_leader`` or the leader's readiness (``not_ready``...); raises ConfigError when the replicas
    are misconfigured."""
    replicas = replicas_of(configuration)
    name = the_leader(leader_values(replicas, configuration, secrets, timeout=2.0))
    if name is None:
        return "no_single_leader"
    api = next(r.api for r in replicas if r.name == name)
    client = TraderClient.from_configuration(configuration, secrets).fork(api=api)
    code, body = client.json("GET", "/ready", expect=(200, 503))
    return "ready" if interpret_ready(code, body)["ready"] else "not_ready"


def _faulted() -> Optional[str]:
    """The replica this run paused or cut off (its first split-brain fault event), or None."""
    run = current_run()
    for event in (run.events if run is not None else []):
        if event.get("event") == "fault" and event.get("replica"):
            return str(event["replica"])
    return None


def wait_new_leader(timeout: float = 0, interval: float = 0.05, configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until a replica other than the one this run paused or cut off reports ``trader_is_leader`` 1
    (a standby took the lock), up to ``timeout`` seconds (0: ``WAIT_READY_TIMEOUT``, default 90: the
    lease must run out first, then a re-acquire delay). Returns the wait's record plus ``leader``;
    raises ConditionTimeout at the deadline (with the gauges last seen)."""
    skipped = dry_wait("a new leader")
    if skipped is not None:
        return skipped
    replicas = replicas_of(configuration)
    old = _faulted()

    def observe() -> Dict[str, Optional[float]]:
        return leader_values(replicas, configuration, secrets, timeout=0.5)

    def accept(values: Dict[str, Optional[float]]) -> bool:
        return any(value == 1.0 and name != old for name, value in values.items())

    result = wait_until(observe, accept, timeout=wait_deadline(timeout, configuration, "recover", "a new leader"), interval=interval,
                        what=f"a replica other than {old or 'the old leader'} to lead")
    out = require(result, "trader_is_leader 1 on another replica").as_dict()
    values = result.value or {}
    out["leader"] = next((name for name, value in values.items() if value == 1.0 and name != old), None)
    return out



def _frozen_wall() -> Optional[float]:
    """When this run froze a replica (the wall time of its pause's ``fault_injected`` event), or None."""
    run = current_run()
    for event in (run.events if run is not None else []):
        if event.get("event") == "fault_injected" and str(event.get("target") or "").startswith("pause:"):
            return float(event["wall"])
    return None


def wait_new_leader_trades(timeout: float = 0, interval: float = 0.05, configuration: Configuration = None,
                           secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the broker fault proxy saw an order accepted that *arrived* after this run froze the leader
    (plus 0.2 s for calls in flight): the frozen instance cannot have sent it, so a successor trades. Up to
    ``timeout`` seconds (0: ``WAIT_READY_TIMEOUT``). Returns the wait's record plus ``instance`` (the
    sender's ``X-AITRAPP-Instance``, when it said); ConfigError when no replica was frozen in this run or no
    broker fault proxy is known; raises ConditionTimeout at the deadline."""
    skipped = dry_wait("the new leader to trade")
    if skipped is not None:
        return skipped
    frozen = _frozen_wall()
    if frozen is None:
        raise ConfigError("wait_new_leader_trades: no replica was frozen in this run before it (pause_leader)")
    client = ProxyClient.from_configuration(configuration)

    def observe() -> Optional[Dict[str, Any]]:
        for item in client.history(since_wall=frozen):
            if item.get("kind") == "order" and item.get("status") == 200 and \
                    float(item.get("arrived_wall") or 0) > frozen + 0.2:
                return {"instance": item.get("instance"), "tag": item.get("tag")}
        return None

    result = wait_until(observe, lambda found: found is not None, timeout=wait_deadline(timeout, configuration, "recover", "the new leader to trade"),
                        interval=interval, what="an order placed by the new leader")
    out = require(result, "an order accepted after the freeze").as_dict()
    out["instance"] = (result.value or {}).get("instance")
    return out
