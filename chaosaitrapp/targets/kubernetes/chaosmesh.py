"""Chaos Mesh resources (``chaos-mesh.org/v1alpha1``) as faults: made with chaostoolkit-kubernetes'
``create_custom_object`` and removed with its ``delete_custom_object`` (its own Chaos Mesh helpers set no
``duration`` and no labels, and have no partition), each with

- a ``duration`` no longer than the fault's lease, so Chaos Mesh ends it even if nothing of the drill is left;
- the label :data:`RUN_LABEL` = the drill's run id, by which the rollback, the watchdog and
  ``aitrapp-chaos cleanup`` delete every resource of a run (:meth:`ChaosMeshDriver.start`).

:class:`ChaosMeshDriver` is the fault ledger's driver of one resource: ``answers()`` (the fault is gone) is True
once no resource of its name is left; ``start()`` deletes it, and every other of its kind and run, and waits.
Chaos Mesh injects a resource some time after it is made: ``wait_injected()`` waits until its status says so
(the condition ``AllInjected`` true), so a drill's detection deadline starts when the fault is in place.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_call, api_client, api_error
from chaosaitrapp.waiting import wait_until

GROUP, VERSION = "chaos-mesh.org", "v1alpha1"
#: The label every resource a drill makes carries: the run's id.
RUN_LABEL = "chaosaitrapp.io/run"
#: The kinds this extension makes, by their plural.
KINDS = {"networkchaos": "NetworkChaos", "stresschaos": "StressChaos", "timechaos": "TimeChaos"}
#: The Chaos Mesh version the resources are written for (and the tests validate against).
CHAOS_MESH_VERSION = "2.8.3"
#: How long Chaos Mesh may take to report a new resource injected (seconds; never longer than its lease).
INJECT_TIMEOUT = 30.0


def go_duration(seconds: float) -> str:
    """``seconds`` as a Go duration string (``"90s"``, ``"1500ms"``, ``"-300s"``), as Chaos Mesh's ``duration`` and
    ``timeOffset`` take it."""
    whole = round(float(seconds), 3)
    return f"{int(whole)}s" if whole == int(whole) else f"{int(whole * 1000)}ms"


def selector_labels(text: str, what: str) -> Dict[str, str]:
    """``{"app": "aitrapp"}`` of ``"app=aitrapp[,k=v]"``; ConfigError naming ``what`` for anything else."""
    labels: Dict[str, str] = {}
    for part in [p.strip() for p in str(text or "").split(",") if p.strip()]:
        key, eq, val = (x.strip() for x in part.partition("="))
        if not eq or not re.fullmatch(r"[A-Za-z0-9._/-]+", key) or not re.fullmatch(r"[A-Za-z0-9._-]*", val):
            raise ConfigError(f"{what}: a label selector is key=value[,key=value], got {text!r}")
        labels[key] = val
    if not labels:
        raise ConfigError(f"{what}: a label selector is key=value[,key=value], got {text!r}")
    return labels


def resource(kind: str, name: str, namespace: str, run: str, spec: Mapping[str, Any], duration_s: float,
             lease_s: float) -> Dict[str, Any]:
    """The resource ``kind`` (a plural of :data:`KINDS`) named ``name``, labelled with ``run``, lasting
    ``duration_s``; ConfigError when the duration is longer than the lease (nothing would end it in time)."""
    if kind not in KINDS:
        raise ConfigError(f"Chaos Mesh kind must be one of {sorted(KINDS)}, got {kind!r}")
    if not 0 < float(duration_s) <= float(lease_s):
        raise ConfigError(f"a Chaos Mesh {KINDS[kind]} lasts more than 0 s and at most its lease ({lease_s:g} s), "
                          f"got {duration_s!r}")
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KINDS[kind],
            "metadata": {"name": name, "namespace": namespace, "labels": {RUN_LABEL: run}},
            "spec": {**spec, "duration": go_duration(duration_s)}}


def _objects(kind: str, namespace: str) -> List[Dict[str, Any]]:
    from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
    try:
        found = client.CustomObjectsApi(api_client()).list_namespaced_custom_object(
            GROUP, VERSION, namespace, kind, _request_timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "status", None) == 404:
            return []
        raise api_error(f"listing {kind} in {namespace}", exc) from None
    return [o for o in found.get("items", []) if not (o.get("metadata") or {}).get("deletionTimestamp")]


def create(body: Mapping[str, Any]) -> None:
    """Create ``body`` (:func:`resource`) through chaostoolkit-kubernetes; TargetError naming it on failure."""
    from chaosk8s.crd.actions import create_custom_object  # noqa: PLC0415 - the [kubernetes] extra is optional
    meta = body["metadata"]
    plural = next(p for p, k in KINDS.items() if k == body["kind"])
    try:
        create_custom_object(GROUP, VERSION, plural, meta["namespace"], resource=dict(body))
    except Exception as exc:  # noqa: BLE001 - chaoslib's ActivityFailed and the client's own errors
        raise TargetError(f"creating {body['kind']} {meta['namespace']}/{meta['name']}: {exc}") from None


class ChaosMeshDriver:
    """One Chaos Mesh resource in the fault ledger (module docstring)."""

    def __init__(self, namespace: str, kind: str, name: str, run: str) -> None:
        self.namespace, self.kind, self.name, self.run = namespace, kind, name, run

    def describe(self) -> str:
        """``k8s:NAMESPACE/KIND/NAME``."""
        return f"k8s:{self.namespace}/{self.kind}/{self.name}"

    def _mine(self) -> List[str]:
        return [str(o["metadata"]["name"]) for o in _objects(self.kind, self.namespace)
                if o["metadata"].get("name") == self.name or
                ((o["metadata"].get("labels") or {}).get(RUN_LABEL) == self.run and self.run)]

    def conditions(self) -> Dict[str, str]:
        """Chaos Mesh's conditions of the resource (``{"Selected": "True", "AllInjected": "True", ...}``); ``{}``
        before it reports any; TargetNotFound when the resource is gone, TargetError when the API fails."""
        from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
        body = api_call(f"reading {self.describe()}", self.describe(),
                        lambda: client.CustomObjectsApi(api_client()).get_namespaced_custom_object(
                            GROUP, VERSION, self.namespace, self.kind, self.name, _request_timeout=REQUEST_TIMEOUT))
        found = ((body or {}).get("status") or {}).get("conditions") or []
        return {str(c.get("type")): str(c.get("status")) for c in found if isinstance(c, dict)}

    def wait_injected(self, lease_s: float) -> float:
        """Wait (up to :data:`INJECT_TIMEOUT` s, never past the fault's lease ``lease_s``) until Chaos Mesh reports
        the resource injected (``AllInjected`` true) and return when that held (Unix time); TargetError naming the
        conditions last seen at the deadline."""
        timeout = min(INJECT_TIMEOUT, float(lease_s))
        result = wait_until(self.conditions, lambda seen: seen.get("AllInjected") == "True", timeout=timeout,
                            interval=0.05, what=f"Chaos Mesh to inject {self.describe()}")
        if not result.held:
            raise TargetError(f"{self.describe()}: Chaos Mesh did not report it injected within {timeout:g}s "
                              f"(conditions {result.value or 'none'}"
                              f"{'; ' + result.last_error if result.last_error else ''}): is Chaos Mesh "
                              f"{CHAOS_MESH_VERSION} running in the cluster, and do its selectors pick pods?",
                              target=self.describe())
        return float(result.held_at_wall or 0.0)

    def answers(self) -> bool:
        """True once no resource of this name is left (the fault is over)."""
        return all(o["metadata"].get("name") != self.name for o in _objects(self.kind, self.namespace))

    def is_running(self) -> bool:
        """The same as :meth:`answers`."""
        return self.answers()

    def stop(self, timeout: float = 30.0) -> None:
        """Nothing: the resource is made by the action that injects it."""

    def start(self, timeout: float = 30.0) -> None:
        """Delete this resource and every other of its kind and run (by :data:`RUN_LABEL`), and wait until they
        are gone; TargetError at ``timeout``."""
        from chaosk8s.crd.actions import delete_custom_object  # noqa: PLC0415 - the [kubernetes] extra
        for name in self._mine():
            try:
                delete_custom_object(GROUP, VERSION, self.kind, name, self.namespace)
            except Exception as exc:  # noqa: BLE001 - chaosk8s wraps the API's answer, status and all, in its text
                if name in self._mine():  # not an already-deleted resource: judged by the cluster, not the words
                    raise TargetError(f"deleting {self.describe()}: {exc}") from None
        result = wait_until(self._mine, lambda left: not left, timeout=timeout, interval=0.1,
                            what=f"{self.describe()} and its run's resources gone")
        if not result.held:
            raise TargetError(f"{self.describe()}: still there {timeout:g}s after deletion: {result.value}")

    def undo(self) -> dict:
        """The ledger recipe: the resource and its run."""
        return {"driver": ref_of(ChaosMeshDriver), "namespace": self.namespace, "kind": self.kind,
                "name": self.name, "run": self.run}

    @classmethod
    def from_undo(cls, undo: dict) -> "ChaosMeshDriver":
        """The driver a ledger recipe (:meth:`undo`) describes."""
        return cls(str(undo["namespace"]), str(undo["kind"]), str(undo["name"]), str(undo.get("run") or ""))


def time_chaos_spec(namespace: str, pods: Mapping[str, str], seconds: float) -> Dict[str, Any]:
    """A TimeChaos spec stepping the wall clock (``CLOCK_REALTIME`` only: the monotonic clock runs on) of every pod
    labelled ``pods`` by ``seconds``."""
    return {"mode": "all", "selector": {"namespaces": [namespace], "labelSelectors": dict(pods)},
            "timeOffset": go_duration(seconds), "clockIds": ["CLOCK_REALTIME"]}


def network_chaos_spec(action: str, direction: str, namespace: str, source: Mapping[str, str],
                       target: Mapping[str, str], delay_ms: Optional[float] = None,
                       source_pods: Sequence[str] = ()) -> Dict[str, Any]:
    """A NetworkChaos spec between the pods labelled ``source`` (the trader; or only the pods named ``source_pods``:
    one replica) and ``target`` (the dependency): ``action`` ``partition`` or ``delay`` (``delay_ms``),
    ``direction`` ``to``/``from``/``both``."""
    picked: Dict[str, Any] = {"pods": {namespace: list(source_pods)}} if source_pods else \
        {"labelSelectors": dict(source)}
    spec: Dict[str, Any] = {"action": action, "mode": "all", "direction": direction,
                            "selector": {"namespaces": [namespace], **picked},
                            "target": {"mode": "all",
                                       "selector": {"namespaces": [namespace], "labelSelectors": dict(target)}}}
    if action == "delay":
        spec["delay"] = {"latency": f"{float(delay_ms):g}ms"}
    return spec


def stress_chaos_spec(namespace: str, pod: str, stressors: Mapping[str, Any]) -> Dict[str, Any]:
    """A StressChaos spec running ``stressors`` (Chaos Mesh's own: ``{"cpu": {"workers", "load"}}`` or ``{"memory":
    {"workers", "size"}}``) in the first container of pod ``pod``, inside that container's cgroup (its CPU and
    memory limits)."""
    return {"mode": "all", "selector": {"namespaces": [namespace], "pods": {namespace: [pod]}},
            "stressors": {k: dict(v) for k, v in stressors.items()}}
