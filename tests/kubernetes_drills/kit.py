"""What the Kubernetes drill tests read of the played cluster: StatefulSet ``redis``, the NetworkChaos resources,
the drill's calls, a process frozen or not, a run's checks."""
import sys
from pathlib import Path

import psutil
from kubernetes import client

from kubernetes_drills.cluster import NAMESPACE, Cluster

AITRAPP_CHAOS = str(Path(sys.executable).with_name("aitrapp-chaos"))


def api_client(cluster: Cluster) -> client.ApiClient:
    """A Kubernetes API client of the played cluster (its kmock server, no credentials)."""
    configuration = client.Configuration()
    configuration.host = cluster.url
    return client.ApiClient(configuration)


def redis_port(cluster: Cluster) -> int:
    """The port of the Redis behind StatefulSet ``redis``."""
    return int(cluster.env["K8S_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])


def statefulset(cluster: Cluster, name: str = "redis"):
    """StatefulSet ``name`` as the API has it now."""
    return client.AppsV1Api(api_client(cluster)).read_namespaced_stateful_set(name, NAMESPACE)


def scale_calls(cluster: Cluster, since: int = 0, name: str = "redis"):
    """The PATCHes of StatefulSet ``name`` the API has had since call number ``since``."""
    return [c for c in cluster.calls()[since:] if c == f"PATCH /apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/{name}"]


def stopped(deployed, name: str) -> bool:
    """True while process ``name`` of ``deployed`` is frozen (SIGSTOP)."""
    return psutil.Process(deployed.pid(name)).status() == psutil.STATUS_STOPPED

def network_chaos(cluster: Cluster):
    """The NetworkChaos resources in the namespace now."""
    return client.CustomObjectsApi(api_client(cluster)).list_namespaced_custom_object(
        "chaos-mesh.org", "v1alpha1", NAMESPACE, "networkchaos")["items"]


def time_chaos(cluster: Cluster):
    """The TimeChaos resources in the namespace now."""
    return client.CustomObjectsApi(api_client(cluster)).list_namespaced_custom_object(
        "chaos-mesh.org", "v1alpha1", NAMESPACE, "timechaos")["items"]


def stress_chaos(cluster: Cluster):
    """The StressChaos resources in the namespace now."""
    return client.CustomObjectsApi(api_client(cluster)).list_namespaced_custom_object(
        "chaos-mesh.org", "v1alpha1", NAMESPACE, "stresschaos")["items"]


def pod_uid(cluster: Cluster, name: str):
    """The uid of pod ``name`` now (None when there is none)."""
    found = [p for p in client.CoreV1Api(api_client(cluster)).list_namespaced_pod(NAMESPACE).items if p.metadata.name == name]
    return found[0].metadata.uid if found else None
