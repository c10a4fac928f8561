"""The network partition drills pass against a healthy lab (fast and aitrapp profiles; every kind of
cut), fail for the right reason against the lab defect each exists to catch, refuse bad input before
anything is injected, and leave no fault at either proxy and nothing in the ledger."""
from __future__ import annotations

import json

import pytest
import requests

from chaosaitrapp.controls.inference import checks_of

from .checks import assert_lab_whole
from .kit import ROOT, run_drill, run_script, start_lab

FAST_ENV = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "10", "PARTITION_SECONDS": "4"}
AITRAPP_ENV = {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90", "PARTITION_SECONDS": "6"}


@pytest.fixture(scope="module")
def fast_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def aitrapp_lab():
    lab = start_lab(profile="aitrapp")
    yield lab
    lab.down()


def assert_proxies_clean(lab) -> None:
    for proxy in ("broker_proxy", "net_proxy"):
        faults = requests.get(lab.state.endpoints[proxy] + "/faults", timeout=3).json()["faults"]
        assert faults == [], f"faults left at the {proxy}: {faults}"


def assert_pass(run, drill: str) -> None:
    assert run.code == 0, f"{drill} exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.fields["test_result"] == "PASS" and run.extension["verdict"] == "PASS"
    experiment = json.loads((ROOT / "experiments" / f"{drill}.json").read_text())
    assert list(run.checks) == checks_of(experiment)
    assert all(c["status"] == "pass" for c in run.extension["checks"]), run.extension["checks"]


@pytest.mark.parametrize("kind", ["blackhole", "reject", "latency"])
def test_redis_partition_passes_fast(kind, fast_lab, tmp_path):
    extra = {**FAST_ENV, "PARTITION_KIND": kind, **({"PARTITION_LATENCY_MS": "1000"} if kind == "latency" else {})}
    run = run_drill("network_partition_redis", fast_lab, tmp_path, extra)
    assert_pass(run, "network_partition_redis")
    fields = run.fields
    stopped, lease = float(fields["trading_stopped_s"]), float(fields["lease_could_expire_s"])
    assert stopped < lease == 2.5, "trading stops before TTL 3 s - refresh 0.5 s"
    assert fields["paused_after_stop"] == "true" and fields["leader_after_stop"] == "0"
    assert fields["leader_after_recovery"] == "1" and fields["paused_after_recovery"] == "false"
    assert run.checks["no_order_after_lease_expiry"]["status"] == "pass"
    assert run.checks["orders_exactly_once"]["status"] == "pass"
    assert_proxies_clean(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_postgres_partition_passes_fast(fast_lab, tmp_path):
    run = run_drill("network_partition_postgres", fast_lab, tmp_path, FAST_ENV)
    assert_pass(run, "network_partition_postgres")
    assert run.checks["acknowledged_orders_stored_once"]["status"] == "pass"
    assert "stored exactly once" in run.checks["acknowledged_orders_stored_once"]["reason"]
    assert_proxies_clean(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_broker_partition_passes_fast(fast_lab, tmp_path):
    run = run_drill("network_partition_broker", fast_lab, tmp_path, FAST_ENV)
    assert_pass(run, "network_partition_broker")
    reason = run.checks["orders_exactly_once"]["reason"]
    assert "placed exactly once" in reason and "dropped 0 reply" not in reason, "replies were lost and reconciled"
    assert_proxies_clean(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_latency_below_the_budget_changes_nothing(fast_lab, tmp_path):
    run = run_drill("network_latency_redis", fast_lab, tmp_path, FAST_ENV)
    assert_pass(run, "network_latency_redis")
    assert run.extension["strategies"]["hypothesis"] == "continuously"
    assert run.journal["steady_states"]["during"], "the steady state was checked during the method"
    assert run.checks["no_leadership_loss"]["status"] == "pass"
    assert_proxies_clean(fast_lab)


@pytest.mark.slow
@pytest.mark.parametrize("drill", ["network_partition_redis", "network_partition_postgres", "network_partition_broker",
                                   "network_latency_redis"])
def test_partition_drills_pass_aitrapp_profile(drill, aitrapp_lab, tmp_path):
    run = run_drill(drill, aitrapp_lab, tmp_path, AITRAPP_ENV, timeout=400)
    assert_pass(run, drill)
    if drill == "network_partition_redis":
        assert float(run.fields["lease_could_expire_s"]) == 20.0, "TTL 30 s - refresh 10 s"
        assert float(run.fields["trading_stopped_s"]) < 20.0
    assert_proxies_clean(aitrapp_lab)


DEFECTS = [
    # without fencing too: the lab's lease guard would otherwise hold the orders the late pause lets through
    ("network_partition_redis", "no_redis_timeout,no_fencing", ["check trading_stopped_before_lease_expiry failed",
                                                     "check no_order_after_lease_expiry failed"]),
    ("network_partition_postgres", "health_blocks_on_db", ["check health_stayed_up failed: /health stopped answering"]),
    ("network_partition_broker", "blind_resend", ["check orders_exactly_once failed", "at the broker"]),
]


@pytest.mark.parametrize("drill,defect,expected", DEFECTS, ids=[f"{d}-{x}" for d, x, _ in DEFECTS])
def test_partition_drill_fails_against_defect(drill, defect, expected, tmp_path):
    lab = start_lab(defects=defect.split(","))
    try:
        run = run_drill(drill, lab, tmp_path, FAST_ENV)
        assert run.code != 0 and run.extension["verdict"] == "FAIL", run.output[-3000:]
        reasons = " | ".join(run.reasons)
        for part in expected:
            assert part in reasons, f"expected {part!r} among the reasons: {reasons}"
        assert_proxies_clean(lab)
        ledger = tmp_path / "state" / "ledger.json"
        assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []
    finally:
        lab.down()


@pytest.mark.parametrize("extra,needle", [
    ({"PARTITION_KIND": "shred"}, "kind must be one of blackhole"),
    ({"PARTITION_MECHANISM": "magic"}, "mechanism must be one of auto"),
    ({"PARTITION_MECHANISM": "kernel"}, "refusing kernel rules in the host's network namespace"),
    ({"NET_PROXY": "http://10.1.2.3:8004"}, "not in the allowed hosts"),
    ({"PARTITION_KIND": "latency", "PARTITION_LATENCY_MS": "0"}, "a latency partition needs delay_ms above 0"),
], ids=["kind", "mechanism", "host-namespace", "foreign-host", "zero-latency"])
def test_bad_partition_input_is_refused_and_injects_nothing(extra, needle, fast_lab, tmp_path):
    run = run_drill("network_partition_redis", fast_lab, tmp_path, {**FAST_ENV, **extra})
    assert run.code != 0 and run.fields["test_result"] == "FAIL"
    assert any(needle in r for r in run.reasons), run.reasons
    assert not any(r["activity"]["name"] == "partition-redis" for r in run.journal.get("run", [])), "nothing injected"
    assert_proxies_clean(fast_lab)


def test_the_seed_wrapper_runs_each_partition(fast_lab, tmp_path):
    ran = run_script("chaos_test_network_partition.sh", fast_lab, tmp_path / "pg",
                     {**FAST_ENV, "NONINTERACTIVE": "1", "PARTITION": "postgres"})
    assert ran.code == 0 and "PARTITION=postgres" in ran.output and "== network_partition_postgres: PASS" in ran.output
    bad = run_script("chaos_test_network_partition.sh", fast_lab, tmp_path / "bad",
                     {"NONINTERACTIVE": "1", "PARTITION": "dns"})
    assert bad.code == 2 and "PARTITION must be redis, postgres, broker or latency" in bad.output
