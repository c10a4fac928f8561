"""Partitions and latency on Kubernetes (mechanism ``chaosmesh``): a Chaos Mesh NetworkChaos between the
trader's pods (``K8S_TRADER_SELECTOR``; or one of them, by name: a replica cut off) and the dependency's (its ``k8s:`` workload's ``spec.selector``), in the
drill's namespace, lasting the partition's ``duration`` (within its lease), labelled with the run
(:mod:`chaosaitrapp.targets.kubernetes.chaosmesh`), and in place once Chaos Mesh reports it injected.
``blackhole`` is the ``partition`` action, ``latency`` the ``delay`` action; Chaos Mesh cannot reset connections,
so ``reject`` is refused before anything is made."""
from __future__ import annotations

import time
import uuid
from typing import Any, Dict, Optional

from chaoslib.types import Configuration

from chaosaitrapp.config import core_setting, value
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.targets.kubernetes.chaosmesh import (
    ChaosMeshDriver,
    create,
    network_chaos_spec,
    resource,
    selector_labels,
)
from chaosaitrapp.targets.kubernetes.workload import WorkloadDriver

#: Our directions as NetworkChaos' (from the trader's pods to the dependency's).
DIRECTIONS = {"both": "both", "to_dependency": "to", "from_dependency": "from"}


def serves(dependency: str, configuration: Configuration) -> bool:
    """True when ``dependency`` runs on Kubernetes (its target is ``k8s:``): ``auto`` then means Chaos Mesh."""
    try:
        return isinstance(dependency_driver(dependency, "", configuration), WorkloadDriver)
    except Exception:  # noqa: BLE001 - another scheme's resolution errors are that mechanism's to report
        return False


def plan(dependency: str, kind: str, configuration: Configuration) -> tuple:
    """``(workload driver, trader labels)`` of a Chaos Mesh partition, checked with no call to the cluster;
    ConfigError naming what is missing or wrong."""
    if kind == "reject":
        raise ConfigError("partition: Chaos Mesh cannot reset connections; use kind 'blackhole' or 'latency'",
                          key="kind")
    driver = dependency_driver(dependency, "", configuration)
    if not isinstance(driver, WorkloadDriver):
        raise ConfigError(f"partition: mechanism 'chaosmesh' needs {dependency} as a k8s: target, got "
                          f"{driver.describe()}", key="mechanism")
    selector = value(configuration, core_setting("k8s_trader_selector"))
    if not selector:
        raise ConfigError("partition: mechanism 'chaosmesh' needs the trader's pods: set K8S_TRADER_SELECTOR "
                          "(configuration 'k8s_trader_selector'), e.g. app=aitrapp", key="k8s_trader_selector")
    return driver, selector_labels(selector, "k8s_trader_selector")


def partition(dependency: str, kind: str, direction: str, delay_ms: float, duration: float, lease_s: float,
              detail: str, configuration: Configuration, pod: str = "", replica: str = "") -> Dict[str, Any]:
    """Make the NetworkChaos (module docstring), written to the ledger first; ``pod``: only that pod of the trader
    is cut (one replica, named ``replica`` on the timeline's events: the split-brain partition). What
    :func:`chaosaitrapp.network.actions.partition` returns."""
    workload, source = plan(dependency, kind, configuration)
    tagged = {"replica": replica} if replica else {}
    run = current_run()
    run_id = str(getattr(run, "run_id", "") or uuid.uuid4().hex[:12])
    name = f"aitrapp-{dependency}-{uuid.uuid4().hex[:8]}"
    target = workload.selector()
    spec = network_chaos_spec("delay" if kind == "latency" else "partition", DIRECTIONS[direction],
                              workload.namespace, source, target, delay_ms if kind == "latency" else None,
                              [pod] if pod else ())
    body = resource("networkchaos", name, workload.namespace, run_id, spec, duration, lease_s)
    driver = ChaosMeshDriver(workload.namespace, "networkchaos", name, run_id)
    entry = register_fault(f"partition {dependency}", driver.describe(), driver.undo(), lease_s)
    record_event("fault", driver.describe(), detail, dependency=dependency, **tagged)
    try:
        create(body)
        made = time.time()
        injected = driver.wait_injected(lease_s)
    except BaseException:
        restore_faults(driver.describe(), driver, 10)
        raise
    record_event("fault_injected", driver.describe(), detail, dependency=dependency, fault_id=name,
                 injected_after_s=round(injected - made, 3), **tagged)
    if run is not None:
        run.note(f"Chaos Mesh NetworkChaos {workload.namespace}/{name} ({spec['action']}, {spec['direction']}, "
                 f"{body['spec']['duration']})")
    return {"dependency": dependency, "kind": kind, "direction": direction, "mechanism": "chaosmesh",
            "target": driver.describe(), "fault_id": name, "lease_s": lease_s, "ledger_entry": entry}


def describe_plan(dependency: str, kind: str, configuration: Configuration) -> Optional[str]:
    """What a Chaos Mesh partition would touch (for doctor's preview), or None when it does not apply."""
    try:
        workload, source = plan(dependency, kind, configuration)
    except ConfigError:
        return None
    labels = ",".join(f"{k}={v}" for k, v in sorted(source.items()))
    return f"a Chaos Mesh NetworkChaos in {workload.namespace} from the pods {labels} to those of {workload.describe()}"
