"""The checker registry, per-drill defaults and run_checks' refusal to pass on a bug."""
import pytest

from chaosaitrapp.checks import CHECKS, DRILL_CHECKS, checks_for, combine, run_checks, verdict_of
from chaosaitrapp.checks import registry
from chaosaitrapp.checks.synthetic import leader_lock, postgres_blip, rate_limit_spike


def test_every_default_name_is_registered():
    assert set(DRILL_CHECKS) == {"leader_lock", "postgres_blip", "rate_limit_spike"}
    for names in DRILL_CHECKS.values():
        assert names and set(names) <= set(CHECKS)
    assert set(checks_for("something_else")) <= set(CHECKS)


@pytest.mark.parametrize("scenario", [leader_lock(), postgres_blip(), rate_limit_spike()], ids=lambda s: s.drill)
def test_nominal_drills_pass_their_default_checks(scenario, limits):
    timeline = scenario.timeline()
    results = run_checks(timeline, limits, DRILL_CHECKS[timeline.drill])
    assert [r.name for r in results] == DRILL_CHECKS[timeline.drill]
    assert combine(results) == "pass", [r.reason for r in results if r.status != "pass"]
    assert verdict_of(results) == "PASS"


@pytest.mark.parametrize("scenario,failing", [
    (leader_lock(detect_at=None, pause_at=None, leader_lost_at=None), {"time_to_detect_ready", "time_to_detect_pause"}),
    (leader_lock(flaps=[(7.5, 7.9)], duration=10), {"flaps"}),
    (leader_lock(unreachable=[(3.0, 3.3)]), {"health_stayed_up"}),
    (rate_limit_spike(queue_stuck=True, duration=35), {"queue_drained"}),
], ids=["never-detects", "flaps", "crash", "queue-stuck"])
def test_variants_fail_the_right_checks(scenario, failing, limits):
    timeline = scenario.timeline()
    results = run_checks(timeline, limits, DRILL_CHECKS[timeline.drill])
    assert {r.name for r in results if r.status == "fail"} == failing
    assert verdict_of(results) == "FAIL"


def test_unknown_name_and_raising_checker_are_unknown(monkeypatch, limits):
    def broken(timeline, limits):
        raise ZeroDivisionError("oops")

    monkeypatch.setitem(registry.CHECKS, "broken", broken)
    results = run_checks(leader_lock().timeline(), limits, ["nope", "broken", "flaps"])
    assert [r.status for r in results] == ["unknown", "unknown", "pass"]
    assert "no checker named 'nope'" in results[0].reason
    assert "ZeroDivisionError: oops" in results[1].reason
    assert verdict_of(results) == "FAIL"
