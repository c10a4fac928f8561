"""A campaign of every fault of the catalogue against a target deployed by hand (no lab state: the drills know it
only by its description, its clock file among it): every family's faults act through the real-deployment path,
the healthy target passes, every fault began and ended, nothing is left in the ledger."""
import json
import subprocess
import sys
from pathlib import Path

from drills.kit import ROOT, drill_env, ledger_entries

from chaosaitrapp.campaign.catalogue import CATALOGUE
from chaosaitrapp.campaign.schedule import load_schedule
from chaosaitrapp.targets.wallclock import read_clock

AITRAPP_CHAOS = str(Path(sys.executable).with_name("aitrapp-chaos"))
#: A seed whose one-minute schedule holds every fault of the catalogue (as on the lab).
EVERY_FAULT = ["--seed", "173", "--minutes", "1", "--no-shrink"]


def test_a_deployed_target_passes_a_campaign_of_every_fault(deployed_factory, tmp_path):
    target = deployed_factory(clock=True)
    env = drill_env(None, tmp_path, {"WAIT_READY_TIMEOUT": "15", "DETECT_TIMEOUT": "8", **target.env})
    folder = tmp_path / "campaign"
    proc = subprocess.run([AITRAPP_CHAOS, "campaign", *EVERY_FAULT, "--out", str(folder)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "not drawn from" not in proc.stderr, proc.stderr
    schedule = load_schedule((folder / "campaign.schedule.json").read_text())
    assert {f.kind for f in schedule.faults} == {f.name for f in CATALOGUE}
    journal = json.loads((folder / "campaign_journal.json").read_text())
    checks = {c["name"]: c for c in next(e for e in journal["extensions"] if e["name"] == "chaosaitrapp")["checks"]}
    assert {n: c["status"] for n, c in checks.items() if c["status"] != "pass"} == {}, checks
    assert f"{len(schedule.faults)} faults began and ended" in checks["campaign_nothing_left"]["reason"]
    assert ledger_entries(tmp_path / "state") == []
    assert read_clock(target.directory / "trader.offset").true
