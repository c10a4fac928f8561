"""Actions on the path between the target and its broker, through the broker fault proxy.

Every held fault is written to the fault ledger (with a lease, and a watchdog outside ``chaos``) before
it is injected, and expires by itself inside the proxy at its ``duration``: a drill that dies leaves
the target cut off no longer than that. The kinds and what they do are in
:mod:`chaosaitrapp.broker.proxy.faults`. The instant kinds (``ws_close``, ``ws_drop_subscriptions``)
change nothing that stays, so they need no ledger entry.
"""

import time
import uuid
from typing import Any, Dict, List, Set

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.broker.family import BROKER_PROXY_TARGET
from chaosaitrapp.broker.proxy.faults import CLOSE_CODES, INSTANT, KINDS, FaultError, validate
from chaosaitrapp.config import value
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.faultproxy.client import ProxyFaultDriver
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.targets.resolve import restart_recipe
from chaosaitrapp.trader.actions import restart_market_data
from chaosaitrapp.waiting import check_duration, require, wait_until

__all__ = ["inject_broker_fault", "clear_broker_faults", "wait_broker_faults_cleared", "break_market_data",
           "restore_market_data"]

#: The WebSocket drill's variants: the faults each injects, and how the feed is restored.
MARKET_DATA_MODES = ("close", "stall", "restart")

LEASE_MARGIN_S = 30.0


def _restart_recipe(configuration: Configuration) -> Any:
    """The proxy's own restart recipe (``broker_proxy_target``; no secret in it), else None."""
    return restart_recipe(value(configuration, BROKER_PROXY_TARGET))


def _target(client: ProxyClient, fault_id: str) -> str:
    return f"{client.describe()}/faults/{fault_id}"


def inject_broker_fault(kind: str, duration: float = 10, params: Dict[str, Any] = None, lease: float = 0,
                        configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Inject broker fault ``kind`` at the fault proxy for ``duration`` seconds (after which the proxy
    drops it by itself). Kinds: ``token_invalidated``, ``rate_limit``, ``server_error``, ``latency``,
    ``drop_reply``, ``hold_reply``, ``ws_stall``, ``ws_refuse``, and the order states ``pending_then_cancelled``,
    ``rejected_after_ack``, ``partial_fill``, ``lost_update``, ``late_update`` (:mod:`chaosaitrapp.kitestates`)
    (held); ``ws_close``, ``ws_drop_subscriptions`` (instant).
    ``params`` are the kind's parameters (e.g. ``{"code": 1011}`` for ``ws_close``, ``{"hold_s": 10}`` for
    ``drop_reply``). ``lease``: longest the ledger lets it stay (0: ``duration`` + 30 s).

    Returns ``{"kind", "fault_id", "target", "duration", "lease_s", "params"}``. Raises ConfigError for an
    unknown kind, a bad parameter or duration (nothing is injected), TargetError when the proxy is
    unreachable.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown broker fault {kind!r}; known: {', '.join(KINDS)}", key="kind")
    duration = check_duration("duration", duration, allow_zero=kind in INSTANT)
    try:
        checked = validate(kind, params, duration if kind not in INSTANT else 1)
    except FaultError as exc:
        raise ConfigError(str(exc), key="params") from None
    client = ProxyClient.from_configuration(configuration)
    client.health()
    run = current_run()
    if run is not None:
        run.broker_proxy = client.url  # the evidence control collects the proxy's history at the end
    detail = " ".join([kind] + [f"{k}={v}" for k, v in sorted(checked.items())])
    if kind in INSTANT:
        record_event("fault", client.describe(), detail)
        fault = client.add(kind, checked, 1)
        record_event("fault_injected", client.describe(), detail)
        return {"kind": kind, "fault_id": fault["id"], "target": client.describe(), "duration": 0, "lease_s": 0,
                "params": fault["params"], "sockets": fault.get("sockets", 0)}
    lease_s = check_duration("lease", lease) or duration + LEASE_MARGIN_S
    fault_id = f"{kind}-{uuid.uuid4().hex[:12]}"
    driver = ProxyFaultDriver(client.url, fault_id, kind, _restart_recipe(configuration))
    entry = register_fault(kind, _target(client, fault_id), driver.undo(), lease_s)  # before it is injected
    record_event("fault", client.describe(), detail)
    try:
        fault = client.add(kind, checked, duration, fault_id)
    except Exception:
        restore_faults(_target(client, fault_id), driver, 10)
        raise
    record_event("fault_injected", client.describe(), detail, fault_id=fault["id"])
    return {"kind": kind, "fault_id": fault["id"], "target": client.describe(), "duration": duration,
            "lease_s": lease_s, "params": fault["params"], "ledger_entry": entry}


def _ours(client: ProxyClient) -> List[Any]:
    prefix = client.describe() + "/faults/"
    return [e for e in Ledger(ledger_path()).outstanding() if e.target.startswith(prefix)]


def _biting(client: ProxyClient, ids: Set[str]) -> bool:
    """True when one of the faults ``ids`` still changes what the target sees (or the proxy is down:
    then the target is cut off from its broker altogether)."""
    try:
        return any(f.get("id") in ids and f.get("biting", True) for f in client.active())
    except TargetError:
        return True


