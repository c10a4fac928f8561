"""The package on the Pythons it declares besides the suite's own (3.11): each one gets a venv with this
checkout installed by pip (``.[lab,test]``, so Chaos Toolkit resolves to the newest release PyPI has for it:
1.21+ needs 3.12), runs the fast tier, and on 3.12 a real drill runs with that venv's ``chaos`` against a
lab. A Python that cannot be found fails the test, naming where it was looked for."""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from drills.kit import ROOT, run_drill, start_lab

#: The fast tier's selection, as `make test-fast` makes it.
FAST_TIER = re.search(r'test-fast:.*?-m "([^"]+)"', (ROOT / "Makefile").read_text(), re.S).group(1)
VERSIONS = ("3.12", "3.13")


def python(version: str) -> str:
    """pyenv's newest build of ``version``, else ``python<version>`` on PATH (not a pyenv shim: a shim
    answers only for the version pyenv selects)."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    builds = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python"))
    found = shutil.which(f"python{version}")
    found = None if found and "/shims/" in found else found
    assert builds or found, f"Python {version}: not under {root}/versions/, nor on PATH as python{version}"
    return builds[-1] if builds else str(found)


def together(commands: dict, timeout: float, **kwargs) -> dict:
    """Run ``{name: argv}`` side by side, at the lowest CPU priority (``nice -n 19``: two installs or two
    fast tiers at once must not starve the labs of the tests running beside this one, whose drills judge
    latencies); ``{name: (returncode, output)}``. Each writes into a file of its own (a pipe read only after
    the other ended would fill and stall it)."""
    with tempfile.TemporaryDirectory() as folder:
        outputs = {name: open(Path(folder) / f"{index}.out", "w+") for index, name in enumerate(commands)}
        started: dict = {}
        try:
            started = {name: subprocess.Popen(["nice", "-n", "19", *argv], stdout=outputs[name],
                                              stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, **kwargs)
                       for name, argv in commands.items()}
            codes = {name: proc.wait(timeout=timeout) for name, proc in started.items()}
            return {name: (codes[name], Path(outputs[name].name).read_text()) for name in commands}
        finally:
            for proc in started.values():
                if proc.poll() is None:  # a timeout: ended here, not left running
                    proc.kill()
                    proc.wait()
            for output in outputs.values():
                output.close()


@pytest.fixture(scope="module")
def venvs(tmp_path_factory) -> dict:
    made = {version: tmp_path_factory.mktemp(f"py{version}") / "venv" for version in VERSIONS}
    for version, venv in made.items():
        subprocess.run([python(version), "-m", "venv", str(venv)], check=True, timeout=120)
    done = together({version: [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                               f"{ROOT}[lab,test]"] for version, venv in made.items()}, timeout=900)
    for version, (code, output) in done.items():
        assert code == 0, f"pip install on {version}:\n{output[-4000:]}"
    return made


def versions_of(venv: Path) -> dict:
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys, chaoslib, chaostoolkit; "
                          "print('%d.%d' % sys.version_info[:2], chaostoolkit.__version__, chaoslib.__version__)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"python": out[0], "chaostoolkit": out[1], "chaoslib": out[2]}


def test_the_fast_tier_passes_on_each(venvs, tmp_path):
    """The fast tier on each Python: side by side at nice 19, except its ``timing`` tests (they judge the
    wall-clock evidence of a sampler in their own process, which a starved process cannot give), run after,
    one Python at a time, at normal priority."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def pytest_argv(version: str, selection: str, where: str) -> list:
        return [str(venvs[version] / "bin" / "python"), "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                "-m", selection, "--basetemp", str(tmp_path / f"{where}-{version}")]

    done = together({version: pytest_argv(version, f"({FAST_TIER}) and not timing", "nice") for version in venvs},
                    timeout=1200, cwd=ROOT, env=env)
    for version in venvs:
        timed = subprocess.run(pytest_argv(version, f"({FAST_TIER}) and timing", "timing"), capture_output=True,
                               text=True, timeout=600, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        done[f"{version} (timing tests)"] = (timed.returncode, timed.stdout + timed.stderr)
    for name, (code, output) in done.items():
        version = name.split()[0]
        assert code == 0, f"fast tier on {name} ({versions_of(venvs[version])}):\n{output[-4000:]}"
        assert " passed" in output.strip().splitlines()[-1], output[-500:]


def agent_report(run) -> dict:
    """The one JSON document `chaos run --output agent` wrote on stdout."""
    start = run.stdout.find("{")
    assert start >= 0, f"no agent report on stdout:\n{run.stdout[-2000:]}"
    return json.loads(run.stdout[start:])


def test_a_drill_passes_with_the_newest_chaos_toolkit_on_3_12(venvs, tmp_path):
    """The drill on 3.12 with Chaos Toolkit 1.21+, its ``--output agent`` report and ``--events-file`` agreeing
    with our verdict: PASS is ``passed``; a FAIL that only the checks saw (every step and both steady states
    fine, the detection slower than a limit of 1 ms) is ``deviated``, never ``passed``."""
    venv = venvs["3.12"]
    found = versions_of(venv)
    assert tuple(int(p) for p in found["chaostoolkit"].split(".")[:2]) >= (1, 21), found
    lab = start_lab(profile="fast")
    env = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20"}
    try:
        run = run_drill("leader_lock", lab, tmp_path / "pass", env, chaos=str(venv / "bin" / "chaos"),
                        args=("--output", "agent", "--events-file", str(tmp_path / "pass.events.jsonl")))
        strict = run_drill("leader_lock", lab, tmp_path / "fail",
                           {**env, "AITRAPP_CHECK_LIMITS": json.dumps({"detect_s": 0.001})},
                           chaos=str(venv / "bin" / "chaos"),
                           args=("--output", "agent", "--events-file", str(tmp_path / "fail.events.jsonl")))
    finally:
        lab.down()
    assert run.code == 0, f"leader_lock on 3.12 with {found}: {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.extension["verdict"] == "PASS" and run.fields["test_result"] == "PASS"
    report = agent_report(run)
    assert report["outcome"] == "passed" and report["conclusive"] is True, report
    assert [line for line in (tmp_path / "pass.events.jsonl").read_text().splitlines() if line.strip()], "no events"

    assert strict.code == 1 and strict.extension["verdict"] == "FAIL", strict.output[-3000:]
    failing = [c["name"] for c in strict.extension["checks"] if c["status"] == "fail"]
    assert failing and all(name.startswith("time_to_detect") for name in failing), strict.extension["checks"]
    assert not [r for r in strict.journal["run"] if r["status"] == "failed"], "only the checks may fail here"
    report = agent_report(strict)
    assert report["outcome"] == "deviated", report
    assert report["journal"]["status"] == "failed" and report["steady_state"]["before"], report
    assert sys.version_info[:2] == (3, 11), "the suite itself runs on 3.11; the others run here"
