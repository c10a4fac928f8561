"""network_partition_redis on Kubernetes: a Chaos Mesh NetworkChaos between the trader's pods and Redis's, valid
against Chaos Mesh's own CRD schema, lasting no longer than its lease, labelled with the run and deleted by the
rollback; in place only once Chaos Mesh reports it injected; the same verdicts as on the lab. network_latency_redis
(a NetworkChaos delay) and network_partition_postgres likewise."""

import os
import subprocess
import sys

import pytest
from drills.kit import FAST_ENV, ledger_entries, run_drill
from kubernetes import client

from chaosaitrapp.targets.kubernetes.chaosmesh import RUN_LABEL, network_chaos_spec, resource
from kubernetes_drills.chaosmesh_player import go_seconds
from kubernetes_drills.cluster import NAMESPACE
from kubernetes_drills.kit import api_client, network_chaos


def test_network_partition_redis_passes_through_chaos_mesh_and_deletes_its_resource(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    run = run_drill("network_partition_redis", None, tmp_path, {**FAST_ENV, **cluster.env})
    assert run.code == 0 and run.fields["test_result"] == "PASS", f"{run.reasons}\n{run.output[-3000:]}"
    made = cluster.controller.chaos_mesh.seen
    assert len(made) == 1, made
    body = next(iter(made.values()))
    assert body["spec"]["action"] == "partition" and body["spec"]["direction"] == "both"
    assert body["spec"]["selector"]["labelSelectors"] == {"app": "aitrapp"}
    assert body["spec"]["target"]["selector"]["labelSelectors"] == {"app": "redis"}
    lease = next(r for r in run.journal["run"] if r["activity"]["name"] == "partition-redis")["output"]["lease_s"]
    assert go_seconds(body["spec"]["duration"]) <= lease
    assert body["metadata"]["labels"][RUN_LABEL] == run.extension["run_id"]
    assert cluster.controller.chaos_mesh.invalid == [] and cluster.controller.errors == []
    injected = [e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("dependency") == "redis"]
    assert len(injected) == 1 and injected[0]["injected_after_s"] >= 0, "in place only once Chaos Mesh said so"
    assert network_chaos(cluster) == [], "the rollback left the NetworkChaos in place"
    assert ledger_entries(tmp_path / "state") == []


def test_network_partition_redis_fails_through_chaos_mesh_on_a_trader_whose_redis_calls_never_time_out(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(defects=["no_redis_timeout"])
    run = run_drill("network_partition_redis", None, tmp_path, {**FAST_ENV, **cluster.env})
    assert run.code == 1 and run.fields["test_result"] == "FAIL", run.output[-3000:]
    assert cluster.controller.chaos_mesh.seen and network_chaos(cluster) == []


@pytest.mark.parametrize("drill, action, dependency", [("network_latency_redis", "delay", "redis"),
                                                       ("network_partition_postgres", "partition", "postgres")])
def test_latency_and_a_postgres_partition_pass_through_chaos_mesh(cluster_factory, tmp_path, drill, action,
                                                                  dependency):
    deployed, cluster = cluster_factory()
    run = run_drill(drill, None, tmp_path, {**FAST_ENV, "DETECT_TIMEOUT": "8", **cluster.env})
    assert run.code == 0 and run.fields["test_result"] == "PASS", f"{run.reasons}\n{run.output[-3000:]}"
    made = list(cluster.controller.chaos_mesh.seen.values())
    assert [b["spec"]["action"] for b in made] == [action], made
    assert made[0]["spec"]["target"]["selector"]["labelSelectors"] == {"app": dependency}
    assert cluster.controller.chaos_mesh.invalid == [] and network_chaos(cluster) == []
    assert ledger_entries(tmp_path / "state") == []


def test_a_reset_partition_is_refused_on_chaos_mesh_before_any_call(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    before = len(cluster.calls())
    run = run_drill("network_partition_redis", None, tmp_path,
                    {**FAST_ENV, **cluster.env, "PARTITION_KIND": "reject"})
    assert run.code != 0 and run.fields["refused"] == "true" and run.fields["faults_injected"] == "0", run.output[-3000:]
    assert "Chaos Mesh cannot reset connections" in run.output
    assert [c for c in cluster.calls()[before:] if "chaos-mesh" in c] == []


def test_a_network_chaos_that_selects_no_pod_is_never_taken_for_a_fault_in_place(cluster_factory):
    deployed, cluster = cluster_factory()
    spec = network_chaos_spec("partition", "both", NAMESPACE, {"app": "nobody"}, {"app": "redis"})
    body = resource("networkchaos", "aitrapp-redis-nobody", NAMESPACE, "run-1", spec, 30, 30)
    client.CustomObjectsApi(api_client(cluster)).create_namespaced_custom_object(
        "chaos-mesh.org", "v1alpha1", NAMESPACE, "networkchaos", body)
    waited = subprocess.run(
        [sys.executable, "-c", "from chaosaitrapp.targets.kubernetes.chaosmesh import ChaosMeshDriver as D\n"
         f"D({NAMESPACE!r}, 'networkchaos', 'aitrapp-redis-nobody', 'run-1').wait_injected(1.0)"],
        env={**os.environ, **cluster.env}, capture_output=True, text=True, timeout=60)
    assert waited.returncode == 1, waited.stderr[-2000:]
    assert "Chaos Mesh did not report it injected within 1s" in waited.stderr
    assert "'AllInjected': 'False'" in waited.stderr, waited.stderr[-2000:]
