"""Chaos Mesh, played for the tests: its resources checked against its own CRD schemas and carried out on the
target deployed by hand.

The schemas are Chaos Mesh's CustomResourceDefinitions at :data:`CHAOS_MESH_VERSION`, kept unchanged (with Chaos
Mesh's licence) in ``crds/chaos-mesh-v<version>/`` beside this module; a missing one fails the test, never skips
it. Validation is strict as ``kubectl --validate=strict`` is: a field the schema does not name is an error.

:class:`PlayedChaosMesh` plays its controllers, from when a resource is first seen until its ``duration`` ends or
it is deleted, whichever comes first: a NetworkChaos whose selector picks the trader's pods (all by their labels,
or some by name) and whose target picks Redis's (or Postgres') becomes a fault on the TCP fault proxy routes those
pods reach it by (``partition`` = blackhole, ``delay`` = latency); a TimeChaos of the trader's pods writes its ``timeOffset`` into the clock file the trader's
wall-clock shim reads (``+0`` at its end); a StressChaos of a trader pod runs real ``stress-ng`` (through the
extension's own :class:`~chaosaitrapp.stress.stressor.StressDriver`, as Chaos Mesh's daemon runs it) inside the cgroup
of the process the pod stands for, as in its container. Once it acted, it writes the resource's status as Chaos Mesh
does (``AllInjected``), which the drill waits for, and at the end ``AllRecovered``.
"""
from __future__ import annotations

import copy
import functools
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import jsonschema
import yaml
from kubernetes.client import ApiException

from chaosaitrapp.network.client import NetProxyClient
from chaosaitrapp.stress.stressor import StressDriver
from chaosaitrapp.targets.kubernetes.chaosmesh import CHAOS_MESH_VERSION, GROUP, RUN_LABEL, VERSION
from chaosaitrapp.targets.wallclock import ClockSetting, write_clock

CRDS = Path(__file__).resolve().parent / "crds" / f"chaos-mesh-v{CHAOS_MESH_VERSION}"
#: The metadata fields a resource of ours may carry.
METADATA = {"name", "namespace", "labels", "annotations"}
DIRECTIONS = {"both": "both", "to": "to_dependency", "from": "from_dependency"}


def _strict(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.lru_cache(maxsize=None)
def crd_schema(plural: str) -> Dict[str, Any]:
    """The strict JSON schema of Chaos Mesh's ``plural`` (``networkchaos``...) at ``v1alpha1``; AssertionError
    naming the file when the vendored CRD is missing."""
    path = CRDS / f"{GROUP}_{plural}.yaml"
    assert path.is_file(), (f"Chaos Mesh's CRD {path} is missing: keep Chaos Mesh v{CHAOS_MESH_VERSION}'s "
                            f"config/crd/bases/{path.name} there")
    crd = yaml.safe_load(path.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == VERSION)
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return _strict(schema)


def go_seconds(text: str) -> float:
    """Seconds of a possibly signed Go duration (``"1m30s"``, ``"1500ms"``, ``"-300s"``); ValueError for anything
    else."""
    sign, body = (-1.0, str(text)[1:]) if str(text).startswith("-") else (1.0, str(text))
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"not a Go duration: {text!r}")
    return sign * sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)


def validate(body: Mapping[str, Any]) -> None:
    """``body`` is a valid Chaos Mesh resource of ours: its CRD's schema (strict), its metadata fields, its run
    label and a ``duration``; raises jsonschema's ValidationError or AssertionError."""
    plural = str(body["kind"]).lower()
    jsonschema.validate(dict(body), crd_schema(plural))
    if "timeOffset" in body["spec"]:
        go_seconds(body["spec"]["timeOffset"])
    meta = body["metadata"]
    assert set(meta) <= METADATA, f"unknown metadata fields {set(meta) - METADATA}"
    assert (meta.get("labels") or {}).get(RUN_LABEL), f"{meta.get('name')} has no {RUN_LABEL} label"
    go_seconds(body["spec"]["duration"])


