"""``k8s:NAMESPACE/pod/NAME`` as a replica to freeze: ``kill -STOP -1`` run in the pod's first container through the
exec API (chaostoolkit-kubernetes' ``exec_in_pods``), thawed by ``kill -CONT -1``.

``-1`` is every process of the container's PID namespace but its init and the ``kill`` itself: PID 1 ignores a
SIGSTOP sent from inside its namespace, so the app must run under an init (``tini``, ``dumb-init``, or a pod with
``shareProcessNamespace: true``, whose PID 1 is the pause container; then every container of the pod is frozen).
The image must have ``kill`` (busybox or coreutils). Chaos Mesh has no freeze of its own: PodChaos kills.
"""
from __future__ import annotations

import re
from typing import Any, List, Optional

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_call, core_api
from chaosaitrapp.targets.kubernetes.guard import check_namespace

FREEZE = ["kill", "-STOP", "-1"]
THAW = ["kill", "-CONT", "-1"]


def parse_pod(rest: str) -> tuple:
    """``(namespace, pod)`` of ``NAMESPACE/pod/NAME``; ConfigError naming the form otherwise."""
    parts = str(rest).split("/")
    if len(parts) != 3 or not all(parts) or parts[1].lower() != "pod":
        raise ConfigError(f"k8s:{rest}: a replica on Kubernetes is named k8s:NAMESPACE/pod/NAME", target=f"k8s:{rest}")
    return parts[0], parts[2]


class PodFreezeDriver:
    """One pod's processes frozen and thawed through the exec API (module docstring). ``stop`` freezes,
    ``start`` thaws (idempotent: a SIGCONT to running processes changes nothing)."""

    def __init__(self, namespace: str, pod: str, label: str = "") -> None:
        self.namespace, self.pod, self.label = namespace, pod, label
        self.thawed: Optional[bool] = None

    def describe(self) -> str:
        """``pause:k8s:NAMESPACE/pod/NAME`` (a pause is named ``pause:...`` whatever freezes it)."""
        return f"pause:k8s:{self.namespace}/pod/{self.pod}"

    def _container(self) -> str:
        found = api_call(f"reading {self.describe()}", self.describe(), lambda: core_api().read_namespaced_pod(
            self.pod, self.namespace, _request_timeout=REQUEST_TIMEOUT), missing="no such pod")
        return str(found.spec.containers[0].name)

    def _exec(self, command: List[str]) -> None:
        from chaosk8s.pod.actions import exec_in_pods  # noqa: PLC0415 - the [kubernetes] extra is optional
        try:
            results = exec_in_pods(command, name_pattern=f"^{re.escape(self.pod)}$", ns=self.namespace,
                                   container_name=self._container(), request_timeout=int(REQUEST_TIMEOUT))
        except TargetError:
            raise
        except Exception as exc:  # noqa: BLE001 - chaoslib's ActivityFailed, websocket and client errors
            raise TargetError(f"{' '.join(command)} in {self.describe()}: {exc}", target=self.describe()) from None
        if not results:
            raise TargetError(f"{' '.join(command)} in {self.describe()}: the pod was not found to run it in",
                              target=self.describe())
        if results[0]["exit_code"] not in (0, "0"):
            raise TargetError(f"{' '.join(command)} in {self.describe()}: exit {results[0]['exit_code']}: "
                              f"{results[0]['stderr']}", target=self.describe())

    def is_running(self) -> bool:
        """True unless this driver froze the pod and has not thawed it."""
        return self.thawed is not False

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Freeze the pod's processes; TargetError when the exec fails."""
        self._exec(FREEZE)
        self.thawed = False

    def start(self, timeout: float = 10.0) -> None:
        """Thaw the pod's processes; TargetError when the exec fails."""
        self._exec(THAW)
        self.thawed = True

    def undo(self) -> dict:
        """The ledger recipe: the pod."""
        return {"driver": ref_of(PodFreezeDriver), "namespace": self.namespace, "pod": self.pod, "label": self.label}

    @classmethod
    def from_undo(cls, undo: dict) -> "PodFreezeDriver":
        """The driver a ledger recipe (:meth:`undo`) describes."""
        return cls(str(undo["namespace"]), str(undo["pod"]), str(undo.get("label") or ""))


def pod_freeze_driver(target: str, label: str = "", configuration: Any = None) -> PodFreezeDriver:
    """The driver of ``k8s:NAMESPACE/pod/NAME``, past the namespace guard (no call to the cluster is made)."""
    namespace, pod = parse_pod(str(target).partition(":")[2])
    driver = PodFreezeDriver(namespace, pod, label)
    check_namespace(driver.namespace, driver.describe(), configuration)
    return driver
