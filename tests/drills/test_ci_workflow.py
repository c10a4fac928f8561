""".github/workflows/chaos-tests.yml as users will copy it: its shape, and its `run:` steps played here in
order (as far as this machine allows: `uses:` steps are GitHub's, `sudo` is a pass-through as root), so
the file cannot rot."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from chaosaitrapp.lab.runtime import lab_down
from chaosaitrapp.lab.runtime.config import LabPorts
from chaosaitrapp.lab.runtime.preflight import port_free
from chaosaitrapp.suite import bundled_drills

from .kit import ROOT
from .workflows import new_junit_cases, play, sudo_shim

WORKFLOW = ROOT / ".github" / "workflows" / "chaos-tests.yml"
DEFAULT_PORTS = tuple(LabPorts().as_dict().values())


def load():
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_shape():
    job = load()["jobs"]["chaos"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"]["AITRAPP_CHAOS_STATE"].startswith("${{ github.workspace }}"), "one state dir across sudo steps"
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any("aitrapp-chaos run" in r for r in runs), "the whole suite through aitrapp-chaos run"
    assert all("sudo -E" in r for r in runs if r), "sudo must keep the job's environment (the state directory)"
    always = [s for s in steps if s.get("if") == "always()"]
    assert any("lab down" in s.get("run", "") for s in always), "the lab comes down even when a drill failed"
    uploads = [s for s in always if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert any("junit.xml" in s["with"]["path"] for s in uploads), "the JUnit file is uploaded"
    assert any(s["with"]["path"].rstrip("/") == "reports/chaos" for s in uploads), "the evidence is uploaded"


def test_workflow_run_steps_work_in_order(tmp_path):
    busy = [port for port in DEFAULT_PORTS if not port_free(port)]
    assert not busy, f"the workflow uses the lab's default ports, but these are taken: {busy}"
    job = load()["jobs"]["chaos"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRAPP_")}
    env.update({k: str(v).replace("${{ github.workspace }}", str(ROOT)) for k, v in job["env"].items()})
    env["PATH"] = f"{sudo_shim(tmp_path)}:{env['PATH']}"
    state = Path(env["AITRAPP_CHAOS_STATE"])
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    shutil.rmtree(state, ignore_errors=True)
    before = set(reports.glob("suite_*.junit.xml")) if reports.exists() else set()
    try:
        failed = play(job["steps"], ROOT, env, reports, before)["failed"]
    finally:
        lab_down(state / "lab")
    assert failed is None, failed
    new = sorted(set(reports.glob("suite_*.junit.xml")) - before)
    assert len(new) == 2, f"each run step must leave one JUnit file where the upload step looks: {new}"
    cases = new_junit_cases(reports, before)
    assert sorted(cases) == bundled_drills(), "every bundled drill ran, the split-brain ones against two replicas"
    failures = {name: c.find("failure").get("message") for name, c in cases.items() if c.find("failure") is not None}
    assert not failures, failures
    assert not (state / "lab" / "lab.json").exists(), "the lab came down"
    shutil.rmtree(state, ignore_errors=True)


@pytest.mark.parametrize("profile", ["lab", "test"])
def test_install_script_is_idempotent_and_takes_the_distribution_postgres(profile):
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "install" / "apt.sh"), profile], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "already installed" in proc.stdout, "a second run installs nothing"
    script = (ROOT / "scripts" / "install" / "apt.sh").read_text()
    assert "postgresql-15" not in script, "no PostgreSQL major version is pinned (Ubuntu 24.04 ships 16)"
