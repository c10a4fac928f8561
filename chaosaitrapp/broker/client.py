"""The broker fault proxy, as the broker activities reach it: named by its control URL, the
``broker_proxy`` setting (``$BROKER_PROXY``, or the deployment description: the lab's names its proxy).
The client itself is :class:`chaosaitrapp.faultproxy.client.ControlClient`.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chaosaitrapp.broker.family import BROKER_PROXY
from chaosaitrapp.config import settings_from, value
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.faultproxy.client import ControlClient


def proxy_url(configuration: Optional[Mapping[str, Any]] = None) -> str:
    """The fault proxy's control URL for this drill (see the module docstring); ConfigError when none is known."""
    given = value(configuration, BROKER_PROXY)
    if given:
        return given
    raise ConfigError("the broker drills need the fault proxy's control URL: set BROKER_PROXY (configuration "
                      "'broker_proxy'), e.g. http://127.0.0.1:8003, and point the target's Kite roots at the proxy",
                      key="broker_proxy")


class ProxyClient(ControlClient):
    """The broker fault proxy's control API."""

    def __init__(self, url: str, timeout: float = 3.0, allowed_hosts: Optional[list] = None) -> None:
        super().__init__(url, "broker_proxy", timeout, allowed_hosts)

    @classmethod
    def from_configuration(cls, configuration: Optional[Mapping[str, Any]] = None) -> "ProxyClient":
        """The client of this drill's proxy (allowed hosts checked)."""
        settings = settings_from(configuration)
        return cls(proxy_url(configuration), settings.http_timeout, settings.allowed_hosts)
