"""The extension's side of a fault proxy's control API (:mod:`chaosaitrapp.faultproxy.control`), and
the fault ledger's driver for a proxy fault (:class:`ProxyFaultDriver`).

Every failure is a TargetError naming the proxy (unreachable, not a fault proxy) or a ConfigError (a
fault the proxy refuses, with its reason); the control URL's host must be in the drill's allowed hosts.

Undoing a proxy fault means: the proxy runs and the fault is gone. A fault expires by itself inside
the proxy at its lease, and a restarted proxy has none; but a proxy that *died* leaves the target cut
off altogether, so the undo recipe carries the proxy's own restart recipe when one is known (a lab
proxy's ProcessDriver recipe, which holds no secret).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import requests

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, GuardRefused, TargetError
from chaosaitrapp.targets.process import ProcessDriver

#: The ledger's driver names of the proxies, and how their targets are described.
LABELS = {"broker_proxy": "broker-proxy", "net_proxy": "net-proxy"}


class ControlClient:
    """Calls to one fault proxy's control API; ``driver`` is ``broker_proxy`` or ``net_proxy``."""

    def __init__(self, url: str, driver: str, timeout: float = 3.0, allowed_hosts: Optional[List[str]] = None) -> None:
        self.url = url.rstrip("/")
        self.driver = driver
        host = urlsplit(self.url).hostname or ""
        if allowed_hosts is not None and host not in allowed_hosts and "*" not in allowed_hosts:
            raise GuardRefused(f"fault proxy host {host!r} is not in the allowed hosts {allowed_hosts}", host=host)
        self.timeout = timeout
        self.session = requests.Session()

    def describe(self) -> str:
        """``broker-proxy:<control URL>`` or ``net-proxy:<control URL>``."""
        return f"{LABELS[self.driver]}:{self.url}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TargetError(f"{self.describe()}: the fault proxy is unreachable ({type(exc).__name__}); is it "
                              "running, and does the target's traffic go through it?", target=self.describe()) from None
        if answer.status_code == 400:
            try:
                reason = answer.json().get("error", answer.text[:200])
            except ValueError:
                reason = answer.text[:200]
            raise ConfigError(f"{self.describe()} refused: {reason}")
        if answer.status_code >= 300:
            raise TargetError(f"{self.describe()}: {method} {path} answered {answer.status_code}: {answer.text[:200]!r}",
                              target=self.describe())
        try:
            return answer.json()
        except ValueError:
            raise TargetError(f"{self.describe()}: not a fault proxy (no JSON at {path})",
                              target=self.describe()) from None

    def health(self) -> Dict[str, Any]:
        """The proxy's ``/health`` (TargetError when it does not answer as a fault proxy)."""
        body = self._call("GET", "/health")
        if not isinstance(body, dict) or body.get("status") != "healthy":
            raise TargetError(f"{self.describe()}: answers, but not as a fault proxy: {str(body)[:120]}")
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
        """What the proxy saw at or after Unix time ``since_wall``."""
        history = self._call("GET", "/history", params={"since_wall": f"{since_wall:.4f}"}).get("history")
        return [h for h in history or [] if isinstance(h, dict)]

    def stats(self) -> Dict[str, Any]:
        """The proxy's counters."""
        return dict(self._call("GET", "/stats"))


class ProxyFaultDriver:
    """One fault of one proxy, as the ledger undoes it (the Driver protocol of :mod:`chaosaitrapp.targets.base`)."""

    def __init__(self, control: str, fault_id: str, kind: str = "", process: Optional[Dict[str, Any]] = None,
                 driver: str = "broker_proxy") -> None:
        self.client = ControlClient(control, driver)
        self.fault_id = fault_id
        self.kind = kind
        self.process = process

    def describe(self) -> str:
        """The proxy's description (``broker-proxy:<control URL>``...)."""
        return self.client.describe()

    def is_running(self) -> bool:
        """True when the proxy answers (a driver's "running": the path exists)."""
        return self.client.answers()

    def answers(self) -> bool:
        """True when the proxy answers and the fault is no longer active."""
        try:
            return all(f.get("id") != self.fault_id for f in self.client.active())
        except TargetError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Not a fault this driver injects (faults are added through the control API)."""
        raise TargetError(f"{self.describe()}: a proxy fault is injected through the control API, not stopped")

    def start(self, timeout: float = 60.0) -> None:
        """Undo the fault: restart the proxy when it does not answer (and a recipe is known), then clear
        the fault. TargetError when the proxy cannot be brought back."""
        if not self.client.answers():
            if not self.process:
                raise TargetError(f"{self.describe()}: the fault proxy does not answer and no restart recipe is "
                                  "known; the target cannot reach its dependency until the proxy is started again")

            ProcessDriver.from_undo(self.process).start(timeout)
        self.client.clear(self.fault_id)

    def undo(self) -> dict:
        """The ledger recipe (no secret: the control URL, the fault id, the proxy's restart recipe)."""
        return {"driver": ref_of(ProxyFaultDriver), "proxy": self.client.driver, "control": self.client.url,
                "fault_id": self.fault_id, "kind": self.kind, "process": self.process}

    @classmethod
    def from_undo(cls, undo: dict) -> "ProxyFaultDriver":
        """Rebuild from :meth:`undo`'s dict."""
        proxy = undo.get("proxy") or (undo["driver"] if undo.get("driver") in ("broker_proxy", "net_proxy")
                                      else "broker_proxy")  # older ledgers named the proxy in "driver"
        return cls(undo["control"], undo["fault_id"], undo.get("kind", ""), undo.get("process"), proxy)
