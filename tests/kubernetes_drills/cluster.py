"""A Kubernetes cluster for the drills, as far as these machines allow: kmock's API over real HTTP
(:mod:`kubernetes_drills.apiserver`) and :class:`PlayedController`, which plays the StatefulSet controller and the
kubelet for workloads backed by the real processes of a target deployed by hand (:mod:`deployed.target`), so a
drill's verdict still rests on a real trader, Redis and Postgres.

Every object the controller sends is validated against the Kubernetes OpenAPI (kubernetes-validate, strict, at
:data:`K8S_VERSION`); :func:`validate_namespace` validates every object left in the namespace after a drill (what
the drill's own patches made of them).
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import kubernetes_validate
import psutil
import requests
import yaml
from deployed.target import Deployed
from kubernetes import client

from chaosaitrapp.description import Description, dump, load
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.process import ProcessDriver, read_pid_quietly
from chaosaitrapp.testing.lab import free_ports
from chaosaitrapp.testing.waits import wait_for
from chaosaitrapp.waiting import wait_until
from kubernetes_drills.apiserver import CONTROLLER_AGENT
from kubernetes_drills.chaosmesh_player import PlayedChaosMesh

#: The Kubernetes version the tests validate against (kubernetes-validate's schemas, pinned in setup.cfg).
K8S_VERSION = "1.37.0"
NAMESPACE = "aitrapp"
APISERVER = Path(__file__).with_name("apiserver.py")


def validated(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """``manifest`` once it validates (strict: no unknown field) against the Kubernetes OpenAPI; raises
    kubernetes_validate's ValidationError otherwise."""
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    return manifest


def statefulset(name: str, port: int) -> Dict[str, Any]:
    """A one-replica StatefulSet named ``name`` whose pods are labelled ``app: name``."""
    labels = {"app": name}
    return validated({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": f"{name}:local",
                                                       "ports": [{"containerPort": port}]}]}}}})


