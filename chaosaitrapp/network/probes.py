"""Probes of the partition drills: the faults the TCP fault proxy holds, and holding a partition open
until the leader lock's lease could have run out, with ``/health`` watched throughout."""

import time
from typing import Any, Dict, List

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import settings_from
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import current_run
from chaosaitrapp.network.client import NetProxyClient
from chaosaitrapp.trader.probes import stays_healthy
from chaosaitrapp.waiting import check_duration

__all__ = ["net_faults", "hold_past_lease"]


def net_faults(configuration: Configuration = None, secrets: Secrets = None) -> List[Dict[str, Any]]:
    """Returns the faults active at the TCP fault proxy (``kind``, ``id``, ``params`` with the route,
    ``lease_s``, ``biting``...). Raises ConfigError when no proxy is known, TargetError when it is
    unreachable."""
    client = NetProxyClient.from_configuration(configuration)
    if client is None:
        raise ConfigError("no TCP fault proxy is known for this target: set NET_PROXY (configuration 'net_proxy')",
                          key="net_proxy")
    return client.active()


def _partition_began_wall() -> float:
    run = current_run()
    for event in (run.events if run is not None else []):
        if event.get("event") == "fault" and event.get("target") != "orders":
            return float(event["wall"])
    raise ConfigError("hold_past_lease: no partition was made in this drill before it (nothing to hold)")


def hold_past_lease(beyond: float = 1.0, interval: float = 0.1, configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """Hold the drill's partition open until the target's leader lock lease could have run out since it
    began (its lock TTL, as given or learned; unknown: ``DETECT_TIMEOUT``) plus ``beyond`` seconds, watching ``/health``
    all along (it must answer ``healthy``: :func:`chaosaitrapp.trader.probes.stays_healthy`). This is a
    fault held for a computed duration, not a wait for a state. Returns ``stays_healthy``'s record plus
    ``held_until_s`` (seconds after the partition began); raises ConfigError without a partition in
    this drill, ConditionTimeout when ``/health`` stops being healthy."""
    beyond = check_duration("beyond", beyond)
    began = _partition_began_wall()
    ttl = target_timing(configuration).lock_ttl
    until = began + (settings_from(configuration).detect_timeout if ttl is None else ttl) + beyond
    out = stays_healthy(max(0.0, until - time.time()), interval, configuration, secrets)
    out["held_until_s"] = round(until - began, 3)
    return out
