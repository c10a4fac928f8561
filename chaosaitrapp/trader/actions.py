"""Actions on the AITRAPP API: pause, resume, flatten, mode, and the seed's ``make abort``.

``abort`` = pause, then flatten, then mode PAPER (the contract's order). ``abort_on_failure`` is
the rollback form: it aborts only when ``PAUSE_ON_FAIL=1`` and the drill has failed (or its
outcome is unknown because no evidence control recorded it).
"""

import logging
from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.config import settings_from
from chaosaitrapp.errors import ApiError, ConfigError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.safety.guards import require_paper
from chaosaitrapp.waiting import check_duration

__all__ = ["pause_trading", "resume_trading", "flatten_positions", "set_mode", "restart_market_data", "abort",
           "abort_on_failure"]

logger = logging.getLogger("chaostoolkit")
LIVE_CONFIRMATION = "CONFIRM LIVE TRADING"


def _client(configuration: Configuration, secrets: Secrets) -> TraderClient:
    return TraderClient.from_configuration(configuration, secrets)


def pause_trading(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``POST /pause``: pause the orchestrator (and the API flag). Returns the answer
    (``{"status": "paused"}``); raises ApiError when the API is unreachable or refuses."""
    return _client(configuration, secrets).json("POST", "/pause")[1]


def resume_trading(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``POST /resume``: resume the orchestrator. Returns the answer (``{"status": "resumed"}``);
    raises ApiError when the API is unreachable or refuses."""
    return _client(configuration, secrets).json("POST", "/resume")[1]


def flatten_positions(reason: str = "chaos drill", configuration: Configuration = None,
                      secrets: Secrets = None) -> Dict[str, Any]:
    """``POST /flatten?reason=...``: close every position (``reason`` is a query parameter). Returns
    the answer (``{"status": "flattened"|"no_positions", "reason", "duration_seconds", "timestamp"}``);
    raises ApiError when the API is unreachable or refuses."""
    return _client(configuration, secrets).json("POST", "/flatten", params={"reason": reason})[1]


def set_mode(mode: str = "PAPER", confirmation: str = "", override_reason: str = "",
             configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``POST /mode``. Switching to PAPER is always allowed; LIVE needs the confirmation text and the
    allow-live setting, and the target must currently be in PAPER mode. Returns the answer
    (``{"status", "mode", "previous_mode"}``); raises ConfigError for a mode other than PAPER/LIVE or
    LIVE without ``AITRAPP_ALLOW_LIVE=1``, GuardRefused/ApiError from the API."""
    mode = str(mode).upper()
    if mode not in ("PAPER", "LIVE"):
        raise ConfigError(f"mode must be PAPER or LIVE, got {mode!r}", key="mode")
    client = _client(configuration, secrets)
    if mode == "LIVE":
        require_paper(client, "switch the target to LIVE")
        if not client.settings.allow_live:
            raise ConfigError("refusing to switch to LIVE without AITRAPP_ALLOW_LIVE=1")
    body = {"mode": mode, "confirmation": confirmation, "override_reason": override_reason}
    return client.json("POST", "/mode", json=body)[1]


def restart_market_data(timeout: float = 30, configuration: Configuration = None,
                        secrets: Secrets = None) -> Dict[str, Any]:
    """``POST /market-data/restart``: the operator's remedy for a dead feed (AITRAPP reloads its token,
    stops the ticker, pauses 2 s, starts it and polls ``is_connected`` up to 20 s). Its sending is
    marked on the timeline as the restore (recovery is timed from it), its answer as
    ``md_restart_answered``. ``timeout``: how long to wait for the answer
    (the service answers after its own polling). Returns the answer (``{"status", "message",
    "connected", "waited_seconds", "timestamp"}``; ``connected`` may be false: the service answers 200
    either way, the drill's waits judge); raises ConfigError for a bad timeout, ApiError when the API
    is unreachable or refuses."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    client = _client(configuration, secrets).fork(http_timeout=timeout)
    record_event("restored", "marketdata", "POST /market-data/restart sent: the dead socket is replaced")
    answer = client.json("POST", "/market-data/restart")[1]
    record_event("md_restart_answered", "marketdata", f"connected={answer.get('connected')} "
                 f"waited_seconds={answer.get('waited_seconds')}")
    return answer


def abort(reason: str = "chaos drill abort", configuration: Configuration = None,
          secrets: Secrets = None) -> Dict[str, Any]:
    """The seed's ``make abort``: pause, then flatten, then switch to PAPER. Each step is tried even
    if an earlier one failed. Returns ``{"pause", "flatten", "mode"}`` (each step's answer); raises
    ApiError at the end, naming every step that failed, if any did."""
    record_event("phase", None, "abort")
    steps: Dict[str, Any] = {}
    errors = []
    for name, call in (("pause", lambda: pause_trading(configuration, secrets)),
                       ("flatten", lambda: flatten_positions(reason, configuration, secrets)),
                       ("mode", lambda: set_mode("PAPER", "", reason, configuration, secrets))):
        try:
            steps[name] = call()
        except Exception as exc:  # keep going: an abort must do as much as it can
            steps[name] = {"error": str(exc)}
            errors.append(f"{name}: {exc}")
    if errors:
        raise ApiError("abort incomplete: " + "; ".join(errors))
    return steps


def abort_on_failure(reason: str = "chaos drill failed", configuration: Configuration = None,
                     secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: run :func:`abort` when ``PAUSE_ON_FAIL=1`` and the drill failed so far.

    With ``PAUSE_ON_FAIL`` unset it does nothing; when the drill injected nothing (no fault of this
    extension, no action of another) it does nothing either: the target is left as it was. Without an
    evidence control the outcome is unknown, which counts as failed (the safe side). Returns
    ``{"aborted": bool, "why", "steps"}``; raises ApiError when the abort itself failed.
    """
    settings = settings_from(configuration)
    if not settings.pause_on_fail:
        return {"aborted": False, "why": "PAUSE_ON_FAIL is not set"}
    run = current_run()
    if run is not None and not run.injected:
        return {"aborted": False, "why": "nothing was injected: the target is left as it was"}
    failures = run.failures if run is not None and run.recording else ["outcome unknown: no evidence control"]
    if not failures:
        return {"aborted": False, "why": "the drill has not failed"}
    logger.warning("chaosaitrapp: PAUSE_ON_FAIL=1 and the drill failed (%s): aborting", failures[0])
    return {"aborted": True, "why": failures[:5], "steps": abort(reason, configuration, secrets)}
