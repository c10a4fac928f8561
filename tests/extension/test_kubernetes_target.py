"""The Kubernetes target kind without a cluster: target strings, the namespace guard (refused with no call),
Chaos Mesh resources (duration within the lease, the run label), ledger recipes and the partition's plan."""
import re

import pytest

from chaosaitrapp import registry
from chaosaitrapp.clock.actions import _clock_driver
from chaosaitrapp.clock.chaosmesh import time_chaos_driver
from chaosaitrapp.config import known_secrets
from chaosaitrapp.crash.target import restartable
from chaosaitrapp.deployment.replicas import pause_driver, replicas_of
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.network.chaosmesh import plan
from chaosaitrapp.network.options import MECHANISMS
from chaosaitrapp.stress.actions import stress_cpu, stress_memory
from chaosaitrapp.stress.chaosmesh import MAX_WORKERS, StressChaosDriver, check_pod_memory
from chaosaitrapp.targets.kubernetes.chaosmesh import (
    RUN_LABEL,
    ChaosMeshDriver,
    go_duration,
    network_chaos_spec,
    resource,
    selector_labels,
    stress_chaos_spec,
    time_chaos_spec,
)
from chaosaitrapp.targets.kubernetes.freeze import PodFreezeDriver
from chaosaitrapp.targets.kubernetes.pod import ContainerState
from chaosaitrapp.targets.kubernetes.workload import WorkloadDriver
from chaosaitrapp.targets.process import inherited_env
from chaosaitrapp.targets.resolve import SCHEMES, resolve_target

ALLOWED = {"k8s_namespace": "aitrapp"}


def test_k8s_is_a_target_kind_and_chaos_mesh_a_partition_mechanism():
    assert "k8s" in SCHEMES and "chaosmesh" in MECHANISMS


@pytest.mark.parametrize("target", ["k8s:aitrapp/statefulset/redis", "k8s:aitrapp/deployment/redis",
                                    "k8s:aitrapp/StatefulSet/redis"])
def test_a_workload_target_resolves_without_calling_the_cluster(target):
    driver = resolve_target(target, "redis", configuration=ALLOWED)
    assert isinstance(driver, WorkloadDriver) and driver.namespace == "aitrapp" and driver.name == "redis"
    assert driver.describe() == target.replace("StatefulSet", "statefulset")


def test_a_workload_target_with_delete_pod_stops_by_a_blip_and_keeps_it_in_its_recipe():
    driver = resolve_target("k8s:aitrapp/statefulset/postgres/delete-pod", "postgres", configuration=ALLOWED)
    assert isinstance(driver, WorkloadDriver) and driver.heals_itself and driver.name == "postgres"
    assert driver.describe() == "k8s:aitrapp/statefulset/postgres/delete-pod"
    again = registry.driver_from_undo({**WorkloadDriver("aitrapp", "statefulset", "postgres", 1, "postgres",
                                                        "delete-pod").undo()})
    assert again.heals_itself and again.describe() == driver.describe()
    assert not resolve_target("k8s:aitrapp/statefulset/postgres", "postgres", configuration=ALLOWED).heals_itself


@pytest.mark.parametrize("target", ["k8s:aitrapp/pod/redis", "k8s:statefulset/redis", "k8s:aitrapp/statefulset/",
                                    "k8s:a/b/c/d", "k8s:aitrapp/statefulset/redis/kill-pod"])
def test_a_malformed_workload_target_names_the_form(target):
    with pytest.raises(ConfigError, match="k8s:NAMESPACE/statefulset/NAME"):
        resolve_target(target, "redis", configuration=ALLOWED)


@pytest.mark.parametrize("configuration, message", [
    ({"k8s_namespace": "aitrapp"}, "namespace 'production' is outside the namespace this drill may act in"),
    ({}, "no Kubernetes namespace given; set K8S_NAMESPACE")])
def test_the_namespace_guard_refuses_a_target_elsewhere(configuration, message):
    with pytest.raises(ConfigError, match=message):
        resolve_target("k8s:production/statefulset/redis", "redis", configuration=configuration)


