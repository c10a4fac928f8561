"""The Kubernetes API client of every ``k8s:`` target, made as chaostoolkit-kubernetes makes it
(``chaosk8s.create_k8s_api_client``: ``KUBECONFIG`` or ``~/.kube/config``, in a pod with
``CHAOSTOOLKIT_IN_POD=true`` the service account, else ``KUBERNETES_HOST`` with ``KUBERNETES_API_KEY``...), so a
drill, its rollback, its watchdog and ``aitrapp-chaos cleanup`` reach the same cluster from the same environment.
The client libraries are the ``[kubernetes]`` extra; without them every ``k8s:`` target says so."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, TypeVar

from chaosaitrapp.errors import ConfigError, TargetError, TargetNotFound

T = TypeVar("T")
INSTALL = "pip install 'chaostoolkit-aitrapp[kubernetes]'"
#: Every call's own timeout (seconds): a hanging API server is an error, not a hang.
REQUEST_TIMEOUT = 10.0


def api_client(secrets: Optional[Dict[str, Any]] = None) -> Any:
    """A ``kubernetes.client.ApiClient`` (module docstring); ConfigError naming the install line when the
    ``[kubernetes]`` extra is missing."""
    try:
        from chaosk8s import create_k8s_api_client  # noqa: PLC0415 - the [kubernetes] extra is optional
    except ImportError:
        raise ConfigError(f"k8s: targets need the Kubernetes client libraries: {INSTALL}") from None
    return create_k8s_api_client(secrets)


def apps_api(secrets: Optional[Dict[str, Any]] = None) -> Any:
    """``kubernetes.client.AppsV1Api`` on :func:`api_client`."""
    from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
    return client.AppsV1Api(api_client(secrets))


def core_api(secrets: Optional[Dict[str, Any]] = None) -> Any:
    """``kubernetes.client.CoreV1Api`` on :func:`api_client`."""
    from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
    return client.CoreV1Api(api_client(secrets))


def api_error(what: str, exc: BaseException) -> TargetError:
    """A TargetError for a failed call (``what``: the call, naming its object), with the API's status and
    reason only (never the request's headers)."""
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or type(exc).__name__
    return TargetError(f"{what}: the Kubernetes API answered {status} {reason}" if status else f"{what}: {reason}")


def api_call(what: str, target: str, call: Callable[[], T], missing: str = "not found in the cluster") -> T:
    """``call()``'s answer; TargetNotFound ``"<target>: <missing>"`` when the API answers 404, :func:`api_error`
    (``what``) for any other failure."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the client's ApiException and its transport's errors
        if getattr(exc, "status", None) == 404:
            raise TargetNotFound(f"{target}: {missing}", target=target) from None
        raise api_error(what, exc) from None
