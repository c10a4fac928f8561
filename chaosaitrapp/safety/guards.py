"""Guards that keep a drill away from live money and foreign hosts.

Orders and mode changes are refused unless the target reports PAPER mode, or the explicit
``allow_live`` setting (``AITRAPP_ALLOW_LIVE=1``) is given, which is logged loudly
(:func:`require_paper`). What kills the trader or plays with its broker's word (a crash, order-state scripts, a
campaign) is refused outside PAPER mode whatever that setting says (:func:`require_paper_only`). The API
host must be in the allow-list (loopback by default); :class:`TraderClient` enforces that.
"""
from __future__ import annotations

import logging
from typing import Any

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.errors import ApiError, GuardRefused

logger = logging.getLogger("chaostoolkit")


def reported_mode(client: TraderClient) -> str:
    """The mode the target reports (``/health``'s ``mode``, cross-checked with ``/state``)."""
    _, health = client.json("GET", "/health")
    mode = str(health.get("mode", "")).upper() if isinstance(health, dict) else ""
    try:
        _, state = client.json("GET", "/state")
        state_mode = str(state.get("mode", "")).upper() if isinstance(state, dict) else ""
    except ApiError:
        state_mode = ""
    if "LIVE" in (mode, state_mode):
        return "LIVE"
    if not mode:
        raise ApiError("/health does not report a trading mode: cannot prove PAPER mode")
    return mode


def require_paper(client: TraderClient, action: str) -> str:
    """Refuse ``action`` unless the target is in PAPER mode (or allow_live is set, and logged)."""
    mode = reported_mode(client)
    if mode == "PAPER":
        return mode
    if client.settings.allow_live:
        logger.warning("chaosaitrapp: %s against a target in %s mode, allowed by AITRAPP_ALLOW_LIVE", action, mode)
        return mode
    raise GuardRefused(
        f"refusing to {action}: the target at {client.base} reports {mode} mode; drills that send orders "
        "or change mode run only in PAPER mode (set AITRAPP_ALLOW_LIVE=1 to override, at your own risk)",
        mode=mode, action=action,
    )


def require_paper_only(configuration: Any, secrets: Any, refusing: str, drill: str, action: str) -> None:
    """GuardRefused unless the trader reports PAPER mode, whatever ``AITRAPP_ALLOW_LIVE`` says: "refusing
    ``refusing``: it reports <mode> mode; ``drill`` runs only against a trader in PAPER mode" (``action``: what
    the refusal is recorded as)."""
    mode = reported_mode(TraderClient.from_configuration(configuration, secrets))
    if mode != "PAPER":
        raise GuardRefused(f"refusing {refusing}: the trader reports {mode} mode; {drill} runs only against a "
                           "trader in PAPER mode (AITRAPP_ALLOW_LIVE does not change that)", mode=mode, action=action)
