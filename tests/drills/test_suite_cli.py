"""`aitrapp-chaos run` (the suite: progress, JUnit, JSON summary, index page) and `aitrapp-chaos report`."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .kit import ROOT, drill_env, start_lab

CLI = str(Path(sys.executable).with_name("aitrapp-chaos"))


@pytest.fixture(scope="module")
def lab():
    lab = start_lab()
    yield lab
    lab.down()


def test_suite_writes_junit_summary_and_index_with_progress(lab, tmp_path):
    out = tmp_path / "suite"
    env = drill_env(lab, tmp_path)
    proc = subprocess.run([CLI, "run", "leader_lock", "rate_limit_spike", "--out", str(out)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "== [1/2] leader_lock: starting" in proc.stdout and "== [2/2] rate_limit_spike: PASS" in proc.stdout
    assert "[leader_lock +" in proc.stdout and "Action: stop-redis" in proc.stdout, "progress lines per phase"
    junit = next(out.glob("suite_*.junit.xml"))
    cases = ET.parse(junit).getroot().iter("testcase")
    assert sorted(c.get("name") for c in cases) == ["leader_lock", "rate_limit_spike"]
    summary = json.loads(next(out.glob("suite_*.summary.json")).read_text())
    assert json.dumps(summary).count("PASS") >= 2
    index = next(out.glob("suite_*.html")).read_text()
    assert "leader_lock" in index and "rate_limit_spike" in index

    report = subprocess.run([CLI, "report", str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "2 drill report(s), PASS" in report.stdout, report.stdout
    assert (out / "index.html").is_file() and (out / "index.junit.xml").is_file()


def test_suite_fails_when_a_drill_fails_and_junit_says_why(tmp_path):
    lab = start_lab(defects=["ready_lies"])
    try:
        out = tmp_path / "suite"
        proc = subprocess.run([CLI, "run", "leader_lock", "--out", str(out)], capture_output=True, text=True,
                              env=drill_env(lab, tmp_path), cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode == 1
        failure = next(ET.parse(next(out.glob("suite_*.junit.xml"))).getroot().iter("failure"))
        assert "ready-answers-503" in (failure.get("message", "") + (failure.text or ""))
    finally:
        lab.down()


def test_unknown_drill_is_refused(tmp_path):
    proc = subprocess.run([CLI, "run", "no_such_drill"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "unknown drill 'no_such_drill'" in proc.stderr
    assert "leader_lock" in proc.stderr, "the refusal lists the known drills"


def test_repeats_give_trends_and_a_baseline_flags_regressions(lab, tmp_path):
    """`--repeat 2`: two real runs of the drill, their figures in a trends file; against a baseline whose
    detection was far quicker the suite fails (exit 1) naming the regression; against its own trends it
    passes."""
    env = drill_env(lab, tmp_path)
    quick = tmp_path / "quick.trends.json"
    quick.write_text(json.dumps({"format": 1, "drills": {"leader_lock": {
        "runs": 2, "figures": {"time_to_detect_ready": {"n": 2, "p50": 0.001, "p95": 0.001, "max": 0.001}},
        "checks": {"flaps": {"pass": 2, "fail": 0, "unknown": 0}}}}}))
    out = tmp_path / "first"
    proc = subprocess.run([CLI, "run", "leader_lock", "--repeat", "2", "--baseline", str(quick), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "== [1/1] leader_lock #2/2: PASS" in proc.stdout
    assert "REGRESSION against" in proc.stdout and "time_to_detect_ready p95" in proc.stdout
    assert len(list(out.glob("leader_lock_r*_journal.json"))) == 2
    trends = json.loads(next(out.glob("suite_*.trends.json")).read_text())
    lock = trends["drills"]["leader_lock"]
    assert lock["runs"] == 2 and lock["verdicts"] == {"PASS": 2} and lock["flaky"] is False
    assert lock["figures"]["time_to_detect_ready"]["n"] == 2 and lock["figures"]["time_to_recover_ready"]["p95"] > 0
    assert trends["comparison"]["regressions"] and trends["baseline"] == str(quick)

    page = subprocess.run([CLI, "trends", str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert page.returncode == 0 and "2 run(s) of 1 drill(s)" in page.stdout, page.stdout + page.stderr
    html = (out / "trends.html").read_text()
    assert "<h2>leader_lock</h2>" in html and "time_to_recover_ready" in html and html.count("<circle") >= 4
    assert html.count('href="leader_lock_') >= 2, "each run links its report"

    again = subprocess.run([CLI, "run", "leader_lock", "--baseline", str(out), "--regression-share", "10",
                            "--out", str(tmp_path / "second")], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=300, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert "REGRESSION" not in again.stdout and "== trend leader_lock: 1 run(s) (PASS 1)" in again.stdout


def test_a_baseline_that_is_no_trends_file_or_a_folder_without_runs_is_bad_input(tmp_path):
    bad = tmp_path / "x.trends.json"
    bad.write_text("{}")
    proc = subprocess.run([CLI, "run", "leader_lock", "--baseline", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "is not a trends file" in proc.stderr, proc.stderr
    empty = subprocess.run([CLI, "trends", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert empty.returncode == 2 and "no recorded drill run" in empty.stderr, empty.stderr
