"""Each seed drill passes against a healthy lab, under both timing profiles, with its evidence."""
import json
from pathlib import Path

import pytest

from chaosaitrapp.controls.inference import checks_of

from .checks import assert_lab_whole
from .kit import run_drill, start_lab

DRILLS = ["leader_lock", "postgres_blip", "rate_limit_spike"]


@pytest.fixture(scope="module")
def fast_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def aitrapp_lab():
    lab = start_lab(profile="aitrapp")
    yield lab
    lab.down()


def assert_passed(run, drill):
    assert run.code == 0, f"{drill} exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-4000:]}"
    fields = run.fields
    assert fields["test_result"] == "PASS"
    assert run.extension["verdict"] == "PASS" and run.extension["reasons"] == []
    assert run.journal["status"] == "completed"
    for key in ("leader_before", "leader_after_stop", "leader_after_recovery", "ready_before", "ready_after_stop",
                "ready_after_recovery", "scan_hb", "order_hb", "md_hb", "health"):
        assert fields[key] != "unknown", f"{key} was not recorded"
    assert fields["leader_before"] == "1" and fields["leader_after_recovery"] == "1"
    assert fields["ready_before"] == "ready" and fields["ready_after_recovery"] == "ready"
    assert fields["health"] == "healthy"
    for hb in ("scan_hb", "order_hb", "md_hb"):
        assert float(fields[hb]) < 5
    evidence = run.extension["evidence"]
    for key in ("log", "timeline", "report", "metrics_before", "metrics_after_recovery", "journal"):
        assert Path(evidence[key]).is_file(), f"evidence {key} missing: {evidence.get(key)}"
    assert "trader_is_leader" in Path(evidence["metrics_before"]).read_text()
    assert float(fields["timeline_rate_hz"]) >= 10, "the sampler must record at least 10 samples per second"
    experiment = json.loads((Path(__file__).resolve().parents[2] / "experiments" / f"{drill}.json").read_text())
    names = [c["name"] for c in run.extension["checks"]]
    assert names == checks_of(experiment), "the checks that judged the drill are the ones its fault calls for"
    assert all(c["status"] == "pass" for c in run.extension["checks"])
    assert all(fields[f"check_{name}"] == "pass" for name in names)
    html = Path(evidence["report"]).read_text()
    assert '<div class="big">PASS</div>' in html and "<svg" in html
    assert Path(evidence["log"]).name.startswith(f"{drill}_20"), "the drill is named after its experiment file"


@pytest.mark.parametrize("drill", DRILLS)
def test_drill_passes_fast_profile(drill, fast_lab, tmp_path):
    run = run_drill(drill, fast_lab, tmp_path)
    assert_passed(run, drill)
    fields = run.fields
    if drill == "leader_lock":
        assert fields["leader_after_stop"] == "0" and fields["ready_after_stop"] == "not_ready"
        assert fields["paused_after_stop"] == "true" and fields["paused_after_recovery"] == "false"
        for check in ("time_to_detect_ready", "time_to_detect_pause", "time_to_recover_ready", "time_to_recover_resume"):
            assert fields[f"check_{check}"] == "pass" and float(fields[f"{check}_s"]) >= 0
    if drill == "rate_limit_spike":
        burst = next(r for r in run.journal["run"] if r["activity"]["name"] == "burst-orders")["output"]
        assert burst["duplicates_sent"] > 0 and burst["duplicate_answers"] > 0
        rise = next(r for r in run.journal["run"] if r["activity"]["name"] == "queue-depth-rises")["output"]
        assert rise["value"] > 0
    assert_lab_whole(fast_lab, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("drill", DRILLS)
def test_drill_passes_aitrapp_profile(drill, aitrapp_lab, tmp_path):
    run = run_drill(drill, aitrapp_lab, tmp_path, {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90",
                                                   "OUTAGE_SECONDS": "3"})
    assert_passed(run, drill)
    assert_lab_whole(aitrapp_lab, tmp_path)
