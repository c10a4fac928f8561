"""The fault ledger's driver for a broker fault: undoing it means the proxy runs and the fault is gone.

A proxy fault expires by itself inside the proxy at its lease, and a restarted proxy has none; but a
proxy that *died* leaves the target cut off from its broker altogether. So the undo recipe carries
the proxy's own restart recipe when one is known (the lab's proxy: its ProcessDriver recipe, which
holds no secret): :meth:`ProxyFaultDriver.start` restarts a proxy that does not answer, then clears
the fault (a fault already gone is fine).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.errors import TargetError


class ProxyFaultDriver:
    """One fault of one proxy, as the ledger undoes it (the Driver protocol of :mod:`chaosaitrapp.targets.base`)."""

    def __init__(self, control: str, fault_id: str, kind: str = "", process: Optional[Dict[str, Any]] = None) -> None:
        self.client = ProxyClient(control)
        self.fault_id = fault_id
        self.kind = kind
        self.process = process

    def describe(self) -> str:
        """``broker-proxy:<control URL>``."""
        return self.client.describe()

    def is_running(self) -> bool:
        """True when the proxy answers (a driver's "running": the path to the broker exists)."""
        return self.client.answers()

    def answers(self) -> bool:
        """True when the proxy answers and the fault is no longer active."""
        try:
            return all(f.get("id") != self.fault_id for f in self.client.active())
        except TargetError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Not a fault this driver injects (faults are added through the control API)."""
        raise TargetError(f"{self.describe()}: a broker fault is injected through the control API, not stopped")

    def start(self, timeout: float = 60.0) -> None:
        """Undo the fault: restart the proxy when it does not answer (and a recipe is known), then clear
        the fault. TargetError when the proxy cannot be brought back."""
        if not self.client.answers():
            if not self.process:
                raise TargetError(f"{self.describe()}: the fault proxy does not answer and no restart recipe is "
                                  "known; the target cannot reach its broker until the proxy is started again")
            from chaosaitrapp.targets.process import ProcessDriver

            ProcessDriver.from_undo(self.process).start(timeout)
        self.client.clear(self.fault_id)

    def undo(self) -> dict:
        """The ledger recipe (no secret: the control URL, the fault id, the proxy's restart recipe)."""
        return {"driver": "broker_proxy", "control": self.client.url, "fault_id": self.fault_id, "kind": self.kind,
                "process": self.process}

    @classmethod
    def from_undo(cls, undo: dict) -> "ProxyFaultDriver":
        """Rebuild from :meth:`undo`'s dict."""
        return cls(undo["control"], undo["fault_id"], undo.get("kind", ""), undo.get("process"))
