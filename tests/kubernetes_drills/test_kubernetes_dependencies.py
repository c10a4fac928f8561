"""leader_lock and postgres_blip on Kubernetes (:mod:`kubernetes_drills.cluster`): Redis and Postgres as
StatefulSets, stopped and started through the API by chaostoolkit-kubernetes' scaling, a real trader, Redis and
Postgres behind the played controller; the same verdicts as on the lab; a StatefulSet outside the drill's namespace
refused before any call. postgres_blip also as a blip: one Postgres pod deleted (``.../delete-pod``), made again by
the controller."""

import pytest
from drills.kit import FAST_ENV, ledger_entries, run_drill

from chaosaitrapp.targets.kubernetes.workload import REPLICAS_ANNOTATION
from kubernetes_drills.cluster import validate_namespace
from kubernetes_drills.kit import pod_uid, scale_calls, statefulset


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


@pytest.mark.parametrize("defects, verdict", [([], "PASS"), (["duplicate_orders"], "FAIL")],
                         ids=["healthy", "duplicate_orders"])
def test_postgres_blip_scales_the_postgres_statefulset_to_0_and_back(cluster_factory, tmp_path, defects, verdict):
    deployed, cluster = cluster_factory(defects=defects)
    before = len(cluster.calls())
    run = run_drill("postgres_blip", None, tmp_path, {**FAST_ENV, **cluster.env})
    assert run.fields["test_result"] == verdict, f"{run.reasons}\n{run.output[-3000:]}"
    if verdict == "FAIL":
        assert any("no-duplicate-client-order-id" in reason for reason in run.reasons), run.reasons
    stop = next(r for r in run.journal["run"] if r["activity"]["name"] == "stop-postgres")
    assert stop["output"]["target"] == "k8s:aitrapp/statefulset/postgres"
    assert len(scale_calls(cluster, before, "postgres")) >= 3 and scale_calls(cluster, before) == []
    found = statefulset(cluster, "postgres")
    assert found.spec.replicas == 1 and found.status.ready_replicas == 1
    assert REPLICAS_ANNOTATION not in (found.metadata.annotations or {})
    assert ledger_entries(tmp_path / "state") == []
    validate_namespace(cluster)
    assert cluster.controller.errors == []


@pytest.mark.parametrize("defects, verdict", [([], "PASS"), (["duplicate_orders"], "FAIL")],
                         ids=["healthy", "duplicate_orders"])
def test_postgres_blip_deletes_one_postgres_pod_and_the_controller_makes_it_again(cluster_factory, tmp_path, defects,
                                                                                  verdict):
    deployed, cluster = cluster_factory(defects=defects)
    before = len(cluster.calls())
    first = pod_uid(cluster, "postgres-0")
    deployed.container.reload()
    started = deployed.container.attrs["State"]["StartedAt"]
    target = "k8s:aitrapp/statefulset/postgres/delete-pod"
    run = run_drill("postgres_blip", None, tmp_path, {**FAST_ENV, **cluster.env, "POSTGRES_TARGET": target})
    assert run.fields["test_result"] == verdict, f"{run.reasons}\n{run.output[-3000:]}"
    if verdict == "FAIL":
        assert any("no-duplicate-client-order-id" in reason for reason in run.reasons), run.reasons
    stop = next(r for r in run.journal["run"] if r["activity"]["name"] == "stop-postgres")
    assert stop["output"]["target"] == target
    deletes = [c for c in cluster.calls()[before:] if c.startswith("DELETE ")]
    assert deletes == ["DELETE /api/v1/namespaces/aitrapp/pods/postgres-0"], deletes  # one pod, nothing scaled
    assert scale_calls(cluster, before, "postgres") == [] and scale_calls(cluster, before) == []
    assert pod_uid(cluster, "postgres-0") not in (None, first), "the controller made no new pod"
    deployed.container.reload()
    assert deployed.container.attrs["State"]["StartedAt"] != started, "Postgres' container never restarted"
    found = statefulset(cluster, "postgres")
    assert found.spec.replicas == 1 and found.status.ready_replicas == 1
    assert ledger_entries(tmp_path / "state") == []
    validate_namespace(cluster)
    assert cluster.controller.errors == []
