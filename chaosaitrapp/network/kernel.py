"""Network partitions as kernel rules: nftables, in a table of the project's own per fault.

Each fault is one table ``inet aitrapp_chaos_<id>`` with one base chain on the ``output`` hook (on
loopback every packet passes it), so nothing outside that table is ever touched and undoing the fault
is ``nft delete table inet aitrapp_chaos_<id>``; ``aitrapp-chaos cleanup``, the watchdog and the
pre-flight find leftovers by the prefix. Rules match narrowly: loopback addresses and the dependency's
TCP port, and (towards the dependency) the client socket's owner uid when one is given:

- ``blackhole``: packets dropped (``to_dependency``: the client's; ``from_dependency``: the
  dependency's answers; ``both``): connects and calls hang until the client's own timeouts;
- ``reject``: the client's packets answered with a TCP reset: fast failures.

Latency needs ``netem``, which this machine's kernel lacks: it comes from the TCP fault proxy instead.

The rules go into the network namespace of ``netns_pid`` (through ``nsenter --net``) or the caller's
own. In the host's initial namespace they are refused unless ``allow_host`` (the setting
``AITRAPP_KERNEL_RULES=1``): tests create their own namespaces (``unshare --net``) and never need it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from typing import Dict, List, Optional

from chaosaitrapp import procs
from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError

TABLE_PREFIX = "aitrapp_chaos_"
KINDS = ("blackhole", "reject")
DIRECTIONS = ("both", "to_dependency", "from_dependency")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def table_name(fault_id: str) -> str:
    """The nftables table of fault ``fault_id`` (letters, digits and ``_`` only)."""
    return TABLE_PREFIX + _SAFE_ID.sub("_", fault_id)[:40]


def nft_binary() -> str:
    """The ``nft`` program; TargetError naming the package when it is missing."""
    path = shutil.which("nft")
    if not path:
        raise TargetError("kernel partitions need nftables' `nft` (apt-get install nftables)")
    return path


def _netns_prefix(netns_pid: Optional[int]) -> List[str]:
    if netns_pid is None:
        return []
    if not procs.has_netns(netns_pid):
        raise TargetError(f"no network namespace for pid {netns_pid}: the process is gone")
    return ["nsenter", f"--net={procs.netns_path(netns_pid)}", "--"]


def in_initial_netns(netns_pid: Optional[int] = None) -> bool:
    """True unless the namespace is a loopback-only one (made for the target, e.g. by ``unshare --net``):
    a namespace with any other interface is treated as the host's, where other software may use the
    port. (The host's init namespace itself cannot be compared with: reading pid 1's needs ptrace rights.)"""
    try:
        return any(name != "lo" for name in procs.net_interfaces(netns_pid))
    except OSError:
        return True  # cannot tell: assume the host's


def _nft(args: List[str], netns_pid: Optional[int], stdin: Optional[str] = None, check: bool = True) -> str:
    argv = _netns_prefix(netns_pid) + [nft_binary(), *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=15)
    if check and done.returncode != 0:
        raise TargetError(f"nft {' '.join(args) or '-f -'} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def ruleset(fault_id: str, kind: str, port: int, direction: str = "both", uid: Optional[int] = None) -> str:
    """The ``nft -f`` script that creates the fault's table (see the module docstring)."""
    if kind not in KINDS:
        raise ConfigError(f"kernel partition kind must be one of {', '.join(KINDS)} (latency comes from the TCP "
                          f"fault proxy: this kernel has no netem), got {kind!r}", key="kind")
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}", key="direction")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"port must be 1-65535, got {port!r}", key="port")
    owner = f" meta skuid {int(uid)}" if uid is not None else ""
    verdict = "drop" if kind == "blackhole" else "reject with tcp reset"
    rules = []
    if direction in ("both", "to_dependency") or kind == "reject":
        rules.append(f"ip daddr 127.0.0.0/8 tcp dport {port}{owner} {verdict}")
        rules.append(f"ip6 daddr ::1 tcp dport {port}{owner} {verdict}")
    if kind == "blackhole" and direction in ("both", "from_dependency"):
        rules.append(f"ip saddr 127.0.0.0/8 tcp sport {port} drop")
        rules.append(f"ip6 saddr ::1 tcp sport {port} drop")
    body = "\n".join(f"    {rule}" for rule in rules)
    return (f"table inet {table_name(fault_id)} {{\n  chain out {{\n    type filter hook output priority 0; "
            f"policy accept;\n{body}\n  }}\n}}\n")


