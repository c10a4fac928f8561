"""Network partitions between the target and a dependency that keeps running: Redis, Postgres or the
broker. A partition hangs calls (``blackhole``) or fails them fast (``reject``: TCP resets) or slows
them (``latency``), in ``direction`` ``both``, ``to_dependency`` or ``from_dependency``.

Mechanisms (``mechanism``):

- ``proxy``: the TCP fault proxy the target's Redis/Postgres traffic goes through
  (:mod:`chaosaitrapp.network.proxy`; the lab wires its trader through one; ``NET_PROXY`` names
  another); every kind; the fault also expires inside the proxy at its ``duration``;
- ``kernel``: nftables rules in a table of our own (:mod:`chaosaitrapp.network.kernel`), in the
  network namespace of ``netns_pid`` or ours, on the dependency's ``port`` (the lab's when 0);
  blackhole and reject (no latency: no netem here); only the ledger's lease (watchdog) ends it;
- ``chaosmesh``: a Chaos Mesh NetworkChaos between the trader's pods and the dependency's, on Kubernetes
  (:mod:`chaosaitrapp.network.chaosmesh`); blackhole and latency; Chaos Mesh ends it at its ``duration``;
- ``auto``: the proxy when one serves the dependency, else Chaos Mesh for a ``k8s:`` dependency, else kernel rules.

The broker is partitioned at the broker fault proxy (its ``partition`` kind: requests held, or
answers held with ``from_dependency``; the ticker stalls) or slowed (its ``latency``).

Every partition is written to the fault ledger (with a lease and a watchdog) before it is made;
:func:`heal_partition` undoes them all (the rollback of every partition drill).
"""

import uuid
from typing import Any, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp import registry
from chaosaitrapp.broker.actions import inject_broker_fault
from chaosaitrapp.config import value
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.faultproxy.client import ProxyFaultDriver
from chaosaitrapp.network import chaosmesh, kernel
from chaosaitrapp.network.client import NetProxyClient
from chaosaitrapp.network.family import KERNEL_RULES, NET_PROXY_TARGET
from chaosaitrapp.network.kernel import KernelRuleDriver
from chaosaitrapp.network.options import BROKER_DIRECTIONS, check_partition, choose_mechanism
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.targets.kubernetes.chaosmesh import ChaosMeshDriver
from chaosaitrapp.targets.resolve import restart_recipe
from chaosaitrapp.waiting import check_duration

__all__ = ["partition", "slow_dependency", "heal_partition"]

LEASE_MARGIN_S = 30.0


def _restart_recipe(configuration: Configuration) -> Optional[Dict[str, Any]]:
    """The TCP fault proxy's own restart recipe (``net_proxy_target``; no secret in it), else None."""
    return restart_recipe(value(configuration, NET_PROXY_TARGET))


def _detail(dependency: str, kind: str, direction: str, delay: float, mechanism: str) -> str:
    extra = f" delay_ms={delay:g}" if kind == "latency" else ""
    return f"{kind} {dependency} direction={direction}{extra} via {mechanism}"


