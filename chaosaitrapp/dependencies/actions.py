"""Actions on a dependency: stop it (the fault) and start it again (the restore).

A stop is written to the fault ledger *before* it is injected, with a lease; a watchdog
process outside ``chaos`` restores the dependency if this run dies or the lease runs out.
A start clears the ledger entries of that target once the dependency answers again.
"""

import importlib
import time
from typing import Any, Dict

import redis  # noqa: F401 - imported before the method, never first inside a rollback (targets.answers)
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import settings_from
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.errors import TargetError
from chaosaitrapp.evidence.recorder import record_event
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.waiting import check_duration

__all__ = ["stop_dependency", "start_dependency"]


def stop_dependency(dependency: str = "redis", target: str = "", timeout: float = 30,
                    lease: float = 0, configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """Stop ``dependency`` (``redis`` or ``postgres``) through its target and wait until it is down.

    ``target``: ``auto`` (default from ``REDIS_TARGET``/``POSTGRES_TARGET``), ``lab:redis``,
    ``docker:NAME`` (container name or compose service), ``process:PIDFILE``. ``timeout``: seconds
    before SIGKILL / giving up. ``lease``: longest the fault may stay (0: ``AITRAPP_FAULT_LEASE``,
    default ``WAIT_READY_TIMEOUT`` + 60 s); past it the watchdog restores the dependency.

    Returns ``{"dependency", "target", "stopped_in_s", "ledger_entry", "lease_s"}``. Raises ConfigError
    for a bad value, TargetError when the dependency is not running before the fault or cannot be
    stopped (it is then restored by the ledger's watchdog within the lease).
    """
    timeout = check_duration("timeout", timeout, allow_zero=False)
    lease_s = check_duration("lease", lease) or settings_from(configuration).fault_lease
    if dependency == "postgres":  # before the fault, never first inside its rollback (targets.answers)
        importlib.import_module("psycopg")
    driver = dependency_driver(dependency, target, configuration)
    name = driver.describe()
    if not driver.is_running():
        raise TargetError(f"{name} is not running before the fault: refusing to stop what is already down "
                          "(run `aitrapp-chaos cleanup` or start it)", target=name)
    undo = driver.undo()  # a process named by its pidfile is read now, to start it again as it ran
    entry_id = register_fault("stop", name, undo, lease_s, getattr(driver, "restart_env", lambda: None)())
    began = time.monotonic()
    record_event("fault", name, "stop")
    driver.stop(timeout)
    record_event("fault_injected", name, "stopped")
    if getattr(driver, "heals_itself", False):  # a pod deleted for a blip: its controller makes it again at once
        record_event("restore", name, "its controller makes it again")
    return {"dependency": dependency, "target": name, "stopped_in_s": round(time.monotonic() - began, 3),
            "ledger_entry": entry_id, "lease_s": lease_s}


def start_dependency(dependency: str = "redis", target: str = "", timeout: float = 60,
                     configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Start ``dependency`` again and wait until it answers (Redis PING, Postgres connections).

    Idempotent: a dependency already running is left alone. Clears this target's fault-ledger
    entries once it answers. A dependency that heals itself (a Kubernetes pod deleted for a blip: its restore is
    marked when it was deleted) is marked restored when it is seen answering here. Used both in the method and as the rollback. Returns ``{"dependency",
    "target", "started_in_s", "answers", "already_running", "ledger_cleared"}``; raises TargetError
    when it does not answer within ``timeout`` (its ledger entry stays for the watchdog).
    """
    timeout = check_duration("timeout", timeout, allow_zero=False)
    driver = dependency_driver(dependency, target, configuration)
    name = driver.describe()
    began = time.monotonic()
    already = driver.is_running() and driver.answers()
    heals = bool(getattr(driver, "heals_itself", False))
    if not already and not heals:
        record_event("restore", name, "start")
    cleared = restore_faults(name, driver, timeout)
    if not already or heals:  # a blip's end is when it is seen answering again
        record_event("restored", name, "answers")
    return {"dependency": dependency, "target": name, "started_in_s": round(time.monotonic() - began, 3),
            "answers": True, "already_running": already, "ledger_cleared": cleared}
