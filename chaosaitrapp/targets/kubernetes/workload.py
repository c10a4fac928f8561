"""``k8s:NAMESPACE/statefulset/NAME`` and ``k8s:NAMESPACE/deployment/NAME``: a dependency run by the cluster.

Stop = scale to 0 (chaostoolkit-kubernetes' ``scale_statefulset``/``scale_deployment``) and wait until none of
its pods is left; start = scale back to the replicas it had and wait until that many pods are Ready (the
cluster's own readiness probe is the answer check: the drill may not reach a pod's port).

``k8s:NAMESPACE/KIND/NAME/delete-pod`` stops it for a blip instead: one of its pods (the first by name) deleted
with its own grace period (chaostoolkit-kubernetes' ``terminate_pods``), and the stop waits until that pod (by its
uid) is gone. The controller makes a new one at once: the outage is whatever the restart takes, not the drill's
hold. Start is the same wait until the replicas are Ready (nothing was scaled). Before scaling down,
the replicas it had are written on the workload as the annotation :data:`REPLICAS_ANNOTATION` and in the fault
ledger's recipe, so the rollback, the watchdog, ``aitrapp-chaos cleanup`` and a person with ``kubectl`` each know
what to scale back to; a start clears the annotation once the pods are Ready.

Pods are the workload's ``spec.selector.matchLabels``; the API server's answer to the label query is checked
against those labels again (a pod of another workload never counts).
"""
from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_call, api_error, apps_api, core_api
from chaosaitrapp.waiting import wait_until

#: The workload kinds a dependency may be, as written in a target string.
KINDS = ("statefulset", "deployment")
#: The annotation that holds the replicas a workload had before a drill scaled it to 0.
REPLICAS_ANNOTATION = "chaosaitrapp.io/replicas-before"
#: How a workload is stopped: scaled to 0 (the default), or one pod deleted (a blip).
STOPS = ("scale", "delete-pod")


def parse(rest: str) -> tuple:
    """``(namespace, kind, name, stop)`` of ``NAMESPACE/KIND/NAME[/delete-pod]`` (the part after ``k8s:``; ``stop``
    one of :data:`STOPS`); ConfigError naming the form for anything else."""
    parts = str(rest).split("/")
    if len(parts) == 4 and parts[3] == "delete-pod":
        parts, stop = parts[:3], "delete-pod"
    else:
        stop = "scale"
    if len(parts) != 3 or not all(parts) or parts[1].lower() not in KINDS:
        raise ConfigError(f"k8s:{rest}: a dependency on Kubernetes is named k8s:NAMESPACE/statefulset/NAME or "
                          "k8s:NAMESPACE/deployment/NAME (with /delete-pod after it: one pod deleted for a blip)",
                          target=f"k8s:{rest}")
    return parts[0], parts[1].lower(), parts[2], stop