def check_namespace(netns_pid: Optional[int] = None, allow_host: bool = False) -> None:
    """ConfigError when the rules would land in the host's namespace (see :func:`in_initial_netns`) and
    ``allow_host`` is not given."""
    if in_initial_netns(netns_pid) and not allow_host:
        raise ConfigError("refusing kernel rules in the host's network namespace: they would apply to every "
                          "local client of that port. Run the target in a namespace of its own, use the TCP fault "
                          "proxy (PARTITION_MECHANISM=proxy), or set AITRAPP_KERNEL_RULES=1", key="mechanism")


def add(fault_id: str, kind: str, port: int, direction: str = "both", uid: Optional[int] = None,
        netns_pid: Optional[int] = None, allow_host: bool = False) -> str:
    """Create the fault's table; returns its name. ConfigError for bad values or the host's namespace
    without ``allow_host``; TargetError when ``nft`` fails (nothing is left half-made: a table is atomic)."""
    script = ruleset(fault_id, kind, port, direction, uid)
    check_namespace(netns_pid, allow_host)
    _nft(["-f", "-"], netns_pid, stdin=script)
    return table_name(fault_id)


def remove(table: str, netns_pid: Optional[int] = None) -> bool:
    """Delete table ``table`` (ours only: it must carry the prefix); True when it existed."""
    if not table.startswith(TABLE_PREFIX):
        raise ConfigError(f"refusing to delete nftables table {table!r}: not one of chaosaitrapp's ({TABLE_PREFIX}*)")
    if table not in tables(netns_pid):
        return False
    _nft(["delete", "table", "inet", table], netns_pid)
    return True


def tables(netns_pid: Optional[int] = None) -> List[str]:
    """Our tables present in the namespace (``inet aitrapp_chaos_*``)."""
    out = _nft(["list", "tables"], netns_pid)
    names = [line.split()[-1] for line in out.splitlines() if line.startswith("table inet ")]
    return [n for n in names if n.startswith(TABLE_PREFIX)]


class KernelRuleDriver:
    """One fault's table, as the fault ledger undoes it (the Driver protocol of :mod:`chaosaitrapp.targets.base`)."""

    def __init__(self, table: str, netns_pid: Optional[int] = None) -> None:
        self.table = table
        self.netns_pid = netns_pid

    def describe(self) -> str:
        """``nft:<table>[@netns of pid N]``."""
        where = f"@netns-of-{self.netns_pid}" if self.netns_pid else ""
        return f"nft:{self.table}{where}"

    def is_running(self) -> bool:
        """True when the path is whole (the table is gone)."""
        return self.answers()

    def answers(self) -> bool:
        """True when the fault's table is gone."""
        try:
            return self.table not in tables(self.netns_pid)
        except TargetError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Not how a kernel partition is made (see :func:`add`)."""
        raise TargetError(f"{self.describe()}: a kernel partition is made by network.kernel.add, not stopped")

    def start(self, timeout: float = 30.0) -> None:
        """Undo the fault: delete its table (a table already gone, or a namespace that no longer exists, is
        fine: nothing is left to cut)."""
        if self.netns_pid is not None and not procs.has_netns(self.netns_pid):
            return
        remove(self.table, self.netns_pid)

    def undo(self) -> Dict[str, object]:
        """The ledger recipe."""
        return {"driver": ref_of(KernelRuleDriver), "table": self.table, "netns_pid": self.netns_pid}

    @classmethod
    def from_undo(cls, undo: Dict[str, object]) -> "KernelRuleDriver":
        """Rebuild from :meth:`undo`'s dict."""
        pid = undo.get("netns_pid")
        return cls(str(undo["table"]), int(pid) if pid is not None else None)
