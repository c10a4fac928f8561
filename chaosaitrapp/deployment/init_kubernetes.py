"""``aitrapp-chaos target init --k8s-namespace NS --k8s-trader-selector app=aitrapp``: a first deployment
description of AITRAPP on Kubernetes, read from the cluster through the API (the Role of
:mod:`chaosaitrapp.targets.kubernetes.rbac` suffices; nothing is changed).

- Redis and Postgres: the StatefulSets (else Deployments) of the namespace whose container image, or name, says
  ``redis`` / ``postgres`` become ``k8s:NS/statefulset/NAME`` targets;
- the trader: the Running pods the selector picks, sorted by name. The first is the drill's ``api`` (its own
  address: ``http://POD_IP:PORT``, the port its container declares, ``http`` first) and the stress drills'
  ``target_process``; the others are ``replicas``; each is frozen through the exec API (``replica_targets``).
  A pod's IP changes when the pod is made again: run ``target init`` again then;
- the lock is read through Redis's Service: the ``REDIS_URL`` secret, by reference.

Nothing a container's environment holds is written; what the cluster cannot say is left as commented lines.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.description import Description
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets.docker_infer import infer_check
from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_error, apps_api, core_api
from chaosaitrapp.targets.kubernetes.chaosmesh import selector_labels

SECRET_REFS = {"api_key": {"type": "env", "key": "API_KEY"}, "database_url": {"type": "env", "key": "DATABASE_URL"},
               "redis_url": {"type": "env", "key": "REDIS_URL"}}

#: Lines a team fills in: what the cluster does not say.
TO_FILL = (
    "  # Fill in what the drills cannot read from the cluster (uncomment):",
    "#  broker_proxy: http://kite-proxy.aitrapp.svc:8003  # the broker fault proxy's control URL, as a Service",
    "#  lock_ttl: 30                                      # the service's lock timing; unset: learned from the lock key",
    "#  lock_refresh: 10",
    "#  lock_backoff_max: 30.5",
)


def _port(pod: Any) -> Optional[int]:
    """The port the pod's first container declares (one named ``http`` first); None when it declares none."""
    ports = list(pod.spec.containers[0].ports or []) if pod.spec and pod.spec.containers else []
    named = [p for p in ports if (p.name or "") == "http"]
    chosen = (named or ports or [None])[0]
    return int(chosen.container_port) if chosen is not None else None


def _workloads(namespace: str) -> List[Tuple[str, str, str]]:
    """``(kind, name, image)`` of every StatefulSet, then Deployment, of ``namespace``."""
    api = apps_api()
    out = []
    for kind, call in (("statefulset", api.list_namespaced_stateful_set),
                       ("deployment", api.list_namespaced_deployment)):
        try:
            items = call(namespace, _request_timeout=REQUEST_TIMEOUT).items
        except Exception as exc:  # noqa: BLE001 - the client's ApiException and its transport's errors
            raise api_error(f"listing the {kind}s of namespace {namespace}", exc) from None
        for item in sorted(items, key=lambda i: i.metadata.name):
            containers = item.spec.template.spec.containers if item.spec and item.spec.template else []
            out.append((kind, str(item.metadata.name), str(containers[0].image if containers else "")))
    return out


def _traders(namespace: str, labels: Dict[str, str]) -> List[Any]:
    """The Running pods of ``namespace`` carrying every label of ``labels``, sorted by name."""
    try:
        found = core_api().list_namespaced_pod(namespace, label_selector=",".join(
            f"{k}={v}" for k, v in sorted(labels.items())), _request_timeout=REQUEST_TIMEOUT).items
    except Exception as exc:  # noqa: BLE001
        raise api_error(f"listing the pods of namespace {namespace}", exc) from None
    picked = [p for p in found if all((p.metadata.labels or {}).get(k) == v for k, v in labels.items())
              and not p.metadata.deletion_timestamp and p.status is not None and p.status.phase == "Running"]
    return sorted(picked, key=lambda p: p.metadata.name)


def from_kubernetes(namespace: str, trader_selector: str) -> Tuple[Description, List[str]]:
    """A description of AITRAPP in ``namespace`` (module docstring) and notes (one per workload and pod seen);
    ConfigError for a bad selector or no trader pod with an address, TargetError when the API fails."""
    if not namespace:
        raise ConfigError("target init on Kubernetes needs the namespace (--k8s-namespace)")
    labels = selector_labels(trader_selector, "--k8s-trader-selector")
    values: Dict[str, Any] = {"k8s_namespace": namespace, "k8s_trader_selector": trader_selector}
    notes: List[str] = []
    for kind, name, image in _workloads(namespace):
        check = infer_check(image, name, name)
        if check in ("redis", "postgres") and f"{check}_target" not in values:
            values[f"{check}_target"] = f"k8s:{namespace}/{kind}/{name}"
            notes.append(f"{check}: {kind} {name} ({image})")
        else:
            notes.append(f"{kind} {name} ({image})")
    pods = [(p, _port(p)) for p in _traders(namespace, labels)]
    reachable = [(p, port) for p, port in pods if p.status.pod_ip and port]
    for pod, port in pods:
        notes.append(f"trader pod {pod.metadata.name} ({pod.status.pod_ip or 'no IP'}:{port or 'no port declared'})")
    if not reachable:
        raise ConfigError(f"no Running pod in namespace {namespace} carries {trader_selector} with an IP and a "
                          f"declared container port ({len(pods)} pod(s) seen): is the trader up?")
    apis = [f"http://{p.status.pod_ip}:{port}" for p, port in reachable]
    targets = [f"k8s:{namespace}/pod/{p.metadata.name}" for p, _ in reachable]
    values.update(api=apis[0], target_process=targets[0])
    if len(reachable) > 1:
        values.update(replicas=",".join(apis[1:]), replica_targets=",".join(targets))
    return Description(values, dict(SECRET_REFS), provider="target init (Kubernetes)"), notes
