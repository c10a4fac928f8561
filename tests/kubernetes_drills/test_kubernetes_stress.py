"""cpu_stress and memory_stress on Kubernetes: the trader's pod (``TARGET_PROCESS=k8s:aitrapp/pod/aitrapp-0``)
stressed by a Chaos Mesh StressChaos, valid against Chaos Mesh's own CRD, lasting the stress, labelled with the run
and deleted by the rollback; the played Chaos Mesh runs real stress-ng in the trader's cgroup (its container's
limits). The evidence reads the pod's container through the API (its identity, an OOM kill) and its CPU and memory
through the resource metrics API. The same verdicts as on the lab and the target deployed by hand. A pod outside
the namespace, and a memory stress of a container without a memory limit, are refused before any Chaos Mesh call."""
import pytest
from drills.kit import ledger_entries, run_drill

from chaosaitrapp.targets.kubernetes.chaosmesh import RUN_LABEL
from kubernetes_drills.chaosmesh_player import go_seconds
from kubernetes_drills.kit import stress_chaos

STRESS = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20", "STRESS_SECONDS": "6", "STRESS_ORDERS": "8",
          "STRESS_WORKERS": "1"}
CASES = [
    # drill, defects, the trader's limits, settings, verdict, the check that decides, words of its reason
    ("cpu_stress", [], {"cpu_limit": 1.0}, {}, "PASS", "heartbeats_under_stress", "every heartbeat below"),
    ("cpu_stress", ["blocking_scan"], {"cpu_limit": 0.5}, {"STRESS_WORKERS": "2"}, "FAIL", "heartbeats_under_stress",
     "the process stalled"),
    ("memory_stress", [], {"memory_limit": "512M"}, {}, "PASS", "memory_settles", "MiB at the end"),
    ("memory_stress", ["memory_leak_under_load"], {"memory_limit": "256M"}, {"STRESS_ORDERS": "24"}, "FAIL",
     "target_survived", "OOM-killed"),
]


# a healthy case is judged on its sampling rate and latency under stress: run apart from the suite (setup.cfg)
@pytest.mark.parametrize("drill,defects,limits,settings,verdict,check,words",
                         [pytest.param(*c, marks=[pytest.mark.alone] if c[4] == "PASS" else []) for c in CASES],
                         ids=[f"{c[0]}-{c[1][0] if c[1] else 'healthy'}" for c in CASES])
def test_stress_through_a_stress_chaos(cluster_factory, tmp_path, drill, defects, limits, settings, verdict, check,
                                       words):
    deployed, cluster = cluster_factory(defects=defects, **limits)
    run = run_drill(drill, None, tmp_path, {**STRESS, **settings, **cluster.env})
    assert run.fields["test_result"] == verdict, f"{run.reasons}\n{run.output[-3000:]}"
    assert run.checks[check]["status"] == verdict.lower() and words in run.checks[check]["reason"], run.checks[check]
    made = [b for b in cluster.controller.chaos_mesh.seen.values() if b["kind"] == "StressChaos"]
    assert len(made) == 1, cluster.controller.chaos_mesh.seen
    spec = made[0]["spec"]
    assert spec["selector"]["pods"] == {"aitrapp": ["aitrapp-0"]} and spec["mode"] == "all"
    assert go_seconds(spec["duration"]) == float(STRESS["STRESS_SECONDS"])
    assert set(spec["stressors"]) == {"cpu" if drill == "cpu_stress" else "memory"}
    assert made[0]["metadata"]["labels"][RUN_LABEL] == run.extension["run_id"]
    assert cluster.controller.chaos_mesh.invalid == [] and cluster.controller.errors == []
    readings = [s for s in run.timeline_samples() if "proc_pid" in s]
    assert any(s["proc_pid"] == "aitrapp-0/aitrapp#0" for s in readings), readings[:3]
    assert any(isinstance(s.get("rss_mb"), float) for s in readings), "no memory read through the metrics API"
    assert stress_chaos(cluster) == [], "the rollback left the StressChaos in place"
    assert ledger_entries(tmp_path / "state") == []


REFUSED = [
    ({"TARGET_PROCESS": "k8s:other/pod/aitrapp-0"}, "outside the namespace this drill may act in"),
    ({}, "has no memory limit"),
]


def test_a_stress_that_may_not_act_is_refused_before_any_chaos_mesh_call(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    for i, (settings, words) in enumerate(REFUSED):  # one cluster for both: nothing is acted on
        before = len(cluster.calls())
        run = run_drill("memory_stress", None, tmp_path / str(i), {**STRESS, **cluster.env, **settings})
        assert run.code != 0 and run.fields["refused"] == "true" and run.fields["faults_injected"] == "0", \
            run.output[-3000:]
        assert words in run.output, run.output[-3000:]
        assert [c for c in cluster.calls()[before:] if "chaos-mesh" in c] == []
