"""The evidence and safety controls run in process (chaoslib's own runner) against a transport-level
fake of a healthy AITRAPP API, with small dict experiments: what a team's own experiment gets."""
import copy
import json
import signal
import threading
from pathlib import Path

import pytest
from chaoslib.experiment import run_experiment

from chaosaitrapp.testing.waits import wait_for

from .fakeapi import FakeApi

#: every drill here samples a fake API in this process and judges the samples' timing
pytestmark = pytest.mark.timing

METRICS = """# TYPE trader_is_leader gauge
trader_is_leader{instance_id="a"} 1.0
trader_marketdata_heartbeat_seconds 0.2
trader_order_stream_heartbeat_seconds 0.3
trader_scan_heartbeat_seconds 0.1
trader_throttle_queue_depth{type="order_placement"} 0.0
"""


def healthy_routes():
    ready = {"ok": True, "ready": True, "status": "ready", "mode": "PAPER", "leader": 1,
             "marketdata_heartbeat": 0.2, "order_stream_heartbeat": 0.3, "scan_heartbeat": 0.1}
    return {("GET", "/ready"): (200, ready), ("GET", "/health"): (200, {"status": "healthy", "mode": "PAPER"}),
            ("GET", "/state"): (200, {"is_paused": False, "mode": "PAPER"}), ("GET", "/metrics"): (200, METRICS)}