class PlayedChaosMesh:
    """Chaos Mesh's NetworkChaos, TimeChaos and StressChaos controllers, played (module docstring). ``routes``:
    ``{"k=v": {trader pod: route}}``, each trader pod's proxy route to the dependency pods with those labels; ``trader``: the trader pods'
    labels; ``clock_file``: the clock file of the trader's wall-clock shim (a TimeChaos of the trader's pods writes
    its offset there), or None; ``pods``: the trader pods by name (each with the ``pidfile`` of its process and the
    ``cgroup`` it runs in, None for ours)."""

    KINDS = ("networkchaos", "timechaos", "stresschaos")

    def __init__(self, custom: Any, namespace: str, proxy_url: str, trader: Mapping[str, str],
                 routes: Mapping[str, Mapping[str, str]], clock_file: Optional[Path] = None,
                 pods: Optional[Mapping[str, Any]] = None) -> None:
        self.custom, self.namespace, self.proxy = custom, namespace, NetProxyClient(proxy_url)
        self.trader, self.routes, self.clock_file = dict(trader), {k: dict(v) for k, v in routes.items()}, clock_file
        self.pods = dict(pods or {})
        self._stressors: Dict[str, StressDriver] = {}
        self._faults: Dict[str, List[str]] = {}  # a NetworkChaos's faults on the TCP fault proxy
        self.seen: Dict[str, Dict[str, Any]] = {}  # every resource ever seen, by name, as first seen
        self.invalid: List[str] = []
        self._began: Dict[str, float] = {}
        self._live: Dict[str, bool] = {}

    def stressing(self) -> List[str]:
        """The StressChaos resources whose stress-ng still runs."""
        return [name for name, driver in list(self._stressors.items()) if not driver.is_running()]

    def reconcile(self) -> None:
        """One pass over the namespace's NetworkChaos and TimeChaos resources."""
        present = {}
        for kind in self.KINDS:
            for body in self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, kind)["items"]:
                name = body["metadata"]["name"]
                present[name] = body
                if name in self.seen:
                    continue
                self.seen[name] = copy.deepcopy(body)
                self._began[name] = time.monotonic()
                try:
                    validate(body)
                except Exception as exc:  # noqa: BLE001 - kept for the test to show
                    self.invalid.append(f"{name}: {exc}"[:400])
                    continue
                self._live[name] = self._inject(name, body)
                self._report(kind, name, self._live[name])
        for name, live in list(self._live.items()):
            body = self.seen[name]
            over = time.monotonic() - self._began[name] >= go_seconds(body["spec"]["duration"])
            if live and (name not in present or over):
                self._end(name, body)
                self._live[name] = False
                if name in present:
                    self._report(body["kind"].lower(), name, True, recovered=True)

    def _inject(self, name: str, body: Mapping[str, Any]) -> bool:
        spec = body["spec"]
        if body["kind"] == "StressChaos":
            return self._stress(name, spec)
        selector = spec["selector"]
        named = (selector.get("pods") or {}).get(self.namespace)
        if named is not None:
            picked = [p for p in named if p in self.pods]  # the trader pods named (one replica)
        else:
            picked = list(self.pods) if (selector.get("labelSelectors") or {}) == self.trader else []
        if not picked:
            return False  # selects no pod of the trader
        if body["kind"] == "TimeChaos":
            if self.clock_file is None or named is not None:
                return False  # the played trader has no clock to step (one clock for every pod)
            write_clock(self.clock_file, ClockSetting(go_seconds(spec["timeOffset"])))
            return True
        target = (spec.get("target") or {}).get("selector", {}).get("labelSelectors") or {}
        by_pod = self.routes.get(",".join(f"{k}={v}" for k, v in sorted(target.items()))) or {}
        routes = sorted({by_pod[p] for p in picked if p in by_pod})
        if not routes:
            return False  # no dependency the played cluster has
        kind, params = "blackhole", {"direction": DIRECTIONS[spec.get("direction", "to")]}
        if spec["action"] == "delay":
            kind = "latency"
            params["delay_ms"] = go_seconds(spec["delay"]["latency"]) * 1000
        self._faults[name] = [f"{name}-{route}" for route in routes]
        for route, fault_id in zip(routes, self._faults[name]):  # each picked pod's own route to the dependency
            self.proxy.add(kind, {**params, "route": route}, go_seconds(spec["duration"]) + 5, fault_id)
        return True

    def _stress(self, name: str, spec: Mapping[str, Any]) -> bool:
        """Run the StressChaos's stressors in the cgroup of the one trader pod it selects (module docstring)."""
        picked = [p for p in (spec["selector"].get("pods") or {}).get(self.namespace, []) if p in self.pods]
        if len(picked) != 1:
            return False  # selects no pod the played cluster runs
        pod = self.pods[picked[0]]
        stressors, seconds = spec["stressors"], go_seconds(spec["duration"])
        if "cpu" in stressors:
            argv = ["--cpu", str(stressors["cpu"]["workers"]), "--cpu-load", str(stressors["cpu"].get("load", 100))]
        else:
            size = re.fullmatch(r"(\d+)(MiB|KiB)", stressors["memory"]["size"])
            assert size, f"the played Chaos Mesh takes a size in MiB or KiB, not {stressors['memory']['size']!r}"
            argv = ["--vm", str(stressors["memory"]["workers"]), "--vm-bytes",
                    f"{size.group(1)}{size.group(2)[0].lower()}", "--vm-keep"]
        driver = StressDriver([*argv, "--timeout", f"{seconds:g}s"], label=f"played StressChaos {name}",
                              cgroup_procs=pod.cgroup.procs_files() if pod.cgroup is not None else [])
        driver.stop()
        self._stressors[name] = driver
        return True

    def _report(self, kind: str, name: str, live: bool, recovered: bool = False) -> None:
        """Write the resource's status as Chaos Mesh does once it acted: ``Selected`` and ``AllInjected`` true with
        a record of the trader's pod, or both false when its selectors pick no pod the played cluster has; once it
        ended (``recovered``), ``AllInjected`` false and ``AllRecovered`` true."""
        state = "True" if live else "False"
        status = {"conditions": [{"type": "Selected", "status": state},
                                 {"type": "AllInjected", "status": "False" if recovered else state},
                                 {"type": "AllRecovered", "status": "True" if recovered else "False"},
                                 {"type": "Paused", "status": "False"}],
                  "experiment": {"desiredPhase": "Stop" if recovered else "Run", "containerRecords": [
                      {"id": f"{self.namespace}/trader", "phase": "Not Injected" if recovered else "Injected",
                       "selectorKey": ".", "injectedCount": 1, "recoveredCount": int(recovered)}] if live else []}}
        try:
            self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, self.namespace, kind, name,
                                                              {"status": status})
        except ApiException as exc:
            if exc.status != 404:
                raise  # else deleted since it was listed: nothing left to report on

    def _end(self, name: str, body: Mapping[str, Any]) -> None:
        if body["kind"] == "TimeChaos":
            write_clock(self.clock_file, ClockSetting(0.0))
        elif body["kind"] == "StressChaos":
            self._stressors.pop(name).start(10)
        else:
            for fault_id in self._faults.pop(name, []):
                self.proxy.clear(fault_id)
