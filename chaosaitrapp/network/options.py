"""A partition's values and its mechanism: what :func:`chaosaitrapp.network.actions.partition` accepts
(:func:`check_partition`) and how it is carried out (:func:`choose_mechanism`); the pre-flight asks the same
two functions, so a bad value is refused before anything is injected."""
from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration

from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.network import chaosmesh
from chaosaitrapp.network.client import NetProxyClient

DEPENDENCIES = ("redis", "postgres", "broker")
KINDS = ("blackhole", "reject", "latency")
DIRECTIONS = ("both", "to_dependency", "from_dependency")
MECHANISMS = ("auto", "proxy", "kernel", "chaosmesh")
BROKER_DIRECTIONS = {"both": "both", "to_dependency": "requests", "from_dependency": "replies"}


def check_partition(dependency: str, kind: str, direction: str, mechanism: str, delay_ms: Any) -> float:
    """The added delay in ms of a partition with these values; ConfigError naming the first bad one."""
    for name, value, allowed in (("dependency", dependency, DEPENDENCIES), ("kind", kind, KINDS),
                                 ("direction", direction, DIRECTIONS), ("mechanism", mechanism, MECHANISMS)):
        if value not in allowed:
            raise ConfigError(f"partition: {name} must be one of {', '.join(allowed)}, got {value!r}", key=name)
    try:
        delay = float(delay_ms)
    except (TypeError, ValueError):
        raise ConfigError(f"partition: delay_ms must be a number of milliseconds, got {delay_ms!r}",
                          key="delay_ms") from None
    if kind == "latency" and not 0 < delay <= 60000:
        raise ConfigError(f"partition: a latency partition needs delay_ms above 0 and at most 60000, got {delay_ms!r}",
                          key="delay_ms")
    return delay


def choose_mechanism(mechanism: str, dependency: str, configuration: Configuration) -> str:
    """``proxy``, ``kernel`` or ``chaosmesh``: the mechanism given, or for ``auto`` the TCP fault proxy when it
    serves ``dependency``, else Chaos Mesh when the dependency runs on Kubernetes, else kernel rules."""
    if mechanism != "auto":
        return mechanism
    client = NetProxyClient.from_configuration(configuration)
    try:
        served = client is not None and dependency in client.routes()
    except TargetError:
        served = False
    if served:
        return "proxy"
    return "chaosmesh" if chaosmesh.serves(dependency, configuration) else "kernel"


