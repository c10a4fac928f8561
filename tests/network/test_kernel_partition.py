"""Kernel partitions with real nftables rules, always inside a network namespace this test creates
(``unshare --net``, loopback only): a crashed test leaves nothing on the host. The rules, the
watchdog's undo after a SIGKILL, and the Redis partition drill with ``PARTITION_MECHANISM=kernel``
against a lab in the namespace. Missing ``unshare``/``nft`` fails loudly, never skips."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.network import kernel

HERE = Path(__file__).resolve().parent


def in_namespace(mode: str, workdir: Path, timeout: float = 300) -> dict:
    for program in ("unshare", "nft", "ip"):
        assert shutil.which(program), f"{program} is missing: the kernel partition tests need it (apt-get install " \
                                      "util-linux nftables iproute2)"
    script = f"ip link set lo up && exec {sys.executable} {HERE / 'netns_kernel_probe.py'} {mode} {workdir}"
    done = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_rules_cut_the_path_and_only_ours_are_touched(tmp_path):
    seen = in_namespace("rules", tmp_path)
    assert seen["isolated"] and seen["before"] == "ok"
    for direction in ("both", "to_dependency", "from_dependency"):
        assert seen[f"blackhole_{direction}"] == "hang", seen  # packets dropped: the client waits
        assert seen[f"tables_{direction}"] == [f"aitrapp_chaos_bh_{direction}"]
    assert seen["reject"] in ("refused", "reset") and seen["reject_s"] < 0.5, seen  # a reset fails fast
    assert seen["removed"] is True and seen["removed_again"] is False
    assert seen["after"] == "ok" and seen["tables_after"] == []
    assert "not one of chaosaitrapp's" in seen["foreign_refused"]


def test_a_sigkilled_run_leaves_no_rule_behind(tmp_path):
    seen = in_namespace("watchdog", tmp_path)
    assert seen["target"].startswith("nft:aitrapp_chaos_partition-redis") or seen["target"].startswith("nft:aitrapp_chaos_")
    assert seen["cut"] == "hang" and len(seen["tables_during"]) == 1
    assert seen["held"], seen["watchdog_log"]
    assert seen["after"] == "ok"
    assert "undone" in seen["watchdog_log"]


def test_the_redis_partition_drill_with_kernel_rules(tmp_path):
    seen = in_namespace("drill", tmp_path)
    assert seen["mechanism"] == "kernel", seen
    assert seen["code"] == 0 and seen["verdict"] == "PASS", (seen["reasons"], seen["tail"])
    assert seen["checks"]["trading_stopped_before_lease_expiry"] == "pass"
    assert seen["tables_after"] == []


def test_kernel_rules_are_refused_in_the_hosts_namespace_and_bad_values_named():
    assert kernel.in_initial_netns(), "this test runs in the host's namespace (it has more than lo)"
    with pytest.raises(ConfigError) as refused:
        kernel.add("never", "blackhole", 6379)
    assert "refusing kernel rules in the host's network namespace" in str(refused.value)
    for args, needle in ((("x", "latency", 6379), "no netem"), (("x", "blackhole", 0), "port must be 1-65535"),
                         (("x", "blackhole", 6379, "sideways"), "direction must be one of")):
        with pytest.raises(ConfigError) as bad:
            kernel.ruleset(*args)
        assert needle in str(bad.value)
    assert kernel.table_name("partition-redis-1a2b") == "aitrapp_chaos_partition_redis_1a2b"
