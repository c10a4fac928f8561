"""The replicas family's pre-flight: the target has at least two replicas, each of which the drill knows how
to freeze, or to cut from Redis (its own route through the TCP fault proxy, or its pod on Kubernetes: a NetworkChaos)
(online: it asks the deployment; a single instance is not a failure, the drills do not apply)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.deployment.replicas import instance_id, leader_values, replicas_of
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.network import chaosmesh

#: The activities that act on the leading replica.
LEADER_FUNCS = ("pause_leader", "isolate_leader", "hold_leader_orders")


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """Replica settings that do not fit together (offline); with ``online``, fewer than two replicas, or a
    pause without a way to freeze each one (not applicable)."""
    calls = [c for c in activities if c.func in LEADER_FUNCS]
    if not calls:
        return []
    try:
        replicas = replicas_of(configuration)
    except ChaosAitrappError as exc:
        return [f"the replicas: {exc}"]
    if not online:
        return []
    if len(replicas) < 2:
        return [NotApplicable("split brain needs at least two replicas of the target: set REPLICAS (the other "
                              "replicas' API URLs) and REPLICA_TARGETS, or `aitrapp-chaos lab up --replicas 2`")]
    if any(c.func == "pause_leader" for c in calls) and not all(r.target for r in replicas):
        return [NotApplicable("no way to freeze every replica is known: set REPLICA_TARGETS (process:PIDFILE, pid:N "
                              "or docker:NAME for API, then each of REPLICAS)")]
    for call in (c for c in calls if c.func == "isolate_leader"):
        uncut = [r.name for r in replicas if not r.redis_route and not (r.target or "").startswith("k8s:")]
        if uncut:
            return [NotApplicable(f"no way to cut replica(s) {', '.join(uncut)} from Redis is known: set "
                                  "REPLICA_REDIS_ROUTES (each replica's own route through the TCP fault proxy), or on "
                                  "Kubernetes name each replica's pod in REPLICA_TARGETS (k8s:NAMESPACE/pod/NAME)")]
        if any(not r.redis_route for r in replicas):  # a pod cut by Chaos Mesh: refused now as it would be then
            try:
                chaosmesh.plan("redis", str(call.args.get("kind", "blackhole")), configuration)
            except ChaosAitrappError as exc:
                return [f"activity {call.name!r}: {exc}"]
    return []


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The replicas: each one's API, how it is frozen, its route to Redis and its instance id (given, or read
    from its leader gauge now), and which leads now."""
    if not any(c.func in LEADER_FUNCS for c in activities):
        return []
    try:
        replicas = replicas_of(configuration)
    except ChaosAitrappError as exc:
        return [f"replicas: {exc}"]
    leaders = leader_values(replicas, configuration, secrets, timeout=1.0)
    return [f"replica {r.name} {r.api}: frozen by {r.target or 'unknown'}, Redis route {r.redis_route or 'unknown'}, "
            f"instance {instance_id(r, configuration, secrets, timeout=1.0) or 'unknown'}"
            f"{' (leads now)' if leaders.get(r.name) == 1.0 else ''}" for r in replicas]
