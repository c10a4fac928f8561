"""Helpers for the report tests: realistic journals around synthetic timelines, and headless Chromium.

Chromium is Debian's (/usr/bin/chromium); without it the screenshot tests fail, they never skip.
"""
import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from chaosaitrapp import registry
from chaosaitrapp.checks import Limits, combine, reasons_of, run_checks
from chaosaitrapp.registry import checks_for_faults
from chaosaitrapp.testing.synthetic import Scenario

CHROMIUM = "/usr/bin/chromium"
API_KEY = "sekrit-key-123"           # passed to the report as a secret
UNLISTED_KEY = "unlisted-key-999"    # not passed: must be caught by the X-API-Key pattern
DB_PASSWORD = "hunter2pw"            # in a postgresql:// URL


SCENARIO_FAULTS = {"leader_lock": "redis_stop", "postgres_blip": "postgres_stop", "rate_limit_spike": "order_burst"}


def fast_limits() -> Limits:
    return Limits.defaults(lock_ttl=3, refresh=1, backoff_max=2.5, wait_ready_timeout=90, heartbeat_max=5)


def _probe(name: str, output: Any, met: bool = True) -> Dict[str, Any]:
    return {
        "activity": {"type": "probe", "name": name, "tolerance": True,
                     "provider": {"type": "python", "module": "chaosaitrapp.trader.probes", "func": name,
                                  "arguments": {"api": "http://127.0.0.1:8000",
                                                "headers": {"X-API-Key": API_KEY}}}},
        "output": output, "status": "succeeded", "tolerance_met": met, "duration": 0.012,
        "start": "2025-11-25T10:00:00.000000+00:00", "end": "2025-11-25T10:00:00.012000+00:00",
    }


def _action(name: str, output: Any = None, status: str = "succeeded", error: Optional[str] = None) -> Dict[str, Any]:
    run = {"activity": {"type": "action", "name": name, "provider": {"type": "python"}}, "output": output,
           "status": status, "duration": 0.35, "start": "2025-11-25T10:00:01+00:00", "end": "2025-11-25T10:00:01+00:00"}
    if error:
        run["exception"] = ["Traceback (most recent call last):\n", f"chaosaitrapp.errors.ApiError: {error}\n"]
    return run


def make_journal(scenario: Scenario, directory: Path, *, extension: bool = True, status: str = "completed",
                 limits: Optional[Limits] = None) -> Dict[str, Any]:
    """A Chaos Toolkit journal for ``scenario`` whose timeline is written into ``directory``.

    The journal carries secrets in the places real ones hide: a probe's X-API-Key header, an
    unlisted key in an action output, a database URL with a password.
    """
    limits = limits or fast_limits()
    timeline = scenario.with_(limits=limits.to_dict()).timeline()
    stem = f"{scenario.drill}_2025-11-25T10-00-00"
    timeline_path = timeline.dump(directory / f"{stem}.timeline.jsonl")
    results = run_checks(timeline, limits, checks_for_faults([SCENARIO_FAULTS[scenario.drill]]), registry.checkers())
    verdict = "PASS" if combine(results) == "pass" else "FAIL"
    journal: Dict[str, Any] = {
        "chaoslib-version": "1.44.0", "platform": "Linux", "node": "ci",
        "experiment": {"title": f"{scenario.drill} drill", "description": "synthetic"},
        "start": "2025-11-25T10:00:00.000000+00:00", "end": "2025-11-25T10:00:09.300000+00:00",
        "duration": 9.3, "status": status, "deviated": False,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [_probe("ready_is_ok", True), _probe("leader_is_one", 1.0)]},
            "after": {"steady_state_met": True, "probes": [_probe("ready_is_ok", True)]},
            "during": [],
        },
        "run": [
            _action("stop_dependency", {"target": scenario.target, "stopped": True}),
            _action("wait_not_ready", {"waited_s": 0.7, "headers": {"X-API-Key": UNLISTED_KEY}}),
            _action("start_dependency", {"dsn": f"postgresql://trader:{DB_PASSWORD}@127.0.0.1:5432/aitrapp"}),
            _action("wait_ready", {"waited_s": 1.3}),
        ],
        "rollbacks": [_action("ensure_dependency_running", {"already_running": True})],
    }
    if extension:
        journal["extensions"] = [{
            "name": "chaosaitrapp", "drill": scenario.drill, "verdict": verdict, "reasons": reasons_of(results),
            "checks": [r.to_dict() for r in results],
            "seed_fields": {"leader_before": "1", "leader_after_stop": "0", "leader_after_recovery": "1",
                            "ready_before": "ready", "ready_after_stop": "not_ready",
                            "ready_after_recovery": "ready", "scan_hb": "1.2", "order_hb": "0.8", "md_hb": "0.5",
                            "health": "healthy", "test_result": verdict},
            "evidence": {"log": str(directory / f"{stem}.log"), "timeline": str(timeline_path),
                         "report": str(directory / f"{stem}.html")},
        }]
    return journal


def screenshot(html_path: Path, png_path: Path) -> Path:
    """Render ``html_path`` in headless Chromium (1280x2000) to ``png_path``; fails loudly."""
    assert os.access(CHROMIUM, os.X_OK), f"headless Chromium is required at {CHROMIUM} (apt-get install chromium)"
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=str(png_path.parent))
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               f"--user-data-dir={profile}", f"--screenshot={png_path}", "--window-size=1280,2000",
               html_path.resolve().as_uri()]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("chromium did not finish the screenshot within 180 s")
    finally:
        try:  # helpers chromium started in its own session (ours): none may outlive the test
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    assert png_path.exists() and png_path.stat().st_size > 0, \
        f"chromium exited {proc.returncode} without a screenshot: {err.decode(errors='replace')[-800:]}"
    return png_path


def runs_fixture(directory: Path) -> List[Dict[str, Any]]:
    """Three run dicts as the CLI would pass them to the index and CI writers."""
    return [
        {"drill": "leader_lock", "verdict": "PASS", "reasons": [], "duration": 9.3,
         "report": str(directory / "leader_lock.html"), "journal": str(directory / "leader_lock.journal.json"),
         "log": str(directory / "leader_lock.log")},
        {"drill": "postgres_blip", "verdict": "FAIL", "duration": 12.25,
         "reasons": ["health_stayed_up: API crashed or unreachable at t=3.00", "steady state after not met"],
         "report": str(directory / "postgres_blip.html"), "journal": str(directory / "postgres_blip.journal.json"),
         "log": str(directory / "postgres_blip.log")},
        {"drill": "rate_limit_spike", "verdict": "DRY", "duration": None,
         "reasons": [f"could not reach the API with X-API-Key: {API_KEY}"], "report": None, "journal": None,
         "log": None},
    ]