def clear_broker_faults(timeout: float = 30, configuration: Configuration = None,
                        secrets: Secrets = None) -> Dict[str, Any]:
    """Undo every broker fault this machine's ledger holds for the drill's proxy: restart the proxy if
    it died, clear the faults, clear their ledger entries. Idempotent (the rollback of every broker
    drill). The restore is marked on the timeline only when a fault still bit (a stall of sockets the
    target has since closed, e.g. after ``POST /market-data/restart``, no longer does). Returns
    ``{"target", "cleared", "already_clear", "biting"}``; raises TargetError when the proxy cannot be
    brought back."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    client = ProxyClient.from_configuration(configuration)
    entries = _ours(client)
    biting = bool(entries) and _biting(client, {str(e.undo.get("fault_id")) for e in entries})
    if biting:
        record_event("restore", client.describe(), "clear faults")
    cleared = 0
    for entry in entries:
        cleared += restore_faults(entry.target, ProxyFaultDriver.from_undo(entry.undo), timeout)
    if biting:
        record_event("restored", client.describe(), "faults cleared")
    return {"target": client.describe(), "cleared": cleared, "already_clear": not entries, "biting": biting}


def wait_broker_faults_cleared(timeout: float = 60, interval: float = 0.1, configuration: Configuration = None,
                               secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the proxy holds none of this drill's faults (each expires at its ``duration``), then
    clear their ledger entries and mark the restore on the timeline. Returns the wait's record; raises
    ConditionTimeout at the deadline (the rollback still clears them), TargetError when the proxy is
    unreachable."""
    client = ProxyClient.from_configuration(configuration)
    ids = {e.undo.get("fault_id") for e in _ours(client)}
    began = time.time()
    result = wait_until(lambda: [f["id"] for f in client.active() if f["id"] in ids], lambda left: not left,
                        timeout=check_duration("timeout", timeout, allow_zero=False), interval=interval,
                        what="the broker faults to expire")
    out = require(result, "no fault of this drill left at the proxy").as_dict()
    if ids:
        record_event("restore", client.describe(), "faults expired", at_wall=began)
        for entry in _ours(client):
            restore_faults(entry.target, ProxyFaultDriver.from_undo(entry.undo), 10)
        record_event("restored", client.describe(), "faults expired")
    return out


def _mode(mode: str) -> str:
    if mode not in MARKET_DATA_MODES:
        raise ConfigError(f"market-data fault mode must be one of {', '.join(MARKET_DATA_MODES)}, got {mode!r}",
                          key="mode")
    return mode


def break_market_data(mode: str = "close", code: int = 1006, duration: float = 120,
                      configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Kill the target's market-data feed at the fault proxy, as the WebSocket drill's ``mode`` says:

    - ``close``: new ticker handshakes are refused (403, ``ws_refuse``, for ``duration`` at most), then
      every open ticker socket is closed with ``code`` (1000, 1011; 1006: dropped without a close
      frame): the target must notice (``marketdata_connected`` false) and reconnect by itself once the
      refusal ends;
    - ``stall`` and ``restart``: the sockets open now are blackholed (``ws_stall``, scope ``existing``):
      open, silent, no heartbeat; only the heartbeat age shows it. ``restart`` is remedied by ``POST
      /market-data/restart`` (:func:`restore_market_data`), ``stall`` by the blackhole ending.

    Returns ``{"mode", "faults": [each inject_broker_fault answer]}``; raises ConfigError for an unknown
    mode or code (nothing injected), TargetError when the proxy is unreachable."""
    _mode(mode)
    if mode == "close":
        if int(code) not in CLOSE_CODES:
            raise ConfigError(f"close code must be one of {CLOSE_CODES}, got {code!r}", key="code")
        refused = inject_broker_fault("ws_refuse", duration, configuration=configuration, secrets=secrets)
        closed = inject_broker_fault("ws_close", 0, {"code": int(code)}, configuration=configuration, secrets=secrets)
        return {"mode": mode, "faults": [refused, closed]}
    stalled = inject_broker_fault("ws_stall", duration, {"scope": "existing"}, configuration=configuration,
                                  secrets=secrets)
    return {"mode": mode, "faults": [stalled]}


def restore_market_data(mode: str = "close", timeout: float = 30, configuration: Configuration = None,
                        secrets: Secrets = None) -> Dict[str, Any]:
    """End what :func:`break_market_data` did, as ``mode`` says: ``close`` and ``stall`` clear the
    drill's broker faults (:func:`clear_broker_faults`: reconnects are accepted again, the blackhole
    lets ticks through); ``restart`` calls ``POST /market-data/restart`` on the target (the blackholed
    socket stays in place: the target must leave it). Returns what that step returned; raises
    ConfigError for an unknown mode, TargetError/ApiError when the proxy or the API is unreachable."""
    if _mode(mode) == "restart":
        return restart_market_data(timeout, configuration, secrets)
    return clear_broker_faults(timeout, configuration, secrets)