@pytest.fixture(autouse=True)
def keep_sigterm_handler():
    """The safety control wraps SIGTERM's handler; give pytest its own back."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


@pytest.fixture
def api():
    with FakeApi(healthy_routes()) as fake:
        yield fake


# Chaos Toolkit runs in this process, beside the sampler's threads: on a loaded 2-core runner the samples come
# at 7-9/s, so the rate these drills need is set lower (as a team would for a slow target); the check still runs
EVIDENCE = {"name": "aitrapp-evidence", "provider": {"type": "python", "module": "chaosaitrapp.controls.evidence",
                                                     "arguments": {"drill": "own_drill",
                                                                   "limits": {"min_sample_rate_hz": 4}}}}
SAFETY = {"name": "aitrapp-safety", "provider": {"type": "python", "module": "chaosaitrapp.controls.safety"}}


def experiment(url, *, controls=(EVIDENCE, SAFETY), configuration=None, **extra):
    exp = {
        "title": "a team's own drill", "description": "in-process",
        "configuration": configuration if configuration is not None else {"api": url},
        "controls": [copy.deepcopy(c) for c in controls],
        "steady-state-hypothesis": {"title": "ready", "probes": [
            {"type": "probe", "name": "ready", "tolerance": "ready",
             "provider": {"type": "python", "module": "chaosaitrapp.trader.probes", "func": "ready_status"}},
            # the documented tolerance probe, without "arguments" (chaoslib alone crashes with KeyError)
            {"type": "probe", "name": "fresh",
             "provider": {"type": "python", "module": "chaosaitrapp.metrics.probes", "func": "heartbeat_ages"},
             "tolerance": {"type": "probe", "name": "below",
                           "provider": {"type": "python", "module": "chaosaitrapp.metrics.probes",
                                        "func": "heartbeats_below"}}}]},
        "method": [{"type": "probe", "name": "healthy",
                    "provider": {"type": "python", "module": "chaosaitrapp.trader.probes", "func": "wait_healthy",
                                 "arguments": {"timeout": 5}}}],
        "runtime": {"rollbacks": {"strategy": "always"}},
    }
    exp.update(extra)
    return exp


def ext_of(journal):
    return next(e for e in journal["extensions"] if e["name"] == "chaosaitrapp")


def log_lines(journal):
    return Path(ext_of(journal)["evidence"]["log"]).read_text().splitlines()


def test_own_experiment_passes_with_inferred_baseline_checks(api):
    journal = run_experiment(experiment(api.url))
    ext = ext_of(journal)
    assert ext["verdict"] == "PASS", ext["reasons"]
    assert [c["name"] for c in ext["checks"]] == ["sampling_rate", "health_stayed_up", "heartbeat_while_ready",
                                                 "ready_while_not_leader"]
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    assert Path(ext["evidence"]["log"]).name.startswith("own_drill_")
    assert log_lines(journal)[-1] == "test_result,PASS"
    assert "leader_before" not in "\n".join(log_lines(journal)), "labels the experiment never used are left out"


def test_documented_env_names_are_accepted_as_configuration_keys(api):
    journal = run_experiment(experiment(api.url, configuration={"API": api.url, "HEARTBEAT_MAX": 4}))
    assert ext_of(journal)["verdict"] == "PASS", ext_of(journal)["reasons"]
    assert any(seen[1] == "/ready" for seen in api.seen), "the API named by the alias was used"


def test_a_typo_in_a_configuration_key_is_refused_with_did_you_mean(api):
    journal = run_experiment(experiment(api.url, configuration={"api": api.url, "heartbeat_mx": 3}))
    ext = ext_of(journal)
    assert ext["verdict"] == "FAIL" and journal["status"] == "failed"
    assert any("unknown configuration key 'heartbeat_mx': did you mean 'heartbeat_max'?" in r for r in ext["reasons"])
    assert journal.get("run") in (None, []), "nothing ran"


def test_an_unresolved_reference_is_refused(api):
    exp = experiment(api.url)
    exp["method"][0]["provider"]["arguments"]["timeout"] = "${detect_timeot}"
    exp["configuration"]["detect_timeout"] = 5
    ext = ext_of(run_experiment(exp))
    assert ext["verdict"] == "FAIL"
    assert any("${detect_timeot} is referenced but no configuration key or secret defines it "
               "(did you mean ${detect_timeout}?)" in r for r in ext["reasons"]), ext["reasons"]


def test_other_extensions_keys_are_noted_not_refused(api):
    journal = run_experiment(experiment(api.url, configuration={"api": api.url, "kubeconfig_path": "/x"}))
    ext = ext_of(journal)
    assert ext["verdict"] == "PASS"
    assert any("'kubeconfig_path' is not a chaosaitrapp setting" in n for n in ext["notes"])
    assert any(line.startswith("note,configuration key 'kubeconfig_path'") for line in log_lines(journal))


@pytest.mark.parametrize("order", ["evidence-first", "safety-first"])
def test_control_order_does_not_change_the_evidence_of_a_refused_run(order, api):
    controls = (EVIDENCE, SAFETY) if order == "evidence-first" else (SAFETY, EVIDENCE)
    journal = run_experiment(experiment(api.url, controls=controls,
                                        configuration={"api": api.url, "wait_ready_timeout": -3}))
    lines = log_lines(journal)
    reasons = [line for line in lines if line.startswith("failure_reason,")]
    assert reasons == ["failure_reason,pre-flight refused: configuration: wait_ready_timeout must be a positive "
                       "number; got -3"], lines
    assert lines[-1] == "test_result,FAIL"
    assert "timeline" not in ext_of(journal)["evidence"], "a refused run samples nothing, whichever control is first"


def test_rollback_strategy_other_than_always_is_noted_everywhere(api):
    exp = experiment(api.url)
    exp["runtime"] = {"rollbacks": {"strategy": "default"}}
    journal = run_experiment(exp)
    ext = ext_of(journal)
    assert ext["verdict"] == "PASS" and ext["strategies"]["rollbacks"] == "default"
    assert any("are skipped" in n for n in ext["notes"])
    assert "rollback_strategy,default" in log_lines(journal)
    html = Path(ext["evidence"]["report"]).read_text()
    assert "rollbacks default" in html and "are skipped" in html


def test_checks_can_be_chosen_added_and_skipped(api):
    exp = experiment(api.url)
    exp["controls"][0]["provider"]["arguments"].update(extra_checks=["flaps"], skip_checks=["sampling_rate"])
    ext = ext_of(run_experiment(exp))
    assert [c["name"] for c in ext["checks"]] == ["health_stayed_up", "heartbeat_while_ready",
                                                 "ready_while_not_leader", "flaps"]
    bad = experiment(api.url)
    bad["controls"][0]["provider"]["arguments"]["checks"] = ["time_to_detect_redy"]
    ext = ext_of(run_experiment(bad))
    assert ext["verdict"] == "FAIL" and any("names no checker 'time_to_detect_redy'" in r for r in ext["reasons"])


def test_bad_check_limits_in_the_environment_are_refused(api, monkeypatch):
    monkeypatch.setenv("AITRAPP_CHECK_LIMITS", json.dumps({"detect_sec": 5}))
    ext = ext_of(run_experiment(experiment(api.url)))
    assert ext["verdict"] == "FAIL" and any("unknown checker limit 'detect_sec'" in r for r in ext["reasons"])


def test_an_unreachable_api_refuses_the_drill_naming_it(api):
    exp = experiment("http://127.0.0.1:9")
    ext = ext_of(run_experiment(exp))
    assert ext["verdict"] == "FAIL" and any("API unreachable" in r and "127.0.0.1:9" in r for r in ext["reasons"])


def test_continuous_hypothesis_is_judged_when_the_fault_must_not_break_the_steady_state(api):
    from chaoslib.types import Strategy

    settings = {"runtime": {"hypothesis": {"strategy": "continuously"}, "rollbacks": {"strategy": "always"}}}
    exp = experiment(api.url)
    exp["method"][0]["provider"]["arguments"]["timeout"] = 2
    exp["method"].append({"type": "probe", "name": "hold", "provider": {
        "type": "python", "module": "chaosaitrapp.trader.probes", "func": "stays_healthy",
        "arguments": {"duration": 1.5}}})
    journal = run_experiment(exp, settings=settings, strategy=Strategy.CONTINUOUS)
    ext = ext_of(journal)
    assert ext["verdict"] == "PASS" and ext["strategies"]["hypothesis"] == "continuously", ext["reasons"]
    assert journal["steady_states"]["during"], "the steady state was checked during the method"

    # now the target stops being ready in the middle of the method: the check during it must see it
    exp = copy.deepcopy(exp)
    exp["method"].insert(1, {"type": "probe", "name": "mark", "provider": {"type": "http", "url": api.url + "/mark"}})
    exp["method"][-1]["provider"]["arguments"]["duration"] = 3
    ready = api.routes[("GET", "/ready")]

    def flip_when_marked():
        wait_for(lambda: any(seen[1] == "/mark" for seen in api.seen), 30, "the method's mark")
        api.routes[("GET", "/ready")] = (503, {**ready[1], "ok": False, "ready": False, "status": "not_ready"})

    flipper = threading.Thread(target=flip_when_marked, daemon=True)
    flipper.start()
    journal = run_experiment(exp, settings=settings, strategy=Strategy.CONTINUOUS)
    flipper.join(5)
    ext = ext_of(journal)
    assert ext["verdict"] == "FAIL"
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    assert any(r.startswith("steady state deviated during the method") for r in ext["reasons"]), ext["reasons"]


def test_continuous_hypothesis_is_refused_when_the_method_breaks_the_steady_state(api):
    from chaoslib.types import Strategy

    exp = experiment(api.url)
    exp["method"].insert(0, {"type": "action", "name": "burst", "provider": {
        "type": "python", "module": "chaosaitrapp.orders.actions", "func": "burst_orders", "arguments": {"count": 2}}})
    settings = {"runtime": {"hypothesis": {"strategy": "continuously"}}}
    ext = ext_of(run_experiment(exp, settings=settings, strategy=Strategy.CONTINUOUS))
    assert ext["verdict"] == "FAIL"
    assert any("cannot be met by this drill" in r and "order_burst" in r for r in ext["reasons"]), ext["reasons"]
    assert not [seen for seen in api.seen if seen[0] == "POST"], "no order was sent"
