"""The drills against AITRAPP on Kubernetes (:mod:`kubernetes_drills.cluster`): Redis as a StatefulSet, stopped
and started through the API by chaostoolkit-kubernetes' scaling, with a real trader, Redis and Postgres behind the
played controller. The same verdicts as on the lab; a namespace the drill may not touch is refused before any call;
a `chaos run` killed mid-fault leaves the StatefulSet scaled back by its watchdog."""
import signal
import subprocess

import pytest
from drills.kit import CHAOS, FAST_ENV, ROOT, drill_env, ledger_entries, run_drill, wait_ledger_empty
from kubernetes import client

from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.kubernetes.workload import REPLICAS_ANNOTATION
from chaosaitrapp.waiting import wait_until
from kubernetes_drills.cluster import NAMESPACE, Cluster, validate_namespace


def statefulset(cluster: Cluster):
    """StatefulSet ``redis`` as the API has it now."""
    configuration = client.Configuration()
    configuration.host = cluster.url
    return client.AppsV1Api(client.ApiClient(configuration)).read_namespaced_stateful_set("redis", NAMESPACE)


def scale_calls(cluster: Cluster, since: int = 0):
    """The PATCHes of StatefulSet ``redis`` the API has had since call number ``since``."""
    return [c for c in cluster.calls()[since:] if c == f"PATCH /apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/redis"]


def test_leader_lock_passes_through_kubernetes_and_leaves_the_statefulset_as_it_was(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    before = len(cluster.calls())
    run = run_drill("leader_lock", None, tmp_path, {**FAST_ENV, **cluster.env})
    assert run.code == 0 and run.fields["test_result"] == "PASS", f"{run.reasons}\n{run.output[-3000:]}"
    # scaled to 0 and back through the API (the annotation written, then cleared), by the drill only
    assert len(scale_calls(cluster, before)) >= 3, cluster.calls()[before:]
    found = statefulset(cluster)
    assert found.spec.replicas == 1 and found.status.ready_replicas == 1
    assert REPLICAS_ANNOTATION not in (found.metadata.annotations or {})
    stop = next(r for r in run.journal["run"] if r["activity"]["name"] == "stop-redis")
    assert stop["output"]["target"] == "k8s:aitrapp/statefulset/redis"
    assert ledger_entries(tmp_path / "state") == []
    validate_namespace(cluster)
    assert cluster.controller.errors == []


def test_leader_lock_fails_through_kubernetes_on_a_trader_that_never_takes_the_lock_again(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(defects=["never_reacquire"])
    run = run_drill("leader_lock", None, tmp_path, {**FAST_ENV, **cluster.env})
    assert run.code == 1 and run.fields["test_result"] == "FAIL", run.output[-3000:]
    # the rollback scaled Redis back all the same
    found = statefulset(cluster)
    assert found.spec.replicas == 1 and found.status.ready_replicas == 1
    assert ledger_entries(tmp_path / "state") == []


@pytest.mark.parametrize("setting", [{"REDIS_TARGET": "k8s:production/statefulset/redis"}, {"K8S_NAMESPACE": "other"}],
                         ids=["target-elsewhere", "other-namespace-given"])
def test_a_statefulset_outside_the_drills_namespace_is_refused_before_any_call(cluster_factory, tmp_path, setting):
    deployed, cluster = cluster_factory()
    before = len(cluster.calls())
    run = run_drill("leader_lock", None, tmp_path, {**FAST_ENV, **cluster.env, **setting})
    assert run.code != 0 and run.fields["refused"] == "true" and run.fields["faults_injected"] == "0", run.output[-3000:]
    assert "is outside the namespace this drill may act in" in run.output
    assert cluster.calls()[before:] == [], "the refused drill called the cluster"
    assert statefulset(cluster).spec.replicas == 1


def test_sigkill_of_chaos_run_mid_fault_leaves_the_statefulset_scaled_back(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    env = drill_env(None, tmp_path, {**FAST_ENV, **cluster.env, "AITRAPP_FAULT_LEASE": "8"})
    chaos = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(tmp_path / "journal.json"),
                              str(ROOT / "experiments" / "leader_lock.json")], env=env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        faulted = wait_until(lambda: [e for e in ledger_entries(tmp_path / "state")
                                      if e["undo"].get("driver", "").endswith(":WorkloadDriver")], bool,
                             timeout=60, interval=0.02, what="the StatefulSet's fault in the ledger")
        assert faulted.held, "leader_lock never stopped the StatefulSet"
        assert faulted.value[0]["undo"]["replicas"] == 1
        assert wait_until(lambda: statefulset(cluster).spec.replicas, lambda n: n == 0, timeout=30).held
        chaos.send_signal(signal.SIGKILL)
        chaos.wait(10)
    finally:
        if chaos.poll() is None:
            chaos.kill()
            chaos.wait(10)
    assert wait_ledger_empty(tmp_path, timeout=60), ledger_entries(tmp_path / "state")
    found = statefulset(cluster)
    assert found.spec.replicas == 1 and found.status.ready_replicas == 1
    assert redis_answers("127.0.0.1", int(cluster.env["K8S_REDIS_URL"].rsplit(":", 1)[1].split("/")[0]))
    validate_namespace(cluster)
