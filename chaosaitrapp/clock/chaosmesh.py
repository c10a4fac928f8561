"""The clock on Kubernetes: a Chaos Mesh TimeChaos steps the wall clock (``CLOCK_REALTIME`` only) of the trader's
pods (``K8S_TRADER_SELECTOR``, in ``K8S_NAMESPACE``), for a ``duration`` within the fault's lease, labelled with
the run (:mod:`chaosaitrapp.targets.kubernetes.chaosmesh`). Used by :func:`chaosaitrapp.clock.actions.jump_clock` when
no clock file is given. A step only: TimeChaos has no drift. The ledger holds the resource's
:class:`~chaosaitrapp.targets.kubernetes.chaosmesh.ChaosMeshDriver` recipe, so the rollback, the watchdog and cleanup
delete it by the run's label, and Chaos Mesh ends it at its ``duration`` should all of them fail."""
from __future__ import annotations

import uuid
from typing import Any, Dict, Optional

from chaoslib.types import Configuration

from chaosaitrapp.clock.driver import ClockFault
from chaosaitrapp.config import core_setting, value
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import current_run
from chaosaitrapp.safety.faults import restore_outstanding
from chaosaitrapp.targets.kubernetes.chaosmesh import (
    ChaosMeshDriver,
    create,
    resource,
    selector_labels,
    time_chaos_spec,
)
from chaosaitrapp.targets.kubernetes.guard import check_namespace


class TimeChaosDriver(ClockFault):
    """One TimeChaos step of the trader pods' wall clock (a :class:`~chaosaitrapp.clock.driver.ClockFault` of rate
    1). ``stop`` makes the resource; ``start`` deletes it (and every other of the run's)."""

    def __init__(self, namespace: str, pods: Dict[str, str], seconds: float, lease_s: float) -> None:
        if not seconds:
            raise ConfigError("a TimeChaos steps the clock: a jump of 0 s is nothing to inject", key="clock_jump")
        super().__init__(seconds)
        self.namespace, self.pods, self.lease_s = namespace, dict(pods), float(lease_s)
        run = current_run()
        self.run = str(getattr(run, "run_id", "") or uuid.uuid4().hex[:12])
        self.resource = ChaosMeshDriver(namespace, "timechaos", f"aitrapp-clock-{uuid.uuid4().hex[:8]}", self.run)

    def describe(self) -> str:
        """``clock:k8s:NAMESPACE/timechaos/NAME``."""
        return "clock:" + self.resource.describe()

    def stop(self, timeout: float = 10.0) -> None:
        """Make the TimeChaos, lasting the lease (Chaos Mesh ends it then, whatever else happens), and wait until
        Chaos Mesh reports it injected (TargetError otherwise: :meth:`ChaosMeshDriver.wait_injected`)."""
        create(resource("timechaos", self.resource.name, self.namespace, self.run,
                        time_chaos_spec(self.namespace, self.pods, self.seconds), self.lease_s, self.lease_s))
        self.resource.wait_injected(self.lease_s)

    def start(self, timeout: float = 10.0) -> None:
        """Delete it (the clock reads the true time again)."""
        self.resource.start(timeout)

    def is_running(self) -> bool:
        """True once the resource is gone."""
        return self.resource.answers()

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def undo(self) -> Dict[str, Any]:
        """The resource's recipe: whoever undoes it deletes it."""
        return self.resource.undo()


def time_chaos_driver(seconds: float, lease_s: float, configuration: Configuration) -> Optional[TimeChaosDriver]:
    """The TimeChaos of a jump by ``seconds`` (lasting ``lease_s``) when the trader's pods are given
    (``K8S_TRADER_SELECTOR``), past the namespace guard (no call is made); None when they are not. ConfigError for
    a bad selector, a namespace not allowed, or a jump of 0."""
    selector = value(configuration, core_setting("k8s_trader_selector"))
    if not selector:
        return None
    namespace = str(value(configuration, core_setting("k8s_namespace")) or "")
    driver = TimeChaosDriver(namespace, selector_labels(selector, "k8s_trader_selector"), seconds, lease_s)
    check_namespace(driver.resource.namespace, driver.resource.describe(), configuration)
    return driver


def end_time_chaos(timeout: float = 10.0) -> int:
    """Delete every TimeChaos the ledger still holds (a run that died before its rollback); how many entries were
    cleared."""
    return restore_outstanding(ChaosMeshDriver, timeout, where=lambda undo: undo.get("kind") == "timechaos")
