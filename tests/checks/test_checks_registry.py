"""The checker registry, the checks each fault calls for, their inference from an experiment, and
run_checks' refusal to pass on a bug."""
import json

import pytest

from chaosaitrapp import registry
from chaosaitrapp.checks import BASELINE_CHECKS, combine, run_checks
from chaosaitrapp.controls.inference import breaks_steady_state, checks_of, faults_of
from chaosaitrapp.registry import checks_for_faults
from chaosaitrapp.suite import PACKAGED_EXPERIMENTS
from chaosaitrapp.testing.synthetic import leader_lock, postgres_blip, rate_limit_spike

SCENARIO_FAULTS = {"leader_lock": "redis_stop", "postgres_blip": "postgres_stop", "rate_limit_spike": "order_burst"}


def test_every_named_check_is_registered():
    checkers = registry.checkers()
    assert set(BASELINE_CHECKS) <= set(checkers)
    for name in registry.fault_kinds():
        kind = registry.fault_kind(name)
        assert set(kind.checks) | set(kind.loaded_checks) <= set(checkers), name
    assert checks_for_faults([]) == BASELINE_CHECKS
    assert checks_for_faults(["no_such_fault"]) == BASELINE_CHECKS


@pytest.mark.parametrize("scenario", [leader_lock(), postgres_blip(), rate_limit_spike()], ids=lambda s: s.drill)
def test_nominal_drills_pass_the_checks_their_fault_calls_for(scenario, limits):
    timeline = scenario.timeline()
    names = checks_for_faults([SCENARIO_FAULTS[timeline.drill]])
    results = run_checks(timeline, limits, names, registry.checkers())
    assert [r.name for r in results] == names
    assert combine(results) == "pass", [r.reason for r in results if r.status != "pass"]


@pytest.mark.parametrize("scenario,failing", [
    (leader_lock(detect_at=None, pause_at=None, leader_lost_at=None), {"time_to_detect_ready", "time_to_detect_pause"}),
    (leader_lock(flaps=[(7.5, 7.9)], duration=10), {"flaps"}),
    (leader_lock(unreachable=[(3.0, 3.3)]), {"health_stayed_up"}),
    (rate_limit_spike(queue_stuck=True, duration=35), {"queue_drained"}),
], ids=["never-detects", "flaps", "crash", "queue-stuck"])
def test_variants_fail_the_right_checks(scenario, failing, limits):
    timeline = scenario.timeline()
    results = run_checks(timeline, limits, checks_for_faults([SCENARIO_FAULTS[timeline.drill]]), registry.checkers())
    assert {r.name for r in results if r.status == "fail"} == failing
    assert combine(results) == "fail"


def test_unknown_name_and_raising_checker_are_unknown(limits):
    def broken(timeline, limits):
        raise ZeroDivisionError("oops")

    checkers = {**registry.checkers(), "broken": broken}
    results = run_checks(leader_lock().timeline(), limits, ["nope", "broken", "flaps"], checkers)
    assert [r.status for r in results] == ["unknown", "unknown", "pass"]
    assert "no checker named 'nope'" in results[0].reason
    assert "ZeroDivisionError: oops" in results[1].reason
    assert combine(results) == "unknown"


@pytest.mark.parametrize("drill,faults", [("leader_lock", ["redis_stop"]), ("postgres_blip", ["postgres_stop"]),
                                          ("rate_limit_spike", ["order_burst"])])
def test_bundled_experiments_infer_their_faults(drill, faults):
    experiment = json.loads((PACKAGED_EXPERIMENTS / f"{drill}.json").read_text())
    assert faults_of(experiment) == faults
    assert checks_of(experiment) == checks_for_faults(faults)
    assert breaks_steady_state(experiment) == faults


def test_inference_resolves_references_and_ignores_other_extensions():
    method = [{"type": "action", "name": "x", "provider": {"type": "python", "module": "chaosaitrapp.dependencies.actions",
                                                          "func": "stop_dependency",
                                                          "arguments": {"dependency": "${dep}"}}},
              {"type": "action", "name": "y", "provider": {"type": "python", "module": "chaosk8s.pod.actions",
                                                          "func": "terminate_pods"}},
              {"type": "action", "name": "z", "provider": {"type": "http", "url": "http://localhost"}}]
    assert faults_of({"method": method}, {"dep": "postgres"}) == ["postgres_stop"]
    assert checks_of({"method": method[1:]}) == BASELINE_CHECKS
