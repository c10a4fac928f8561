"""The namespace guard of every ``k8s:`` target: a drill acts only inside the namespace it was given
(``K8S_NAMESPACE``); a target elsewhere, or any ``k8s:`` target when no namespace was given, is refused when the
target is resolved, before any call to the cluster."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chaosaitrapp.config import core_setting, value
from chaosaitrapp.errors import ConfigError


def check_namespace(driver: Any, configuration: Optional[Mapping[str, Any]] = None) -> None:
    """ConfigError unless ``driver.namespace`` is the ``k8s_namespace`` setting (module docstring)."""
    allowed = value(configuration, core_setting("k8s_namespace"))
    namespace = getattr(driver, "namespace", None)
    if not allowed:
        raise ConfigError(f"{driver.describe()}: no Kubernetes namespace given; set K8S_NAMESPACE to the one "
                          "namespace the drill may act in", target=driver.describe())
    if namespace != str(allowed).strip():
        raise ConfigError(f"{driver.describe()}: namespace {namespace!r} is outside the namespace this drill may act "
                          f"in (K8S_NAMESPACE={allowed})", target=driver.describe())
