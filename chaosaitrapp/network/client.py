"""The TCP fault proxy, as the partition activities reach it: named by its control URL, the
``net_proxy`` setting (``$NET_PROXY``, or the deployment description: the lab's names its proxy). The
client itself is :class:`chaosaitrapp.faultproxy.client.ControlClient`.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from chaosaitrapp.config import settings_from, value
from chaosaitrapp.faultproxy.client import ControlClient
from chaosaitrapp.network.family import NET_PROXY


def net_proxy_url(configuration: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The TCP fault proxy's control URL for this drill, or None when none is known."""
    return value(configuration, NET_PROXY) or None


class NetProxyClient(ControlClient):
    """The TCP fault proxy's control API."""

    def __init__(self, url: str, timeout: float = 3.0, allowed_hosts: Optional[list] = None) -> None:
        super().__init__(url, "net_proxy", timeout, allowed_hosts)

    @classmethod
    def from_configuration(cls, configuration: Optional[Mapping[str, Any]] = None) -> Optional["NetProxyClient"]:
        """The client of this drill's proxy (allowed hosts checked), or None when none is known."""
        url = net_proxy_url(configuration)
        if url is None:
            return None
        settings = settings_from(configuration)
        return cls(url, settings.http_timeout, settings.allowed_hosts)

    def routes(self) -> Dict[str, Any]:
        """The routes the proxy serves (``{name: {"listen", "upstream"}}``)."""
        return dict(self.health().get("routes") or {})
