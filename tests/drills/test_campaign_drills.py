"""Campaigns against real labs through ``aitrapp-chaos campaign`` and ``chaos run``: the healthy lab (its trader
under the clock shim) passes a campaign of every fault of every campaign family, with its schedule the one
``--schedule-only`` draws and nothing left behind; without the clock file the clock family is left out, saying why; the overlap defect passes each single drill but a campaign with a fixed seed finds it and shrinks it to
its two faults (each alone passes); a LIVE trader is refused before anything is injected."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from chaosaitrapp.campaign.catalogue import CATALOGUE
from chaosaitrapp.campaign.schedule import load_schedule
from drills.checks import assert_lab_whole
from drills.kit import ROOT, Lab, drill_env, run_drill, settle, start_lab

AITRAPP_CHAOS = str(Path(sys.executable).with_name("aitrapp-chaos"))
#: The seed, length and families whose schedule overlaps a Redis stop with a token fault begun inside it.
OVERLAP = ["--seed", "135", "--minutes", "0.5", "--families", "dependencies,broker", "--overlap", "0.5", "--rate", "2"]


def campaign(lab: Lab, workdir: Path, args: List[str], extra: Dict[str, str] = None, timeout: float = 600):
    """``aitrapp-chaos campaign ARGS --out <workdir>/campaign`` against ``lab``; the process and the folder."""
    settle(lab)
    folder = workdir / "campaign"
    env = drill_env(lab, workdir, {"WAIT_READY_TIMEOUT": "15", "DETECT_TIMEOUT": "8", **(extra or {})})
    proc = subprocess.run([AITRAPP_CHAOS, "campaign", *args, "--out", str(folder)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout, stdin=subprocess.DEVNULL)
    return proc, folder


def checks_of(journal: Path) -> Dict[str, Dict]:
    data = json.loads(journal.read_text())
    ext = next(e for e in data["extensions"] if e.get("name") == "chaosaitrapp")
    return {c["name"]: c for c in ext["checks"]}


#: A seed whose one-minute schedule holds every fault of the catalogue.
EVERY_FAULT = ["--seed", "173", "--minutes", "1"]


def test_the_healthy_lab_passes_a_campaign_of_every_fault_and_keeps_its_schedule(tmp_path):
    lab = start_lab(profile="fast", fake_clock=True)
    try:
        drawn, drawn_folder = campaign(lab, tmp_path / "drawn", [*EVERY_FAULT, "--schedule-only"])
        assert drawn.returncode == 0, drawn.stderr
        unclocked, _ = campaign(lab, tmp_path / "unclocked", [*EVERY_FAULT, "--schedule-only"], {"CLOCK_FILE": ""})
        assert unclocked.returncode == 0 and "family clock not drawn from" in unclocked.stderr, unclocked.stderr
        assert '"clock_' not in unclocked.stdout
        proc, folder = campaign(lab, tmp_path, [*EVERY_FAULT, "--no-shrink"])
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert (folder / "campaign.schedule.json").read_bytes() == \
            (drawn_folder / "campaign.schedule.json").read_bytes()
        schedule = load_schedule((folder / "campaign.schedule.json").read_text())
        assert {f.kind for f in schedule.faults} == {f.name for f in CATALOGUE}
        found = checks_of(folder / "campaign_journal.json")
        assert {n: c["status"] for n, c in found.items() if c["status"] != "pass"} == {}
        for name in ("orders_exactly_once", "campaign_faults_recovered", "campaign_no_order_past_lease",
                     "campaign_nothing_left"):
            assert name in found, sorted(found)
        assert f"{len(schedule.faults)} faults began and ended" in found["campaign_nothing_left"]["reason"]
        summary = json.loads((folder / "campaign.json").read_text())
        assert summary["verdict"] == "PASS" and summary["failed"] == [] and "shrunk" not in summary
        assert_lab_whole(lab, tmp_path)
    finally:
        lab.down()


def test_the_overlap_defect_passes_single_drills_and_a_seeded_campaign_shrinks_it_to_two_faults(tmp_path):
    lab = start_lab(profile="fast", defects=["drops_queue_on_paused_refresh"])
    try:
        for drill in ("leader_lock", "broker_token_expiry"):
            run = run_drill(drill, lab, tmp_path / drill, {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "10"})
            assert run.code == 0 and run.extension["verdict"] == "PASS", (drill, run.reasons, run.output[-2000:])
        proc, folder = campaign(lab, tmp_path, OVERLAP, {"WAIT_READY_TIMEOUT": "8"})
        assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
        summary = json.loads((folder / "campaign.json").read_text())
        assert summary["verdict"] == "FAIL" and "orders_exactly_once" in summary["failed"], summary
        shrunk = summary["shrunk"]
        assert sorted(shrunk["faults"]) == ["broker_token_invalidated", "redis_stop"], shrunk
        assert "orders_exactly_once" in shrunk["checks"], shrunk
        smallest = load_schedule(Path(shrunk["schedule"]).read_text())
        assert len(smallest.faults) == 2 and smallest.length_s < 30
        alone = {s["step"].split()[1] for s in shrunk["steps"] if s["step"].startswith("drop ") and not s["still_failed"]}
        assert {f.id for f in smallest.faults} <= alone, shrunk["steps"]  # either one dropped, the failure went away
        assert "shrunk in" in proc.stdout
        assert_lab_whole(lab, tmp_path)
    finally:
        lab.down()


#: The seed, length and families whose schedule drops the ticker and steps the clock back while it is down.
WALL_CLOCK = ["--seed", "98", "--minutes", "0.5", "--families", "broker,clock", "--overlap", "0.6", "--rate", "2"]


def test_reconnects_on_wall_clock_passes_single_drills_and_a_seeded_campaign_finds_it(tmp_path):
    """A feed dropped while the clock steps back stays down (KiteTicker's retries wait on wall-clock timers): the
    WebSocket and clock drills pass alone, the campaign fails; its first shrink run finds the target still
    broken and shrinking stops there, saying so, instead of taking an unplayed run for a failure."""
    lab = start_lab(profile="fast", fake_clock=True, defects=["reconnects_on_wall_clock"])
    try:
        for drill in ("websocket_reconnect", "clock_jump"):
            run = run_drill(drill, lab, tmp_path / drill, {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "15"})
            assert run.code == 0 and run.extension["verdict"] == "PASS", (drill, run.reasons, run.output[-2000:])
        proc, folder = campaign(lab, tmp_path, [*WALL_CLOCK, "--shrink-runs", "3"], {"WAIT_READY_TIMEOUT": "8"})
        assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
        summary = json.loads((folder / "campaign.json").read_text())
        assert "campaign_faults_recovered" in summary["failed"], summary
        assert "/ready was not back for good" in " ".join(summary["reasons"]), summary["reasons"]
        shrunk = summary["shrunk"]
        assert shrunk["stopped"].startswith("stopped at run 1: the target was not ready before it"), shrunk
        assert shrunk["steps"] == [] and len(shrunk["faults"]) == len(load_schedule(
            (folder / "campaign.schedule.json").read_text()).faults), shrunk
    finally:
        lab.down()


def test_a_campaign_against_a_live_trader_is_refused_before_anything_is_injected(tmp_path):
    lab = start_lab(profile="fast", mode="LIVE")
    try:
        proc, folder = campaign(lab, tmp_path, ["--seed", "5", "--minutes", "1"])
        assert proc.returncode == 2, proc.stdout[-3000:]
        assert "refusing the campaign: the trader reports LIVE mode" in proc.stdout
        journal = json.loads((folder / "campaign_journal.json").read_text())
        assert journal["rollbacks"] == [] and journal["run"] == []
        timeline = next(folder.glob("*.timeline.jsonl"), None)
        assert timeline is None or "campaign_fault" not in timeline.read_text()
    finally:
        lab.down()


def test_bad_campaign_input_exits_2_naming_it(tmp_path):
    cases = [([], "give --seed"), (["--seed", "1", "--families", "clockwork"], "unknown campaign family clockwork"),
             (["--replay", str(tmp_path / "nope.json")], "nope.json"),
             (["--seed", "1", "--var", "novalue"], "--var takes KEY=VALUE")]
    for args, words in cases:
        proc = subprocess.run([AITRAPP_CHAOS, "campaign", *args, "--out", str(tmp_path / "c")], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2 and words in proc.stderr, (args, proc.stdout, proc.stderr)