def test_a_replica_pod_elsewhere_is_refused_when_the_replicas_are_read():
    configuration = {**ALLOWED, "api": "http://127.0.0.1:8000", "replicas": "http://127.0.0.1:8001",
                     "replica_targets": "k8s:aitrapp/pod/aitrapp-0,k8s:kube-system/pod/coredns"}
    with pytest.raises(ConfigError, match="'kube-system' is outside"):
        replicas_of(configuration)


def test_a_replica_pod_is_frozen_by_the_pod_driver_named_as_a_pause():
    configuration = {**ALLOWED, "api": "http://127.0.0.1:8000", "replicas": "http://127.0.0.1:8001",
                     "replica_targets": "k8s:aitrapp/pod/aitrapp-0,k8s:aitrapp/pod/aitrapp-1"}
    driver = pause_driver(replicas_of(configuration)[1], configuration)
    assert isinstance(driver, PodFreezeDriver) and driver.describe() == "pause:k8s:aitrapp/pod/aitrapp-1"


@pytest.mark.parametrize("driver", [WorkloadDriver("aitrapp", "statefulset", "redis", 3, "redis"),
                                    ChaosMeshDriver("aitrapp", "networkchaos", "aitrapp-redis-1", "run1"),
                                    PodFreezeDriver("aitrapp", "aitrapp-0", "replica r0")])
def test_each_driver_is_rebuilt_from_its_ledger_recipe(driver):
    undo = driver.undo()
    again = registry.driver_from_undo(undo)
    assert type(again) is type(driver) and again.undo() == undo and again.describe() == driver.describe()


def test_a_chaos_mesh_resource_carries_the_run_and_lasts_no_longer_than_its_lease():
    spec = network_chaos_spec("partition", "both", "aitrapp", {"app": "aitrapp"}, {"app": "redis"})
    body = resource("networkchaos", "n1", "aitrapp", "run1", spec, 300, 330)
    assert body["metadata"]["labels"] == {RUN_LABEL: "run1"} and body["spec"]["duration"] == "300s"
    assert body["kind"] == "NetworkChaos" and body["apiVersion"] == "chaos-mesh.org/v1alpha1"
    with pytest.raises(ConfigError, match="at most its lease"):
        resource("networkchaos", "n1", "aitrapp", "run1", spec, 331, 330)
    assert go_duration(1.5) == "1500ms" and go_duration(90) == "90s"
    delay = network_chaos_spec("delay", "to", "aitrapp", {"app": "aitrapp"}, {"app": "redis"}, 250)
    assert delay["delay"] == {"latency": "250ms"}


@pytest.mark.parametrize("text", ["", "app", "=x", "app=a b", "app=x,,=y"])
def test_a_bad_label_selector_is_refused(text):
    with pytest.raises(ConfigError, match="key=value"):
        selector_labels(text, "k8s_trader_selector")


def test_a_chaos_mesh_partition_is_planned_with_no_call_or_refused_naming_what_is_missing():
    configuration = {**ALLOWED, "redis_target": "k8s:aitrapp/statefulset/redis"}
    with pytest.raises(ConfigError, match="K8S_TRADER_SELECTOR"):
        plan("redis", "blackhole", configuration)
    with pytest.raises(ConfigError, match="cannot reset connections"):
        plan("redis", "reject", configuration)
    workload, source = plan("redis", "blackhole", {**configuration, "k8s_trader_selector": "app=aitrapp,tier=trade"})
    assert workload.describe() == "k8s:aitrapp/statefulset/redis" and source == {"app": "aitrapp", "tier": "trade"}
    with pytest.raises(ConfigError, match="needs redis as a k8s: target"):
        plan("redis", "blackhole", {**ALLOWED, "redis_target": "process:/tmp/none.pid", "k8s_trader_selector": "a=b"})


def test_the_clusters_credentials_are_secrets_never_handed_to_a_restarted_dependency(monkeypatch):
    monkeypatch.setenv("KUBERNETES_API_KEY", "eyJhbGciOiJSUzI1NiJ9.k8s-token")
    monkeypatch.setenv("KUBERNETES_PASSWORD", "cluster-pass")
    assert {"eyJhbGciOiJSUzI1NiJ9.k8s-token", "cluster-pass"} <= set(known_secrets())
    assert "KUBERNETES_API_KEY" not in inherited_env() and "KUBERNETES_PASSWORD" not in inherited_env()


