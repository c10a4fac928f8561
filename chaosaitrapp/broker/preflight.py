"""The broker family's pre-flight: fault kinds and their parameters, market-data modes and close codes
(offline); the broker fault proxy answers as one (online)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.actions import MARKET_DATA_MODES
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.broker.proxy.faults import CLOSE_CODES, INSTANT, FaultError, validate
from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ChaosAitrappError, ConfigError

#: The activities that act on the broker fault proxy.
PROXY_FUNCS = ("inject_broker_fault", "break_market_data", "restore_market_data", "clear_broker_faults",
               "wait_broker_faults_cleared")


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """Bad broker fault kinds, parameters, modes and close codes; with ``online``, a fault proxy that is
    unknown or does not answer as one (when the experiment acts on it at all)."""
    found: List[str] = []
    touches = False
    for call in activities:
        if call.func not in PROXY_FUNCS:
            continue
        touches = True
        args = call.args
        if call.func == "inject_broker_fault":
            kind = str(args.get("kind"))
            try:
                validate(kind, args.get("params"), 1 if kind in INSTANT else args.get("duration", 10) or 1)
            except FaultError as exc:
                found.append(f"activity {call.name!r}: {exc}")
        elif call.func in ("break_market_data", "restore_market_data"):
            mode = args.get("mode", "close")
            if mode not in MARKET_DATA_MODES:
                found.append(f"activity {call.name!r}: mode must be one of {', '.join(MARKET_DATA_MODES)}, "
                             f"got {mode!r}")
            code = args.get("code", 1006)
            if call.func == "break_market_data" and mode == "close" and code not in CLOSE_CODES:
                found.append(f"activity {call.name!r}: close code must be one of {CLOSE_CODES}, got {code!r}")
    if touches and online:
        found += proxy_problems(configuration)
    return found


def proxy_problems(configuration: Configuration, why: str = "") -> List[str]:
    """No broker fault proxy in front of the target's broker (not applicable; ``why``: what the drill needs it
    for), or one that does not answer as one; ``[]`` when it does."""
    try:
        client = ProxyClient.from_configuration(configuration)
    except ConfigError as exc:
        return [NotApplicable(f"no broker fault proxy in front of this target's broker{why}: {exc} "
                              "(`aitrapp-chaos proxy broker` starts one)")]
    try:
        client.health()
    except ChaosAitrappError as exc:
        return [f"the broker fault proxy: {exc}"]
    return []


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The broker fault proxy the drill acts through, and the faults it injects there."""
    kinds = [str(c.args.get("kind")) if c.func == "inject_broker_fault" else f"ws {c.args.get('mode', 'close')}"
             for c in activities if c.func in ("inject_broker_fault", "break_market_data")]
    if not kinds:
        return []
    try:
        where = ProxyClient.from_configuration(configuration).url
    except ChaosAitrappError as exc:
        where = f"unknown ({exc})"
    return [f"broker faults {', '.join(kinds)} at the broker fault proxy {where}"]
