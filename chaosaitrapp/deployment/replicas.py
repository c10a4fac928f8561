"""The target's replicas: every instance of the service that contends for the leader lock.

A :class:`Replica` has a ``name`` (``r0`` is the drill's ``API``), its ``api``, how to pause it
(``target``: ``lab:trader_1``, ``process:PIDFILE``, ``pid:N``, ``docker:NAME`` or ``k8s:NAMESPACE/pod/NAME``), the TCP fault
proxy's route by which it reaches Redis (``redis_route``: what the split-brain partition cuts) and its
instance id (how it names itself to the broker, ``X-AITRAPP-Instance``).

:func:`replicas_of` reads them from the settings ``REPLICAS`` (the other replicas' APIs),
``REPLICA_TARGETS``, ``REPLICA_REDIS_ROUTES`` and ``REPLICA_INSTANCE_IDS`` (each in the order ``API`` then
``REPLICAS``), which a deployment description gives (the lab's lists its replicas);
:func:`instance_id` learns an id not given from the replica's own ``trader_is_leader{instance_id}``;
:func:`leader_values` reads every replica's ``trader_is_leader``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.metrics import metric_value, parse_metrics, select
from chaosaitrapp.config import settings_from, value
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.replicas.family import REPLICA_INSTANCE_IDS, REPLICA_REDIS_ROUTES, REPLICA_TARGETS, REPLICAS
from chaosaitrapp.targets.kubernetes.freeze import pod_freeze_driver
from chaosaitrapp.targets.pause import PauseDriver
from chaosaitrapp.targets.processref import SCHEMES as TARGET_SCHEMES
from chaosaitrapp.targets.processref import locate


@dataclass(frozen=True)
class Replica:
    """One instance of the service (module docstring)."""

    name: str
    api: str
    target: Optional[str] = None
    redis_route: Optional[str] = None
    instance_id: Optional[str] = None


def replicas_of(configuration: Optional[Mapping[str, Any]] = None) -> List[Replica]:
    """Every replica, the drill's ``API`` first (module docstring); ConfigError for a target list or route
    list whose length does not match, or an unknown target scheme."""
    settings = settings_from(configuration)
    others = [url.rstrip("/") for url in value(configuration, REPLICAS)]
    for url in others:
        found = urlsplit(url)
        if found.scheme not in ("http", "https") or not found.hostname or found.username or found.password:
            raise ConfigError(f"replicas must be http(s) API URLs without credentials, got {url!r}", key="replicas")
    targets, routes = value(configuration, REPLICA_TARGETS), value(configuration, REPLICA_REDIS_ROUTES)
    ids = value(configuration, REPLICA_INSTANCE_IDS)
    apis = [settings.api] + others
    for key, values in (("replica_targets", targets), ("replica_redis_routes", routes), ("replica_instance_ids", ids)):
        if values and len(values) != len(apis):
            raise ConfigError(f"{key} names {len(values)} replica(s) but there are {len(apis)} (API and REPLICAS, "
                              f"in that order)", key=key)
    for target in targets:
        scheme = target.partition(":")[0]
        if scheme == "k8s":
            pod_freeze_driver(target, "", configuration)  # the form and the namespace guard: no call made
            continue
        if scheme not in TARGET_SCHEMES or not target.partition(":")[2]:
            raise ConfigError(f"replica target {target!r}: expected one of "
                              f"{', '.join(s + ':...' for s in TARGET_SCHEMES)} or k8s:NAMESPACE/pod/NAME",
                              key="replica_targets")
    return [Replica(f"r{i}", api, targets[i] if targets else None, routes[i] if routes else None,
                    ids[i] if ids else None) for i, api in enumerate(apis)]


def instance_id(replica: Replica, configuration: Optional[Mapping[str, Any]] = None,
                secrets: Optional[Mapping[str, Any]] = None, timeout: float = 2.0) -> Optional[str]:
    """``replica``'s instance id: as given (``REPLICA_INSTANCE_IDS``, the description), else the
    ``instance_id`` label its ``trader_is_leader`` gauge publishes (one value, non-empty); None when neither
    says (it cannot be told apart on the broker's wire)."""
    if replica.instance_id:
        return replica.instance_id
    client = TraderClient.from_configuration(configuration, secrets).fork(api=replica.api, http_timeout=timeout)
    try:
        labels = {s.labels.get("instance_id") for s in select(parse_metrics(client.text("/metrics")),
                                                               "trader_is_leader")}
    except ChaosAitrappError:
        return None
    labels.discard(None)
    labels.discard("")
    return labels.pop() if len(labels) == 1 else None


def pause_driver(replica: Replica, configuration: Optional[Mapping[str, Any]] = None) -> Any:
    """How to freeze ``replica`` (a :class:`PauseDriver`, or for ``k8s:NAMESPACE/pod/NAME`` a
    :class:`~chaosaitrapp.targets.kubernetes.freeze.PodFreezeDriver` past the namespace guard); ConfigError when no
    target is known for it, TargetNotFound when its process is gone."""
    if not replica.target:
        raise ConfigError(f"replica {replica.name} ({replica.api}): no way to pause it is known; set REPLICA_TARGETS "
                          "(process:PIDFILE, pid:N or docker:NAME for API, then each of REPLICAS)",
                          key="replica_targets")
    label = f"replica {replica.name} ({replica.api})"
    if replica.target.startswith("k8s:"):
        return pod_freeze_driver(replica.target, label, configuration)
    if replica.target.startswith("docker:"):
        return PauseDriver(container=replica.target.partition(":")[2], label=label)
    pid, _ = locate(replica.target, label)
    return PauseDriver(pid=pid, label=label)


def leader_values(replicas: List[Replica], configuration: Optional[Mapping[str, Any]] = None,
                  secrets: Optional[Mapping[str, Any]] = None, timeout: float = 0.5) -> Dict[str, Optional[float]]:
    """``{name: trader_is_leader}`` of every replica (None for one that did not answer in ``timeout``: a
    frozen process answers nothing)."""
    out: Dict[str, Optional[float]] = {}
    for replica in replicas:
        client = TraderClient.from_configuration(configuration, secrets).fork(api=replica.api, http_timeout=timeout)
        try:
            out[replica.name] = metric_value(parse_metrics(client.text("/metrics")), "trader_is_leader", None,
                                             aggregate="max")
        except Exception:  # noqa: BLE001 - an unreadable replica is None, never a guess
            out[replica.name] = None
    return out


def the_leader(values: Mapping[str, Optional[float]]) -> Optional[str]:
    """The one replica reporting leader 1, or None when none or several do."""
    leaders = [name for name, value in values.items() if value == 1.0]
    return leaders[0] if len(leaders) == 1 else None