def pod(name: str, app: str, port: int, limits: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """The pod ``name`` of StatefulSet ``app``, scheduled and not yet Ready; ``limits``: its container's
    ``resources.limits``."""
    container: Dict[str, Any] = {"name": app, "image": f"{app}:local", "ports": [{"containerPort": port}]}
    if limits:
        container["resources"] = {"limits": dict(limits)}
    return validated({  # the uid as the API server sets it (kmock sets none)
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": app}, "uid": str(uuid.uuid4())},
        "spec": {"containers": [container]}, "status": {"phase": "Pending", "podIP": "127.0.0.1"}})


def pod_status(ready: bool) -> Dict[str, Any]:
    """A pod's status as the kubelet reports it: Running, Ready or not."""
    return {"status": {"phase": "Running", "podIP": "127.0.0.1",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def container_status(app: str, pid: Optional[int], restarts: int, ended_oom: Optional[bool]) -> Dict[str, Any]:
    """The status the kubelet reports of the pod's container ``app``: running (as process ``pid``, since it
    started) or, with ``pid`` None, ended; ``ended_oom``: how its last run ended (``OOMKilled`` when the kernel
    killed it for memory, else ``Error``; None: it never ended), its ``lastState`` once it runs again."""
    ended = {"terminated": {"exitCode": 137, "reason": "OOMKilled" if ended_oom else "Error"}}
    status: Dict[str, Any] = {"name": app, "ready": pid is not None, "started": pid is not None,
                              "restartCount": restarts, "image": f"{app}:local", "imageID": f"played://{app}",
                              "containerID": f"played://{pid or 'gone'}"}
    if pid is None:
        return {**status, "state": ended}
    started = datetime.fromtimestamp(psutil.Process(pid).create_time(), timezone.utc)
    status["state"] = {"running": {"startedAt": started.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    return {**status, "lastState": ended} if ended_oom is not None else status


@dataclass
class TraderPod:
    """A trader pod the played kubelet reports and restarts (``restartPolicy: Always``): the pidfile of its process,
    the cgroup it runs in (None: ours), how to start it again as it ran, and what it last reported."""

    name: str
    pidfile: Path
    cgroup: Any = None
    reported: Any = None
    oom_before: int = 0
    driver: Any = None
    restarts: int = 0
    ended_oom: Optional[bool] = None


@dataclass
class Workload:
    """A StatefulSet the controller plays, backed by a real process or container (its driver restarts it as it
    ran); ``pod_uid``: the uid of the pod that runs it now."""

    name: str
    port: int
    driver: Any
    pod_uid: Optional[str] = None


class PlayedController(threading.Thread):
    """Plays the StatefulSet controller and the kubelet (module docstring): every 50 ms, for each workload, it
    reads the StatefulSet's ``spec.replicas``; at 0 it stops the process and deletes the pod; at 1 it creates the
    pod, starts the process if it is down and reports the pod Ready once the process answers. A pod deleted while
    the StatefulSet wants it is a pod killed: the process is stopped (the kubelet ends its container), a new pod
    made and the process started again. Then it reports the trader pods and plays Chaos Mesh
    (:class:`kubernetes_drills.chaosmesh_player.PlayedChaosMesh`)."""

    def __init__(self, apps: Any, core: Any, workloads: List[Workload], chaos_mesh: PlayedChaosMesh,
                 traders: List[TraderPod]) -> None:
        super().__init__(daemon=True, name="played-controller")
        self.apps, self.core, self.workloads, self.chaos_mesh = apps, core, workloads, chaos_mesh
        self.traders = traders
        self.errors: List[str] = []
        self._halt = threading.Event()

    def stop(self) -> None:
        """End the loop and wait for it."""
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        while not self._halt.wait(0.05):
            for workload in self.workloads:
                try:
                    self.reconcile(workload)
                except Exception as exc:  # noqa: BLE001 - kept for the test to show, the loop goes on
                    self.errors.append(f"{workload.name}: {exc!r}"[:300])
            for trader in self.traders:
                try:
                    self.report(trader)
                except Exception as exc:  # noqa: BLE001
                    self.errors.append(f"{trader.name}: {exc!r}"[:300])
            try:
                self.chaos_mesh.reconcile()
            except Exception as exc:  # noqa: BLE001
                self.errors.append(f"chaos mesh: {exc!r}"[:300])

    def report(self, trader: TraderPod) -> None:
        """The kubelet's report of a trader pod: its container running as its process, or ended (``OOMKilled`` when
        the OOM kills of its cgroup rose since it started), then started again as it ran, in its cgroup, one
        restart more; written when it changed."""
        pid = read_pid_quietly(trader.pidfile)
        alive = pid is not None and psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        if not alive and trader.reported is not None and trader.reported["state"].get("running"):
            ooms = (trader.cgroup.oom_kills() or 0) if trader.cgroup is not None else 0
            trader.ended_oom, trader.oom_before = ooms > trader.oom_before, ooms
            self._patch_trader(trader, container_status("aitrapp", None, trader.restarts, trader.ended_oom), False)
            trader.driver.start(60)
            if trader.cgroup is not None:
                trader.cgroup.add(trader.driver.pid())
            trader.restarts += 1
            return
        status = container_status("aitrapp", pid if alive else None, trader.restarts, trader.ended_oom)
        if status == trader.reported:
            return
        self._patch_trader(trader, status, alive)

    def _patch_trader(self, trader: TraderPod, status: Dict[str, Any], alive: bool) -> None:
        self.core.patch_namespaced_pod_status(trader.name, NAMESPACE, {"status": {
            "phase": "Running", "podIP": "127.0.0.1", "containerStatuses": [status],
            "conditions": [{"type": "Ready", "status": "True" if alive else "False"}]}})
        trader.reported = status

    def reconcile(self, workload: Workload) -> None:
        """One pass over ``workload`` (class docstring)."""
        wanted = self.apps.read_namespaced_stateful_set(workload.name, NAMESPACE).spec.replicas or 0
        pods = [p for p in self.core.list_namespaced_pod(NAMESPACE).items
                if (p.metadata.labels or {}).get("app") == workload.name]
        if wanted == 0:
            if workload.driver.is_running():
                workload.driver.stop(10)  # the kubelet's SIGTERM, SIGKILL at the grace period's end
            for found in pods:
                self.core.delete_namespaced_pod(found.metadata.name, NAMESPACE)
            workload.pod_uid = None
            ready = 0
        else:
            if not pods:
                if workload.pod_uid is not None and workload.driver.is_running():
                    workload.driver.stop(10)  # its pod was deleted: the kubelet ended its container
                made = self.core.create_namespaced_pod(NAMESPACE, pod(f"{workload.name}-0", workload.name,
                                                                      workload.port))
                workload.pod_uid = made.metadata.uid
            if not workload.driver.is_running():
                workload.driver.start(30)
            ready = 1 if workload.driver.answers() else 0
            try:
                self.core.patch_namespaced_pod_status(f"{workload.name}-0", NAMESPACE, pod_status(bool(ready)))
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
                return  # deleted since it was listed (a drill's blip): the next pass makes it again
        self.apps.patch_namespaced_stateful_set_status(
            workload.name, NAMESPACE, {"status": {"replicas": min(wanted, 1), "readyReplicas": ready}})


@dataclass
class Cluster:
    """The API server (its URL, its kubeconfig, its request log), the controller, and the drill's environment."""

    url: str
    kubeconfig: Path
    log: Path
    controller: PlayedController
    trader_pods: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)

    def calls(self) -> List[str]:
        """Every request the API has had from a client other than the played controller (the drill, its
        watchdog, a test), ``METHOD PATH``, oldest first."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line.split(" ", 1)[1] for line in lines if not line.startswith("controller ")]


def validate_namespace(cluster: Cluster) -> None:
    """Every StatefulSet and pod in the namespace validates against the Kubernetes OpenAPI (module docstring)."""
    api = client.ApiClient(_configuration(cluster.url))
    for kind, items in (("StatefulSet", client.AppsV1Api(api).list_namespaced_stateful_set(NAMESPACE).items),
                        ("Pod", client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items)):
        for item in items:
            manifest = api.sanitize_for_serialization(item)
            manifest.update(apiVersion="apps/v1" if kind == "StatefulSet" else "v1", kind=kind)
            validated(manifest)


def _configuration(url: str) -> client.Configuration:
    configuration = client.Configuration()
    configuration.host = url
    return configuration


def _kubeconfig(path: Path, url: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kmock",
        "clusters": [{"name": "kmock", "cluster": {"server": url}}],
        "users": [{"name": "drill", "user": {"token": "kmock-test-token"}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "drill", "namespace": NAMESPACE}}]}))
    return path


@contextmanager
def cluster_for(deployed: Deployed) -> Iterator[Cluster]:
    """The deployment ``deployed`` as seen through Kubernetes: its Redis is StatefulSet ``redis`` in namespace
    :data:`NAMESPACE` and its Postgres (a container) StatefulSet ``postgres``, both played by the controller; the
    drill's environment names a kubeconfig for kmock, the namespace, a description whose ``redis_target`` and
    ``postgres_target`` are ``k8s:aitrapp/statefulset/...`` and the lock's Redis as the ``REDIS_URL`` secret (a
    drill in a cluster reaches Redis by its Service)."""
    directory = deployed.directory
    port = free_ports(1)[0]
    log = directory / "kmock.log"
    pods_file = directory / "pods.json"  # the played kubelet's pods: {pod: the pidfile of the process it stands for}
    traders = ["trader"] + [f"trader_{i}" for i in range(1, len(deployed.replica_apis) + 1)]
    trader_pods = [f"aitrapp-{i}" for i in range(len(traders))]
    pods_file.write_text(json.dumps({p: str(deployed.pidfiles[t]) for p, t in zip(trader_pods, traders)}))
    with open(directory / "kmock.out", "ab") as out:
        server = subprocess.Popen([sys.executable, str(APISERVER), str(port), str(log), str(pods_file)], stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    controller = None
    try:
        wait_for(lambda: _answers(url), timeout=30, what="kmock's API")
        api = client.ApiClient(_configuration(url))
        api.user_agent = CONTROLLER_AGENT
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        redis = ProcessDriver(str(deployed.pidfiles["redis"]), check="redis")
        redis.capture()  # the controller restarts it as it ran, on the port it listens on
        redis_port = int(redis.port)
        apps.create_namespaced_stateful_set(NAMESPACE, statefulset("redis", redis_port))
        postgres = DockerDriver(deployed.container.name, check="postgres")
        postgres_port = int(next(a for a in deployed.container.attrs["Config"]["Cmd"] if a.startswith("port="))[5:])
        apps.create_namespaced_stateful_set(NAMESPACE, statefulset("postgres", postgres_port))
        described = load(deployed.description)
        redis_routes = str(described.configuration.get("replica_redis_routes") or "redis").split(",")
        played: List[TraderPod] = []
        for i, (name, api_url) in enumerate(zip(trader_pods, [deployed.api] + deployed.replica_apis)):
            group = deployed.cgroup if i == 0 else None  # the trader's own limits, as its container's
            core.create_namespaced_pod(NAMESPACE, pod(name, "aitrapp", int(api_url.rsplit(":", 1)[1]),
                                                      _limits(group) if group is not None else None))
            driver = ProcessDriver(str(deployed.pidfiles[traders[i]]))
            driver.capture()  # the kubelet starts it again as it ran
            played.append(TraderPod(name, deployed.pidfiles[traders[i]], group,
                                    oom_before=(group.oom_kills() or 0) if group is not None else 0, driver=driver))
        player = PlayedChaosMesh(client.CustomObjectsApi(api), NAMESPACE, described.configuration["net_proxy"],
                                 {"app": "aitrapp"}, {"app=redis": dict(zip(trader_pods, redis_routes)),
                                                      "app=postgres": {p: "postgres" for p in trader_pods}},
                                 Path(described.configuration["clock_file"]) if "clock_file" in described.configuration
                                 else None, {p.name: p for p in played})
        controller = PlayedController(apps, core, [Workload("redis", redis_port, redis),
                                                   Workload("postgres", postgres_port, postgres)], player, played)
        controller.start()
        for name in ("redis", "postgres"):
            ready = wait_until(lambda: apps.read_namespaced_stateful_set(name, NAMESPACE).status,
                               lambda status: status is not None and status.ready_replicas == 1, timeout=30)
            assert ready.held, (f"StatefulSet {name} never Ready: {ready.last_error}; the controller: "
                                f"{controller.errors[-3:]}; calls: {log.read_text().splitlines()[-6:]}")
        assert wait_until(lambda: all(t.reported for t in played), bool, timeout=30).held, \
            f"the trader pods were never reported: {controller.errors[-3:]}"
        # in a cluster the trader reaches Redis by its Service (no TCP fault proxy of ours in between, no route per
        # replica) and its clock is stepped by a TimeChaos (no clock file the drill writes)
        values = {k: v for k, v in described.configuration.items()
                  if k not in ("net_proxy", "net_proxy_target", "clock_file", "replica_redis_routes")}
        values.update(target_process=f"k8s:{NAMESPACE}/pod/{trader_pods[0]}",
                      redis_target=f"k8s:{NAMESPACE}/statefulset/redis",
                      postgres_target=f"k8s:{NAMESPACE}/statefulset/postgres", k8s_namespace=NAMESPACE,
                      k8s_trader_selector="app=aitrapp")
        if deployed.replica_apis:  # each replica frozen in its pod through the exec API
            values["replica_targets"] = ",".join(f"k8s:{NAMESPACE}/pod/{name}" for name in trader_pods)
        secrets = {**described.secrets, "redis_url": {"type": "env", "key": "K8S_REDIS_URL"}}
        description = directory / "deployment-k8s.yaml"
        dump(Description(values, secrets, provider="the test, on kmock"), description)
        cluster = Cluster(url, _kubeconfig(directory / "kubeconfig", url), log, controller, trader_pods)
        cluster.env = {**deployed.env, "AITRAPP_DEPLOYMENT": str(description), "KUBECONFIG": str(cluster.kubeconfig),
                       "K8S_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
        yield cluster
    finally:
        if controller is not None:
            controller.stop()
        server.terminate()
        server.wait(10)


def _limits(group: Any) -> Dict[str, str]:
    """The ``resources.limits`` of a container whose process runs in cgroup ``group``."""
    limits = {}
    if group.cpu_limit():
        limits["cpu"] = f"{round(group.cpu_limit() * 1000)}m"
    if group.memory_limit():
        limits["memory"] = str(group.memory_limit())
    return limits


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/version", timeout=1).status_code < 500
    except requests.RequestException:
        return False