class WorkloadDriver:
    """A StatefulSet or Deployment as a dependency (module docstring). ``replicas``: what to scale back to
    (None: read from the workload, its annotation first); ``stop``: one of :data:`STOPS`."""

    def __init__(self, namespace: str, kind: str, name: str, replicas: Optional[int] = None,
                 check: Optional[str] = None, stop: str = "scale") -> None:
        if kind not in KINDS:
            raise ConfigError(f"k8s: workload kind must be one of {KINDS}, got {kind!r}")
        if stop not in STOPS:
            raise ConfigError(f"k8s: a workload is stopped by one of {STOPS}, got {stop!r}")
        self.namespace, self.kind, self.name, self.replicas, self.check = namespace, kind, name, replicas, check
        self.stop_by = stop

    @property
    def heals_itself(self) -> bool:
        """True for a blip: the controller makes the deleted pod again without the drill."""
        return self.stop_by == "delete-pod"

    def describe(self) -> str:
        """``k8s:NAMESPACE/KIND/NAME`` (``/delete-pod`` after it when a pod is deleted for a blip)."""
        return f"k8s:{self.namespace}/{self.kind}/{self.name}" + ("/delete-pod" if self.stop_by == "delete-pod" else "")

    # -- the API ---------------------------------------------------------------------------------------
    def _read(self) -> Any:
        api = apps_api()
        read = api.read_namespaced_stateful_set if self.kind == "statefulset" else api.read_namespaced_deployment
        return api_call(f"reading {self.describe()}", self.describe(),
                        lambda: read(self.name, self.namespace, _request_timeout=REQUEST_TIMEOUT),
                        missing=f"no such {self.kind} in namespace {self.namespace}")

    def _selector(self, workload: Any) -> Dict[str, str]:
        labels = dict((workload.spec.selector.match_labels or {}) if workload.spec.selector else {})
        if not labels:
            raise TargetError(f"{self.describe()} has no spec.selector.matchLabels: its pods cannot be told apart")
        return labels

    def selector(self) -> Dict[str, str]:
        """The labels of the workload's pods (its ``spec.selector.matchLabels``, read from the API)."""
        return self._selector(self._read())

    def pods(self, workload: Any = None) -> List[Any]:
        """The workload's pods now (not those being deleted are included: a pod that still runs is running)."""
        labels = self._selector(workload or self._read())
        try:
            found = core_api().list_namespaced_pod(self.namespace, label_selector=",".join(
                f"{k}={v}" for k, v in sorted(labels.items())), _request_timeout=REQUEST_TIMEOUT).items
        except Exception as exc:  # noqa: BLE001
            raise api_error(f"listing the pods of {self.describe()}", exc) from None
        return [p for p in found if all((p.metadata.labels or {}).get(k) == v for k, v in labels.items())]

    @staticmethod
    def _ready(pod: Any) -> bool:
        if pod.metadata.deletion_timestamp or not pod.status or pod.status.phase != "Running":
            return False
        return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))

    def _scale(self, replicas: int) -> None:
        from chaosk8s.deployment.actions import scale_deployment  # noqa: PLC0415 - the [kubernetes] extra
        from chaosk8s.statefulset.actions import scale_statefulset  # noqa: PLC0415 - the [kubernetes] extra
        scale = scale_statefulset if self.kind == "statefulset" else scale_deployment
        try:
            scale(name=self.name, replicas=replicas, ns=self.namespace)
        except Exception as exc:  # noqa: BLE001 - chaoslib's ActivityFailed and the client's own errors
            raise TargetError(f"scaling {self.describe()} to {replicas}: {exc}", target=self.describe()) from None

    def _annotate(self, replicas: Optional[int]) -> None:
        api = apps_api()
        patch = api.patch_namespaced_stateful_set if self.kind == "statefulset" else api.patch_namespaced_deployment
        body = {"metadata": {"annotations": {REPLICAS_ANNOTATION: None if replicas is None else str(replicas)}}}
        try:
            patch(self.name, self.namespace, body, _request_timeout=REQUEST_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            raise api_error(f"annotating {self.describe()}", exc) from None

    # -- the driver ------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while the workload wants replicas or any of its pods is left (for a blip: the controller keeps it
        wanting them)."""
        workload = self._read()
        return bool(workload.spec.replicas) or bool(self.pods(workload))

    def answers(self) -> bool:
        """True when the workload wants replicas and that many of its pods are Ready."""
        workload = self._read()
        wanted = workload.spec.replicas or 0
        return wanted > 0 and self._ready_count(workload) >= wanted

    def _ready_count(self, workload: Any) -> int:
        return sum(1 for p in self.pods(workload) if self._ready(p))

    def _before(self, workload: Any) -> Optional[int]:
        if self.replicas:
            return self.replicas
        if workload.spec.replicas:
            return int(workload.spec.replicas)
        noted = (workload.metadata.annotations or {}).get(REPLICAS_ANNOTATION)
        return int(noted) if noted and str(noted).isdigit() and int(noted) > 0 else None

    def _delete_pod(self, workload: Any, timeout: float) -> None:
        """Delete the first of its pods by name (its own grace period) and wait until that pod, by its uid, is gone
        (TargetError at ``timeout``)."""
        from chaosk8s.pod.actions import terminate_pods  # noqa: PLC0415 - the [kubernetes] extra is optional
        pods = sorted((p for p in self.pods(workload) if not p.metadata.deletion_timestamp),
                      key=lambda p: p.metadata.name)
        if not pods:
            raise TargetError(f"{self.describe()}: no pod to delete", target=self.describe())
        victim, uid = pods[0].metadata.name, pods[0].metadata.uid
        try:
            terminate_pods(name_pattern=f"^{re.escape(victim)}$", ns=self.namespace, qty=1)
        except Exception as exc:  # noqa: BLE001 - chaoslib's ActivityFailed and the client's own errors
            raise TargetError(f"deleting pod {victim} of {self.describe()}: {exc}", target=self.describe()) from None
        result = wait_until(lambda: [p.metadata.uid for p in self.pods(workload)], lambda uids: uid not in uids,
                            timeout=timeout, interval=0.05, what=f"{self.describe()}: pod {victim} ({uid}) gone")
        if not result.held:
            raise TargetError(f"{self.describe()}: pod {victim} still there {timeout:g}s after its deletion"
                              f"{'; ' + result.last_error if result.last_error else ''}", target=self.describe())

    def stop(self, timeout: float = 30.0) -> None:
        """Note the replicas it has, scale to 0, wait until no pod of it is left (TargetError at ``timeout``); for a
        blip (``delete-pod``), delete one pod and wait until it is gone."""
        workload = self._read()
        self.replicas = self._before(workload)
        if self.stop_by == "delete-pod":
            self._delete_pod(workload, timeout)
            return
        if self.replicas:
            self._annotate(self.replicas)
        self._scale(0)
        result = wait_until(lambda: len(self.pods(workload)), lambda n: n == 0, timeout=timeout, interval=0.1,
                            what=f"{self.describe()}: no pod left")
        if not result.held:
            raise TargetError(f"{self.describe()}: {result.value} pod(s) still there {timeout:g}s after scaling to 0"
                              f"{'; ' + result.last_error if result.last_error else ''}", target=self.describe())

    def start(self, timeout: float = 60.0) -> None:
        """Scale back to the replicas it had (its recipe, else its annotation) and wait until that many pods are
        Ready; then clear the annotation. TargetError at ``timeout``, or when the count is nowhere to be known."""
        began = time.monotonic()
        workload = self._read()
        replicas = self._before(workload)
        if not replicas:
            raise TargetError(f"{self.describe()} is scaled to 0 and nothing says to how many it ran (no ledger "
                              f"recipe, no {REPLICAS_ANNOTATION} annotation): scale it by hand", target=self.describe())
        if (workload.spec.replicas or 0) != replicas:
            self._scale(replicas)
        left = max(0.1, timeout - (time.monotonic() - began))
        result = wait_until(lambda: self._ready_count(workload), lambda n: n >= replicas, timeout=left, interval=0.1,
                            what=f"{self.describe()}: {replicas} pod(s) Ready")
        if not result.held:
            raise TargetError(f"{self.describe()}: not {replicas} pod(s) Ready {timeout:g}s after scaling back"
                              f"{'; ' + result.last_error if result.last_error else ''}", target=self.describe())
        if (workload.metadata.annotations or {}).get(REPLICAS_ANNOTATION):
            self._annotate(None)

    def undo(self) -> dict:
        """The ledger recipe: the workload and the replicas it has now (read here, before the fault)."""
        if not self.replicas:
            self.replicas = self._before(self._read())
        return {"driver": ref_of(WorkloadDriver), "namespace": self.namespace, "kind": self.kind, "name": self.name,
                "replicas": self.replicas, "check": self.check, "stop": self.stop_by}

    @classmethod
    def from_undo(cls, undo: dict) -> "WorkloadDriver":
        """The driver a ledger recipe (:meth:`undo`) describes."""
        return cls(str(undo["namespace"]), str(undo["kind"]), str(undo["name"]), undo.get("replicas"), undo.get("check"),
                   str(undo.get("stop") or "scale"))


def k8s_driver(rest: str, service: str) -> WorkloadDriver:
    """The ``k8s:`` target kind's driver for dependency ``service`` (no call to the API is made here)."""
    namespace, kind, name, stop = parse(rest)
    return WorkloadDriver(namespace, kind, name, check=service or None, stop=stop)