def partition(dependency: str = "redis", kind: str = "blackhole", direction: str = "both", delay_ms: float = 0,
              duration: float = 120, mechanism: str = "auto", port: int = 0, netns_pid: int = 0,
              route: str = "", replica: str = "", pod: str = "", configuration: Configuration = None,
              secrets: Secrets = None) -> Dict[str, Any]:
    """Cut (or slow) the target's path to ``dependency`` (module docstring) for at most ``duration``
    seconds; ``route``: the TCP fault proxy's route to cut when it is not named after the dependency (one
    replica's own route to Redis: the split-brain partition; ``replica`` names that replica on the
    timeline's events); ``pod``: on Kubernetes, the one trader pod the NetworkChaos cuts (the same, by Chaos Mesh). Returns ``{"dependency", "kind",
    "direction", "mechanism", "target", "fault_id", "lease_s"}``. Raises ConfigError for a bad value or
    a mechanism that cannot do the kind (nothing is injected), TargetError when the proxy or ``nft``
    cannot be reached."""
    delay = check_partition(dependency, kind, direction, mechanism, delay_ms)
    if route and (dependency == "broker" or mechanism in ("kernel", "chaosmesh")):
        raise ConfigError("partition: a route is cut at the TCP fault proxy only (not the broker, not kernel rules)",
                          key="route")
    duration = check_duration("duration", duration, allow_zero=False)
    if dependency == "broker":
        if kind == "reject":
            raise ConfigError("partition: the broker path can be blackholed or slowed, not reset (use the broker "
                              "drills' faults for refusals)", key="kind")
        params = {"delay_ms": delay} if kind == "latency" else {"direction": BROKER_DIRECTIONS[direction]}
        fault = inject_broker_fault("latency" if kind == "latency" else "partition", duration, params,
                                    configuration=configuration, secrets=secrets)
        return {"dependency": dependency, "kind": kind, "direction": direction, "mechanism": "broker-proxy", **fault}
    how = choose_mechanism(mechanism, dependency, configuration)
    fault_id = f"partition-{dependency}-{uuid.uuid4().hex[:10]}"
    lease_s = duration + LEASE_MARGIN_S
    detail = _detail(dependency, kind, direction, delay, how)
    if how == "chaosmesh":
        if route:
            raise ConfigError("partition: a route is cut at the TCP fault proxy only, not by Chaos Mesh", key="route")
        return chaosmesh.partition(dependency, kind, direction, delay, duration, lease_s, detail, configuration,
                                   pod=pod, replica=replica)
    if pod:
        raise ConfigError("partition: one pod is cut by Chaos Mesh only (mechanism 'chaosmesh')", key="pod")
    if how == "proxy":
        client = NetProxyClient.from_configuration(configuration)
        if client is None:
            raise ConfigError("partition: no TCP fault proxy is known for this target: set NET_PROXY (configuration "
                              "'net_proxy') or use mechanism 'kernel'", key="net_proxy")
        routes = client.routes()
        if (route or dependency) not in routes:
            raise ConfigError(f"partition: the TCP fault proxy at {client.url} serves {sorted(routes)}, not "
                              f"{route or dependency!r}", key="route" if route else "dependency")
        params: Dict[str, Any] = {"route": route or dependency}
        if kind != "reject":
            params["direction"] = direction
        if kind == "latency":
            params["delay_ms"] = delay
        driver = ProxyFaultDriver(client.url, fault_id, kind, _restart_recipe(configuration), "net_proxy")
        target = f"{client.describe()}/faults/{fault_id}"
        entry = register_fault(f"partition {dependency}", target, driver.undo(), lease_s)
        tags = {"replica": replica} if replica else {}
        record_event("fault", client.describe(), detail, dependency=dependency, **tags)
        try:
            client.add(kind, params, duration, fault_id)
        except Exception:
            restore_faults(target, driver, 10)
            raise
        record_event("fault_injected", client.describe(), detail, dependency=dependency, fault_id=fault_id, **tags)
        return {"dependency": dependency, "kind": kind, "direction": direction, "mechanism": how,
                "target": client.describe(), "fault_id": fault_id, "lease_s": lease_s, "ledger_entry": entry}
    if kind == "latency":
        raise ConfigError("partition: kernel rules cannot add latency (this kernel has no netem); use the TCP fault "
                          "proxy (mechanism 'proxy')", key="kind")
    if not port:
        port = getattr(dependency_driver(dependency, "", configuration), "port", None) or 0
    if not port:
        raise ConfigError(f"partition: mechanism 'kernel' needs the {dependency} port (argument 'port')", key="port")
    pid = int(netns_pid) or None
    kernel.ruleset(fault_id, kind, int(port), direction)  # bad values refused before the ledger is touched
    kernel.check_namespace(pid, value(configuration, KERNEL_RULES))
    kernel.nft_binary()
    driver = kernel.KernelRuleDriver(kernel.table_name(fault_id), pid)
    entry = register_fault(f"partition {dependency}", driver.describe(), driver.undo(), lease_s)
    record_event("fault", driver.describe(), detail, dependency=dependency)
    try:
        kernel.add(fault_id, kind, int(port), direction, netns_pid=pid, allow_host=True)
    except Exception:
        restore_faults(driver.describe(), driver, 10)
        raise
    record_event("fault_injected", driver.describe(), detail, dependency=dependency, fault_id=fault_id)
    run = current_run()
    if run is not None:
        run.note(f"kernel partition: nftables table {driver.table} (port {port}, {kind}, {direction})")
    return {"dependency": dependency, "kind": kind, "direction": direction, "mechanism": how, "port": int(port),
            "target": driver.describe(), "fault_id": fault_id, "lease_s": lease_s, "ledger_entry": entry}


