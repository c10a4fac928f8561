"""The network family's pre-flight: partition values (offline); a TCP fault proxy that serves the
dependency, or kernel rules that can be made here (online); and its leftover sweep: nftables tables of ours
that no ledger entry stands for."""
from __future__ import annotations

import logging
import shutil
from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import value
from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.network import chaosmesh, kernel
from chaosaitrapp.network.client import NetProxyClient
from chaosaitrapp.network.family import KERNEL_RULES
from chaosaitrapp.network.options import check_partition, choose_mechanism
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.ledger import Ledger

logger = logging.getLogger("chaostoolkit")
PARTITION_FUNCS = ("partition", "slow_dependency")


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """Bad partition values (dependency, kind, direction, mechanism, delay, port); with ``online``, a TCP
    fault proxy that does not serve the dependency, or kernel rules that cannot be made here."""
    found: List[str] = []
    for call in activities:
        if call.module != "chaosaitrapp.network.actions" or call.func not in PARTITION_FUNCS:
            continue
        args = call.args
        kind = "latency" if call.func == "slow_dependency" else args.get("kind", "blackhole")
        dependency = args.get("dependency", "redis")
        mechanism = args.get("mechanism", "auto")
        try:
            check_partition(dependency, kind, args.get("direction", "both"), mechanism,
                            args.get("delay_ms", 100 if kind == "latency" else 0))
            port = args.get("port", 0)
            if port and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
                raise ChaosAitrappError(f"port must be 1-65535, got {port!r}")
            if not online or dependency == "broker":
                continue
            client = NetProxyClient.from_configuration(configuration)
            how = choose_mechanism(mechanism, dependency, configuration)
            if how == "chaosmesh":
                chaosmesh.plan(dependency, kind, configuration)  # no call to the cluster: refused before any
            elif how == "proxy":
                if client is None:
                    found.append(NotApplicable(f"activity {call.name!r}: no TCP fault proxy is known for this target "
                                               "(NET_PROXY: `aitrapp-chaos proxy net` starts one in front of Redis "
                                               "and Postgres)"))
                elif dependency not in client.routes():
                    found.append(f"activity {call.name!r}: the TCP fault proxy {client.url} serves no route "
                                 f"{dependency!r} (its routes: {', '.join(client.routes()) or 'none'})")
            else:
                if kind == "latency":
                    found.append(NotApplicable(f"activity {call.name!r}: latency needs the TCP fault proxy (this "
                                               "kernel has no netem): set NET_PROXY"))
                    continue
                kernel.nft_binary()
                pid = int(args.get("netns_pid") or 0) or None
                try:
                    kernel.check_namespace(pid, value(configuration, KERNEL_RULES))
                except ChaosAitrappError as exc:
                    if client is None and mechanism == "auto":
                        found.append(NotApplicable(f"activity {call.name!r}: no TCP fault proxy is known (NET_PROXY) "
                                                   f"and kernel rules cannot be used here: {exc}"))
                        continue
                    raise
        except ChaosAitrappError as exc:
            found.append(f"activity {call.name!r}: {exc}")
    return found


def sweep_orphan_tables() -> List[str]:
    """Delete nftables tables of ours (in this namespace) that no outstanding ledger entry stands for (a
    cleanup that crashed half-way); a problem for each one that stays. Nothing to do without ``nft``."""
    if not shutil.which("nft"):
        return []
    try:
        present = kernel.tables()
    except ChaosAitrappError:
        return []  # nft cannot list here (no privileges): none of ours can have been made here either
    owned = {str((e.undo or {}).get("table")) for e in Ledger(ledger_path()).outstanding()
             if str((e.undo or {}).get("driver", "")).endswith(("nft", ":KernelRuleDriver"))}
    found = []
    for table in [t for t in present if t not in owned]:
        try:
            kernel.remove(table)
            logger.warning("chaosaitrapp: deleted a leftover nftables table of an earlier run: %s", table)
        except ChaosAitrappError as exc:
            found.append(f"a leftover nftables table {table} of an earlier run could not be deleted: {exc}")
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """Each partition: the dependency, the kind and the mechanism (the TCP fault proxy's route, kernel rules, or the
    NetworkChaos it would create: whose pods to whose)."""
    lines: List[str] = []
    for call in activities:
        if call.module != "chaosaitrapp.network.actions" or call.func not in PARTITION_FUNCS:
            continue
        dependency = call.args.get("dependency", "redis")
        kind = "latency" if call.func == "slow_dependency" else call.args.get("kind", "blackhole")
        if dependency == "broker":
            lines.append(f"partitions the broker ({kind}) at the broker fault proxy")
            continue
        try:
            how = choose_mechanism(call.args.get("mechanism", "auto"), dependency, configuration)
        except ChaosAitrappError as exc:
            how = f"no mechanism ({exc})"
        if how == "chaosmesh":
            lines.append(f"partitions {dependency} ({kind}): "
                         f"{chaosmesh.describe_plan(dependency, kind, configuration) or 'Chaos Mesh cannot (see problems)'}")
            continue
        client = NetProxyClient.from_configuration(configuration)
        where = f"the TCP fault proxy {client.url}, route {call.args.get('route') or dependency}" \
            if how == "proxy" and client is not None else f"{how} rules"
        lines.append(f"partitions {dependency} ({kind}) through {where}")
    return lines
