"""The README's pip-install and write-your-own-drill examples, executed as written (so they cannot rot):
a fresh venv gets `.[lab]` only, brings the lab up from a directory outside the repo, scaffolds an
experiment there, runs it and a bundled drill, and brings the lab down."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chaosaitrapp.lab.runtime import lab_down
from chaosaitrapp.lab.runtime.config import LabPorts
from chaosaitrapp.lab.runtime.preflight import port_free

from .kit import ROOT

DEFAULT_PORTS = tuple(LabPorts().as_dict().values())


def readme_block(marker: str) -> str:
    """The fenced code block right after ``<!-- tested: MARKER -->`` in README.md."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- tested: " + re.escape(marker) + r" -->\s*```bash\n(.*?)```", text, re.S)
    assert match, f"README.md has no block marked <!-- tested: {marker} -->"
    return match.group(1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    busy = [port for port in DEFAULT_PORTS if not port_free(port)]
    assert not busy, f"the README's lab uses the default ports, but these are taken: {busy}"
    base = tmp_path_factory.mktemp("readme")
    os.chmod(base, 0o711)
    (base / "work").mkdir()
    yield base
    lab_down(base / "state" / "lab")


def _run(script: str, base: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITRAPP_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(base), AITRAPP_CHAOS_STATE=str(base / "state"), NONINTERACTIVE="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    script = script.replace("./chaosaitrapp", str(ROOT))
    # at the lowest CPU priority: an install must not starve the labs of the tests running beside this one
    return subprocess.run(["nice", "-n", "19", "bash", "-euo", "pipefail", "-c", script], cwd=base / "work", env=env,
                          capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)


def test_pip_install_lab_alone_brings_the_lab_up(workspace):
    proc = _run(readme_block("pip-install"), workspace)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "lab up in" in proc.stdout
    venv = workspace / "chaos"
    assert (venv / "bin" / "aitrapp-chaos").exists()
    dist = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import chaosaitrapp, sys; print(chaosaitrapp.__file__)"], capture_output=True, text=True,
                          cwd=workspace)
    assert str(ROOT) not in dist.stdout, "a real install, not the repo's sources"
    without_tests = subprocess.run([str(venv / "bin" / "python"), "-c", "import pytest"], capture_output=True,
                                   cwd=workspace)
    assert without_tests.returncode != 0, "the test extras were installed: the lab must run without them"


def test_own_drill_scaffolded_and_run_outside_the_repo(workspace):
    proc = _run(". ~/chaos/bin/activate\n" + readme_block("own-drill"), workspace)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    work = workspace / "work"
    experiment = work / "my_drill.yaml"
    assert experiment.exists() and "# " in experiment.read_text(), "a commented experiment"
    logs = sorted((work / "reports" / "chaos").glob("my_drill_20*.log"))
    assert logs, list((work / "reports" / "chaos").glob("*"))
    assert logs[0].read_text().splitlines()[-1] == "test_result,PASS"
    fields = dict(line.split(",", 1) for line in logs[0].read_text().splitlines()[1:])
    assert fields["check_time_to_detect_ready"] == "pass", "a team's own drill gets the inferred timing checks"
    summary = json.loads(next((work / "reports" / "chaos").glob("suite_*.summary.json")).read_text())
    assert [r["drill"] for r in summary["runs"]] == ["leader_lock", "my_drill"]
    assert summary["verdict"] == "PASS", summary


def test_scaffold_refuses_bad_names_and_overwrites(tmp_path):
    cli = str(Path(sys.executable).with_name("aitrapp-chaos"))
    ok = subprocess.run([cli, "new", "drill_a", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert ok.returncode == 0 and (tmp_path / "drill_a.yaml").exists()
    again = subprocess.run([cli, "new", "drill_a", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = subprocess.run([cli, "new", "../escape", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "NAME must be" in bad.stderr
    as_json = subprocess.run([cli, "new", "drill_b", "--dir", str(tmp_path), "--format", "json"],
                             capture_output=True, text=True)
    assert as_json.returncode == 0
    data = json.loads((tmp_path / "drill_b.json").read_text())
    assert data["runtime"]["rollbacks"]["strategy"] == "always"
    for path in (tmp_path / "drill_a.yaml", tmp_path / "drill_b.json"):
        out = subprocess.run([str(Path(sys.executable).with_name("chaos")), "--no-version-check", "--no-log-file",
                              "validate", str(path)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)