def slow_dependency(dependency: str = "redis", delay_ms: float = 100, direction: str = "both",
                    duration: float = 120, mechanism: str = "auto", configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """Slow the target's path to ``dependency`` by ``delay_ms`` per exchange in ``direction``, without
    cutting it (latency from the TCP or broker fault proxy: this kernel has no netem). Below the
    target's own timeouts nothing may change (the checks say so); above them it is a partition, and
    :func:`partition` with ``kind="latency"`` is the drill for that. ``auto``: the TCP fault proxy when it serves
    ``dependency``, else a Chaos Mesh NetworkChaos ``delay`` for a dependency on Kubernetes, else the proxy (kernel
    rules make no latency). Returns what :func:`partition` returns; raises as it does."""
    if mechanism == "auto" and dependency != "broker":
        mechanism = "chaosmesh" if choose_mechanism("auto", dependency, configuration) == "chaosmesh" else "proxy"
    return partition(dependency, "latency", direction, delay_ms, duration, "proxy" if mechanism == "auto" else mechanism,
                     configuration=configuration, secrets=secrets)


def _partition_entries() -> List[Any]:
    """The ledger's partitions: TCP proxy faults, kernel tables, Chaos Mesh NetworkChaos, and broker proxy
    partitions and latency."""
    out = []
    for entry in Ledger(ledger_path()).outstanding():
        undo = entry.undo or {}
        cls = registry.driver_class(undo)
        proxy = ProxyFaultDriver.from_undo(undo).client.driver if cls is ProxyFaultDriver else None
        if cls is KernelRuleDriver or proxy == "net_proxy" or \
                (cls is ChaosMeshDriver and undo.get("kind") == "networkchaos") or \
                (proxy == "broker_proxy" and undo.get("kind") in ("partition", "latency")):
            out.append(entry)
    return out


def _still_cut(entry: Any) -> bool:
    driver = registry.driver_from_undo(entry.undo)
    if isinstance(driver, ProxyFaultDriver):
        try:
            return any(f.get("id") == driver.fault_id and f.get("biting", True) for f in driver.client.active())
        except TargetError:
            return True  # the proxy is down: the path is cut altogether
    return not driver.answers()


def heal_partition(timeout: float = 30, configuration: Configuration = None,
                   secrets: Secrets = None) -> Dict[str, Any]:
    """Undo every partition this machine's ledger holds (TCP proxy faults, kernel tables, broker
    partitions and latency): restart a dead proxy, clear the faults, delete the tables, clear the ledger
    entries. Idempotent (the rollback of every partition drill). The restore is marked on the timeline
    when one still cut the path. Returns ``{"healed", "already_healed", "targets"}``; raises TargetError
    when a fault cannot be undone."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    entries = _partition_entries()
    cut = [e for e in entries if _still_cut(e)]
    if cut:
        record_event("restore", cut[0].target.split("/faults/")[0], "heal partition")
    healed = 0
    for entry in entries:
        healed += restore_faults(entry.target, registry.driver_from_undo(entry.undo), timeout)
    if cut:
        record_event("restored", cut[0].target.split("/faults/")[0], "partition healed")
    return {"healed": healed, "already_healed": not entries, "targets": sorted({e.target for e in entries})}
