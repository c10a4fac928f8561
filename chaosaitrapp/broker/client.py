"""The extension's side of the broker fault proxy's control API (:mod:`chaosaitrapp.broker.proxy.server`).

The proxy is named by its control URL: the ``broker_proxy`` setting (``$BROKER_PROXY``), else the lab's
proxy when a lab is the drill's target. Every failure is a TargetError naming the URL (unreachable,
not a fault proxy) or a ConfigError (a fault the proxy refuses, with its reason); the URL's host must
be in the drill's allowed hosts.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

import requests

from chaosaitrapp.config import settings_from
from chaosaitrapp.errors import ConfigError, GuardRefused, TargetError


def proxy_url(configuration: Optional[Mapping[str, Any]] = None) -> str:
    """The fault proxy's control URL for this drill (see the module docstring); ConfigError when none is known."""
    from chaosaitrapp.targets.labstate import lab_for

    settings = settings_from(configuration)
    if settings.broker_proxy:
        return settings.broker_proxy
    lab = lab_for(settings.api)
    if lab is not None and lab.endpoints.get("broker_proxy"):
        return lab.endpoints["broker_proxy"]
    raise ConfigError("the broker drills need the fault proxy's control URL: set BROKER_PROXY (configuration "
                      "'broker_proxy'), e.g. http://127.0.0.1:8003, and point the target's Kite roots at the proxy",
                      key="broker_proxy")


class ProxyClient:
    """Calls to one fault proxy's control API."""

    def __init__(self, url: str, timeout: float = 3.0, allowed_hosts: Optional[List[str]] = None) -> None:
        self.url = url.rstrip("/")
        host = urlsplit(self.url).hostname or ""
        if allowed_hosts is not None and host not in allowed_hosts and "*" not in allowed_hosts:
            raise GuardRefused(f"broker proxy host {host!r} is not in the allowed hosts {allowed_hosts}", host=host)
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_configuration(cls, configuration: Optional[Mapping[str, Any]] = None) -> "ProxyClient":
        """The client of this drill's proxy (allowed hosts checked)."""
        settings = settings_from(configuration)
        return cls(proxy_url(configuration), settings.http_timeout, settings.allowed_hosts)

    def describe(self) -> str:
        """``broker-proxy:<control URL>``."""
        return f"broker-proxy:{self.url}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TargetError(f"{self.describe()}: the fault proxy is unreachable ({type(exc).__name__}); is it "
                              "running, and do the target's Kite roots point at it?", target=self.describe()) from None
        if answer.status_code == 400:
            raise ConfigError(f"{self.describe()} refused: {answer.json().get('error', answer.text[:200])}")
        if answer.status_code >= 300:
            raise TargetError(f"{self.describe()}: {method} {path} answered {answer.status_code}: {answer.text[:200]!r}",
                              target=self.describe())
        try:
            return answer.json()
        except ValueError:
            raise TargetError(f"{self.describe()}: not a broker fault proxy (no JSON at {path})",
                              target=self.describe()) from None

    def health(self) -> Dict[str, Any]:
        """The proxy's ``/health`` (TargetError when it does not answer as a fault proxy)."""
        body = self._call("GET", "/health")
        if not isinstance(body, dict) or body.get("status") != "healthy" or "upstream" not in body:
            raise TargetError(f"{self.describe()}: answers, but not as a broker fault proxy: {str(body)[:120]}")
        return body

    def answers(self) -> bool:
        """True when the proxy answers its health check."""
        try:
            self.health()
            return True
        except TargetError:
            return False

    def add(self, kind: str, params: Optional[Dict[str, Any]], lease_s: float,
            fault_id: Optional[str] = None) -> Dict[str, Any]:
        """Start a fault (with the caller's ``fault_id`` when given); the fault as the proxy describes it
        (ConfigError for a refused one)."""
        body = {"kind": kind, "params": params or {}, "lease_s": lease_s}
        if fault_id is not None:
            body["id"] = fault_id
        return self._call("POST", "/faults", json=body)

    def clear(self, fault_id: str) -> Dict[str, Any]:
        """Clear one fault: ``{"cleared": it was active, "biting": it still changed what the target saw}``."""
        return dict(self._call("DELETE", f"/faults/{fault_id}"))

    def active(self) -> List[Dict[str, Any]]:
        """The active faults."""
        return list(self._call("GET", "/faults").get("faults") or [])

    def history(self, since_wall: float = 0.0) -> List[Dict[str, Any]]:
        """Order placements and ticker events the proxy saw, at or after Unix time ``since_wall``."""
        history = self._call("GET", "/history", params={"since_wall": f"{since_wall:.4f}"}).get("history")
        return [h for h in history or [] if isinstance(h, dict)]

    def stats(self) -> Dict[str, Any]:
        """The proxy's counters."""
        return dict(self._call("GET", "/stats"))
