"""What a run may do on Kubernetes: the one namespace-scoped Role every drill through the ``k8s:`` target kind
needs (:data:`RULES`), and whether this service account has it (:func:`access`: a SelfSubjectAccessReview per
verb, the API server's own answer; nothing is created but the reviews).

- ``apps`` statefulsets, deployments: ``get`` and ``patch`` (a dependency scaled to 0 and back through its
  ``spec.replicas``, the replicas it had noted in an annotation);
- pods: ``get``, ``list`` (a workload's pods, their readiness; a replica's container), ``delete`` (a dependency's
  pod deleted for a blip: ``k8s:NAMESPACE/KIND/NAME/delete-pod``);
- ``pods/exec``: ``create`` (and ``get``, which API servers before 1.31 check for the WebSocket exec): a replica
  frozen and thawed with ``kill -STOP|-CONT -1``;
- ``metrics.k8s.io`` pods: ``get`` (a stressed pod's CPU and memory, from metrics-server);
- ``chaos-mesh.org`` networkchaos, stresschaos, timechaos: ``create``, ``get``, ``list``, ``delete`` (faults made,
  and deleted by the run's label by the rollback, the watchdog and ``aitrapp-chaos cleanup``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_client

#: ``(API group, resource, verbs)`` of the Role (module docstring).
RULES: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("apps", "statefulsets", ("get", "patch")),
    ("apps", "deployments", ("get", "patch")),
    ("", "pods", ("get", "list", "delete")),
    ("", "pods/exec", ("create", "get")),
    ("metrics.k8s.io", "pods", ("get",)),
    ("chaos-mesh.org", "networkchaos", ("create", "get", "list", "delete")),
    ("chaos-mesh.org", "stresschaos", ("create", "get", "list", "delete")),
    ("chaos-mesh.org", "timechaos", ("create", "get", "list", "delete")),
)


def role(namespace: str, name: str = "aitrapp-chaos") -> Dict[str, Any]:
    """The Role manifest granting :data:`RULES` in ``namespace``."""
    rules = []
    for group, resource, verbs in RULES:
        rules.append({"apiGroups": [group], "resources": [resource], "verbs": list(verbs)})
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": rules}


def _review(authorization: Any, namespace: str, group: str, resource: str, verb: str) -> str:
    """``allowed``, ``denied`` or ``unknown: why`` for one verb."""
    plain, _, sub = resource.partition("/")
    attributes = {"namespace": namespace, "group": group, "resource": plain, "verb": verb}
    if sub:
        attributes["subresource"] = sub
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes}}
    try:
        answer = authorization.create_self_subject_access_review(body, _request_timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure is an unknown, never an allowed
        return f"unknown: {getattr(exc, 'status', '')} {getattr(exc, 'reason', None) or type(exc).__name__}".strip()
    status = getattr(answer, "status", None)
    if status is None or getattr(status, "allowed", None) is None:
        return "unknown: the API server did not decide"
    return "allowed" if status.allowed else "denied"


def access(namespace: str) -> List[Tuple[str, str]]:
    """``[("verb group/resource", "allowed"|"denied"|"unknown: why")]`` for every verb of :data:`RULES` in
    ``namespace``, as the API server answers a SelfSubjectAccessReview of each."""
    from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
    authorization = client.AuthorizationV1Api(api_client())
    out = []
    for group, resource, verbs in RULES:
        for verb in verbs:
            out.append((f"{verb} {group + '/' if group else ''}{resource}",
                        _review(authorization, namespace, group, resource, verb)))
    return out
