"""clock_jump on Kubernetes: the trader pods' wall clock stepped by a Chaos Mesh TimeChaos (``CLOCK_REALTIME``
only), valid against Chaos Mesh's own CRD, lasting no longer than its lease, labelled with the run and deleted by
the rollback; seen to land in the trader's own ``Date`` header; the same verdicts as on the lab. A drift, which
TimeChaos cannot make, is refused before any call. clock_token_expiry likewise crosses Kite's 06:00 expiry."""
import pytest
from drills.kit import FAST_ENV, ledger_entries, run_drill

from chaosaitrapp.targets.kubernetes.chaosmesh import RUN_LABEL
from chaosaitrapp.targets.wallclock import read_clock
from kubernetes_drills.chaosmesh_player import go_seconds
from kubernetes_drills.kit import time_chaos


def test_clock_jump_passes_through_a_time_chaos_and_deletes_it(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(clock=True)
    run = run_drill("clock_jump", None, tmp_path, {**FAST_ENV, "WAIT_READY_TIMEOUT": "15", **cluster.env})
    assert run.code == 0 and run.fields["test_result"] == "PASS", f"{run.reasons}\n{run.output[-3000:]}"
    made = [b for b in cluster.controller.chaos_mesh.seen.values() if b["kind"] == "TimeChaos"]
    assert len(made) == 1, cluster.controller.chaos_mesh.seen
    spec = made[0]["spec"]
    assert spec["clockIds"] == ["CLOCK_REALTIME"] and spec["selector"]["labelSelectors"] == {"app": "aitrapp"}
    jump = next(r for r in run.journal["run"] if r["activity"]["provider"]["func"] == "jump_clock")["output"]
    assert go_seconds(spec["timeOffset"]) == jump["seconds"] and jump["target"].startswith("clock:k8s:aitrapp/timechaos/")
    assert go_seconds(spec["duration"]) <= jump["hold"] + 30  # within the fault's lease
    assert made[0]["metadata"]["labels"][RUN_LABEL] == run.extension["run_id"]
    assert cluster.controller.chaos_mesh.invalid == [] and cluster.controller.errors == []
    assert time_chaos(cluster) == [], "the rollback left the TimeChaos in place"
    assert read_clock(deployed.directory / "trader.offset").true
    assert ledger_entries(tmp_path / "state") == []


def test_clock_jump_fails_through_a_time_chaos_on_a_lease_judged_on_the_wall_clock(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(clock=True, defects=["lease_on_wall_clock"])
    run = run_drill("clock_jump", None, tmp_path, {**FAST_ENV, "WAIT_READY_TIMEOUT": "15", **cluster.env})
    assert run.code == 1 and run.fields["test_result"] == "FAIL", run.output[-3000:]
    assert run.checks["lock_kept_through_jump"]["status"] == "fail", run.checks["lock_kept_through_jump"]
    assert time_chaos(cluster) == [] and read_clock(deployed.directory / "trader.offset").true


def test_a_drift_is_refused_on_kubernetes_before_any_call(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(clock=True)
    before = len(cluster.calls())
    run = run_drill("clock_jump", None, tmp_path, {**FAST_ENV, **cluster.env, "CLOCK_JUMP": "x0.1"})
    assert run.code != 0 and run.fields["refused"] == "true" and run.fields["faults_injected"] == "0", run.output[-3000:]
    assert "a TimeChaos steps the clock, it cannot make it drift" in run.output
    assert [c for c in cluster.calls()[before:] if "chaos-mesh" in c] == []


@pytest.mark.parametrize("defects, verdict", [([], "PASS"), (["no_token_refresh"], "FAIL")],
                         ids=["healthy", "no_token_refresh"])
def test_clock_token_expiry_crosses_the_expiry_through_a_time_chaos(cluster_factory, tmp_path, defects, verdict):
    deployed, cluster = cluster_factory(clock=True, defects=defects)
    run = run_drill("clock_token_expiry", None, tmp_path,
                    {**FAST_ENV, "WAIT_READY_TIMEOUT": "15", "DETECT_TIMEOUT": "8", **cluster.env})
    assert run.fields["test_result"] == verdict, f"{run.reasons}\n{run.output[-3000:]}"
    refresh = run.checks["token_refresh_bounded"]
    assert refresh["status"] == verdict.lower(), refresh
    if verdict == "FAIL":
        assert "no session was created at the broker" in refresh["reason"], refresh
    made = [b for b in cluster.controller.chaos_mesh.seen.values() if b["kind"] == "TimeChaos"]
    assert len(made) == 1 and go_seconds(made[0]["spec"]["timeOffset"]) > 0, made
    assert cluster.controller.chaos_mesh.invalid == [] and time_chaos(cluster) == []
    assert read_clock(deployed.directory / "trader.offset").true and ledger_entries(tmp_path / "state") == []
