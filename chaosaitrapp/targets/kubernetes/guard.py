"""The namespace guard of every ``k8s:`` target: a drill acts only inside the namespace it was given
(``K8S_NAMESPACE``); a target elsewhere, or any ``k8s:`` target when no namespace was given, is refused when the
target is resolved, before any call to the cluster."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chaosaitrapp.config import core_setting, value
from chaosaitrapp.errors import ConfigError


def check_namespace(namespace: Optional[str], name: str, configuration: Optional[Mapping[str, Any]] = None) -> None:
    """ConfigError unless ``namespace`` is the ``k8s_namespace`` setting (module docstring); ``name`` is how the
    error names the target (its spec)."""
    allowed = value(configuration, core_setting("k8s_namespace"))
    if not allowed:
        raise ConfigError(f"{name}: no Kubernetes namespace given; set K8S_NAMESPACE to the one "
                          "namespace the drill may act in", target=name)
    if namespace != str(allowed).strip():
        raise ConfigError(f"{name}: namespace {namespace!r} is outside the namespace this drill may act "
                          f"in (K8S_NAMESPACE={allowed})", target=name)


def check_driver(driver: Any, configuration: Optional[Mapping[str, Any]] = None) -> None:
    """:func:`check_namespace` of a resolved ``k8s:`` driver (its ``namespace`` and ``describe()``): the target
    kind's guard (:data:`chaosaitrapp.registry.TARGET_KINDS`)."""
    check_namespace(getattr(driver, "namespace", None), driver.describe(), configuration)