def test_a_clock_step_on_kubernetes_is_a_time_chaos_of_the_trader_pods_and_never_a_drift():
    configuration = {**ALLOWED, "k8s_trader_selector": "app=aitrapp"}
    driver = time_chaos_driver(-300, 330, configuration)
    assert driver.describe().startswith("clock:k8s:aitrapp/timechaos/aitrapp-clock-")
    assert driver.undo()["kind"] == "timechaos" and driver.seconds == -300 and driver.rate == 1
    assert time_chaos_spec("aitrapp", {"app": "aitrapp"}, -300)["timeOffset"] == "-300s"
    assert time_chaos_driver(-300, 330, ALLOWED) is None, "no trader pods given: the clock file's way"
    with pytest.raises(ConfigError, match="cannot make it drift"):
        _clock_driver(0.0, 0.1, 330, configuration)
    with pytest.raises(ConfigError, match="no Kubernetes namespace given"):
        time_chaos_driver(-300, 330, {"k8s_trader_selector": "app=aitrapp"})


STRESSED_POD = {**ALLOWED, "target_process": "k8s:aitrapp/pod/aitrapp-0"}


@pytest.mark.parametrize("call, configuration, message", [
    (lambda c: stress_cpu(seconds=5, workers=1, scope="host", configuration=c), STRESSED_POD,
     "scope host: a stress of k8s:aitrapp/pod/aitrapp-0 runs in its container"),
    (lambda c: stress_cpu(seconds=5, workers=MAX_WORKERS + 1, configuration=c), STRESSED_POD,
     f"at most {MAX_WORKERS} in a pod"),
    (lambda c: stress_memory(seconds=5, configuration=c), {**STRESSED_POD, "target_process": "k8s:prod/pod/aitrapp-0"},
     "namespace 'prod' is outside the namespace this drill may act in"),
    (lambda c: stress_memory(seconds=5, configuration=c), {**STRESSED_POD, "target_process": "k8s:aitrapp/aitrapp-0"},
     "k8s:NAMESPACE/pod/NAME"),
], ids=["host-scope", "too-many-workers", "other-namespace", "malformed"])
def test_a_pod_stress_that_may_not_act_is_refused_before_any_call(call, configuration, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call(configuration)


@pytest.mark.parametrize("limit, size, workers, message", [
    (None, 64 * 2**20, 1, "has no memory limit: a memory stress there presses the node"),
    (256 * 2**20, 200 * 2**20, 2, "400 MiB is more than the memory limit of k8s:aitrapp/pod/aitrapp-0's container (256"),
    (256 * 2**20, 128 * 2**20, 2, None),
])
def test_a_pods_memory_stress_stays_within_its_containers_limit(limit, size, workers, message):
    state = ContainerState("aitrapp-0", "aitrapp", "aitrapp-0/aitrapp#0", 1.0, 0, False, None, limit)
    if message is None:
        check_pod_memory("k8s:aitrapp/pod/aitrapp-0", state, size, workers)
        return
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_pod_memory("k8s:aitrapp/pod/aitrapp-0", state, size, workers)


def test_a_stress_chaos_selects_the_one_pod_and_is_undone_as_a_chaos_mesh_resource():
    driver = StressChaosDriver("aitrapp", "aitrapp-0", {"cpu": {"workers": 2, "load": 80}}, 6, 41, "cpu")
    assert driver.describe().startswith("stress:k8s:aitrapp/stresschaos/aitrapp-stress-")
    assert isinstance(registry.driver_from_undo(driver.undo()), ChaosMeshDriver)
    assert stress_chaos_spec("aitrapp", "aitrapp-0", {"cpu": {"workers": 2, "load": 80}}) == {
        "mode": "all", "selector": {"namespaces": ["aitrapp"], "pods": {"aitrapp": ["aitrapp-0"]}},
        "stressors": {"cpu": {"workers": 2, "load": 80}}}


def test_the_crash_drill_refuses_a_pod_saying_why():
    with pytest.raises(ConfigError, match="the crash drill does not run on Kubernetes: .* started again by its kubelet"):
        restartable("k8s:aitrapp/pod/aitrapp-0", "target_process")
