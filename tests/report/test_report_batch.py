"""The one suite runner over recorded journals: a folder of journals becomes drill reports, an index,
JUnit XML and a summary; verdicts are the recorded ones."""
import json
import xml.etree.ElementTree as ET

from report_fixtures import API_KEY, make_journal

from chaosaitrapp.suite import find_journals, rebuild_reports, run_from_journal
from chaosaitrapp.testing.synthetic import leader_lock, postgres_blip
from chaosaitrapp.verdict import suite_verdict


def test_folder_of_journals(tmp_path):
    good = make_journal(leader_lock(), tmp_path)
    (tmp_path / "leader_lock_2025-11-25T10-00-00.journal.json").write_text(json.dumps(good))
    bad = make_journal(postgres_blip(unreachable=[(3.0, 3.2)]), tmp_path)
    (tmp_path / "postgres_blip_2025-11-25T10-00-00.journal.json").write_text(json.dumps(bad))
    (tmp_path / "summary-of-something.json").write_text('{"not": "a journal"}')
    assert len(find_journals(tmp_path)) == 2

    result = rebuild_reports(tmp_path, out_dir=tmp_path / "out", secrets=[API_KEY])
    assert result["verdict"] == "FAIL"
    runs = {r["drill"]: r for r in result["runs"]}
    assert runs["leader_lock"]["verdict"] == "PASS" and runs["postgres_blip"]["verdict"] == "FAIL"
    assert runs["postgres_blip"]["reasons"][0].startswith("health_stayed_up: API crashed")
    assert runs["leader_lock"]["report"].endswith("out/leader_lock_2025-11-25T10-00-00.html")
    for run in runs.values():
        html = open(run["report"]).read()
        assert "<svg" in html and API_KEY not in html
    index = open(result["index"]).read()
    assert 'href="leader_lock_2025-11-25T10-00-00.html"' in index
    suite = ET.parse(result["junit"]).getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert json.loads(open(result["summary"]).read())["passed"] == 1


def test_single_journal_without_extension_fails(tmp_path):
    journal = make_journal(leader_lock(), tmp_path, extension=False)
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(journal))
    result = rebuild_reports(path)
    (run,) = result["runs"]
    assert run["verdict"] == "FAIL" and "no chaosaitrapp verdict" in run["reasons"][0]
    assert '<div class="big">FAIL</div>' in open(run["report"]).read()


def test_exit_code_and_missing_journal(tmp_path):
    journal = make_journal(leader_lock(), tmp_path)
    path = tmp_path / "j.json"
    path.write_text(json.dumps(journal))
    assert run_from_journal(path, exit_code=0)["verdict"] == "PASS"
    crashed = run_from_journal(path, exit_code=1)
    assert crashed["verdict"] == "FAIL" and "exited 1" in crashed["reasons"][0]
    missing = run_from_journal(tmp_path / "nope.json", exit_code=-9)
    assert missing["verdict"] == "FAIL" and "no journal (chaos run exited -9)" in missing["reasons"][0]


def test_suite_verdict_rules():
    assert suite_verdict([]) == "FAIL"
    assert suite_verdict([{"verdict": "PASS"}, {"verdict": "DRY"}]) == "PASS"
    assert suite_verdict([{"verdict": "DRY"}]) == "DRY"
    assert suite_verdict([{"verdict": "PASS"}, {"verdict": "FAIL"}]) == "FAIL"
    assert suite_verdict([{"verdict": "UNKNOWN"}]) == "FAIL"
