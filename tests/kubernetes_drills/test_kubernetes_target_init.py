"""``aitrapp-chaos target init`` on Kubernetes: the description read from the cluster (Redis and Postgres as their
StatefulSets, the trader's pods by the selector: the first as the API and the stress drills' pod, the others as
replicas, each frozen through the exec API), secrets by reference only; split brain run on that description alone
passes. A selector that picks no pod, or a namespace without the selector, is a clear error (exit 2)."""
import subprocess
from pathlib import Path

import yaml
from drills.kit import FAST_ENV, ledger_entries, run_drill

from kubernetes_drills.kit import AITRAPP_CHAOS


def _init(cluster, out, *args):
    return subprocess.run([AITRAPP_CHAOS, "target", "init", "--out", str(out), *args], capture_output=True, text=True,
                          timeout=60, env={**cluster.env, "PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)


def test_target_init_describes_the_namespace_and_a_drill_runs_on_it(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(replicas=2)
    out = tmp_path / "aitrapp-deployment.yaml"
    done = _init(cluster, out, "--k8s-namespace", "aitrapp", "--k8s-trader-selector", "app=aitrapp")
    assert done.returncode == 0, done.stderr
    written = out.read_text()
    described = yaml.safe_load(written)
    values = described["configuration"]
    assert values["redis_target"] == "k8s:aitrapp/statefulset/redis"
    assert values["postgres_target"] == "k8s:aitrapp/statefulset/postgres"
    assert values["api"] == deployed.api and values["replicas"] == deployed.replica_apis[0]
    assert values["replica_targets"] == "k8s:aitrapp/pod/aitrapp-0,k8s:aitrapp/pod/aitrapp-1"
    assert values["target_process"] == "k8s:aitrapp/pod/aitrapp-0"
    assert values["k8s_namespace"] == "aitrapp" and values["k8s_trader_selector"] == "app=aitrapp"
    assert described["secrets"]["aitrapp"]["redis_url"] == {"type": "env", "key": "REDIS_URL"}
    assert "# seen: redis: statefulset redis" in written and "# seen: trader pod aitrapp-1" in written
    password = deployed.env["DEPLOYED_DATABASE_URL"].split(":")[2].split("@")[0]
    assert password not in written and "kmock-test-token" not in written
    env = {**FAST_ENV, "KUBECONFIG": cluster.env["KUBECONFIG"], "AITRAPP_DEPLOYMENT": str(out),
           "REDIS_URL": cluster.env["K8S_REDIS_URL"]}
    # the replicas as target init found them: split brain freezes the leader's pod (leader_lock wants one instance);
    # the broker fault proxy is what the team fills in (the file says so)
    assert "#  broker_proxy:" in written
    proxy = yaml.safe_load(Path(cluster.env["AITRAPP_DEPLOYMENT"]).read_text())["configuration"]["broker_proxy"]
    run = run_drill("split_brain_pause", None, tmp_path / "drill",
                    {**env, "WAIT_READY_TIMEOUT": "20", "DETECT_TIMEOUT": "8", "BROKER_PROXY": proxy})
    assert run.code == 0 and run.fields["test_result"] == "PASS", f"{run.reasons}\n{run.output[-3000:]}"
    assert ledger_entries(tmp_path / "drill" / "state") == []


BAD = [
    (["--k8s-namespace", "aitrapp", "--k8s-trader-selector", "app=nothing"], "no Running pod in namespace aitrapp"),
    (["--k8s-namespace", "aitrapp"], "--k8s-namespace and --k8s-trader-selector go together"),
    (["--k8s-namespace", "aitrapp", "--k8s-trader-selector", "app"], "a label selector is key=value"),
]


def test_target_init_on_kubernetes_names_what_is_wrong(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    out = tmp_path / "aitrapp-deployment.yaml"
    for args, words in BAD:  # one cluster for every case: each is refused before it writes anything
        done = _init(cluster, out, *args)
        assert done.returncode == 2 and words in done.stderr and not out.exists(), (args, done.stderr)
