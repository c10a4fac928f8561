"""A `chaos run` SIGKILLed mid-fault on Kubernetes leaves nothing of its run in the cluster: its watchdog scales the
StatefulSet back, deletes the NetworkChaos and the TimeChaos by the run's label, thaws the frozen pod through the
exec API, deletes the StressChaos (and the played Chaos Mesh's stress-ng ends), unpauses Redis after a stall reached
through the REDIS_URL secret the description maps (handed to the watchdog's own environment). Interrupted (SIGINT, Ctrl-C) instead, the run's own rollbacks do it before it exits."""
import json
import signal
import subprocess

import pytest
from drills.kit import CHAOS, FAST_ENV, ROOT, drill_env, ledger_entries, wait_ledger_empty

from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.wallclock import read_clock
from chaosaitrapp.waiting import wait_until
from kubernetes_drills.cluster import validate_namespace
from kubernetes_drills.kit import network_chaos, redis_port, statefulset, stopped, stress_chaos, time_chaos


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGINT"])
@pytest.mark.parametrize("drill, driver", [("leader_lock", ":WorkloadDriver"),
                                           ("network_partition_redis", ":ChaosMeshDriver"),
                                           ("split_brain_pause", ":PodFreezeDriver"),
                                           ("clock_jump", ":ChaosMeshDriver"),
                                           ("cpu_stress", ":ChaosMeshDriver"),
                                           ("redis_stall", ":RedisStallDriver")])
def test_a_signal_to_chaos_run_mid_fault_leaves_nothing_of_the_run_in_the_cluster(cluster_factory, tmp_path, drill,
                                                                                   driver, signal_name):
    deployed, cluster = cluster_factory(replicas=2 if drill == "split_brain_pause" else 1, clock=drill == "clock_jump")
    env = drill_env(None, tmp_path, {**FAST_ENV, **cluster.env, "AITRAPP_FAULT_LEASE": "8", "STRESS_SECONDS": "30",
                                     "STRESS_WORKERS": "1"})
    chaos = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(tmp_path / "journal.json"),
                              str(ROOT / "experiments" / f"{drill}.json")], env=env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        faulted = wait_until(lambda: [e for e in ledger_entries(tmp_path / "state")
                                      if e["undo"].get("driver", "").endswith(driver)], bool,
                             timeout=60, interval=0.02, what=f"{drill}'s fault in the ledger")
        assert faulted.held, f"{drill} never put its fault in place"
        in_place = {"leader_lock": lambda: statefulset(cluster).spec.replicas == 0,
                    "network_partition_redis": lambda: len(network_chaos(cluster)) == 1,
                    "split_brain_pause": lambda: stopped(deployed, "trader"),
                    "clock_jump": lambda: not read_clock(deployed.directory / "trader.offset").true,
                    "cpu_stress": lambda: len(stress_chaos(cluster)) == 1,
                    "redis_stall": lambda: not redis_answers("127.0.0.1", redis_port(cluster))}[drill]
        assert wait_until(in_place, bool, timeout=30).held
        chaos.send_signal(getattr(signal, signal_name))
        code = chaos.wait(60)
    finally:
        if chaos.poll() is None:
            chaos.kill()
            chaos.wait(10)
    if signal_name == "SIGINT":  # the run undid its own fault, and said so
        assert code != 0, "an interrupted run passed"
        rollbacks = json.loads((tmp_path / "journal.json").read_text())["rollbacks"]
        assert rollbacks and all(r["status"] == "succeeded" for r in rollbacks), \
            [(r["activity"]["name"], r["status"]) for r in rollbacks]
    assert wait_ledger_empty(tmp_path, timeout=60), ledger_entries(tmp_path / "state")
    # ready as the controller next sees Redis answer (after a stall it reported the pod not ready)
    back = wait_until(lambda: statefulset(cluster), lambda f: f.spec.replicas == 1 and f.status.ready_replicas == 1,
                      timeout=10, what="the Redis StatefulSet back at 1 ready replica")
    assert back.held, back.value
    assert network_chaos(cluster) == [] and time_chaos(cluster) == [] and stress_chaos(cluster) == []
    assert wait_until(cluster.controller.chaos_mesh.stressing, lambda s: s == [], timeout=10).held
    if drill == "clock_jump":
        assert wait_until(lambda: read_clock(deployed.directory / "trader.offset").true, bool, timeout=10).held
    assert wait_until(lambda: cluster.controller.chaos_mesh.proxy.active(), lambda a: a == [], timeout=10).held
    assert redis_answers("127.0.0.1", redis_port(cluster))
    assert not any(stopped(deployed, name) for name in deployed.pidfiles if name.startswith("trader"))
    validate_namespace(cluster)
