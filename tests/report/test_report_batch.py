"""build_reports: a folder of journals becomes drill reports, an index, JUnit XML and a summary."""
import json
import xml.etree.ElementTree as ET

from chaosaitrapp.checks.synthetic import leader_lock, postgres_blip
from chaosaitrapp.report import build_reports, find_journals
from report_fixtures import API_KEY, make_journal


def test_folder_of_journals(tmp_path):
    good = make_journal(leader_lock(), tmp_path)
    (tmp_path / "leader_lock_2025-11-25T10-00-00.journal.json").write_text(json.dumps(good))
    bad = make_journal(postgres_blip(unreachable=[(3.0, 3.2)]), tmp_path)
    (tmp_path / "postgres_blip_2025-11-25T10-00-00.journal.json").write_text(json.dumps(bad))
    (tmp_path / "summary-of-something.json").write_text('{"not": "a journal"}')
    assert len(find_journals(tmp_path)) == 2

    result = build_reports(tmp_path, out_dir=tmp_path / "out", secrets=[API_KEY])
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


def test_single_journal_without_extension(tmp_path):
    journal = make_journal(leader_lock(), tmp_path, extension=False)
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(journal))
    result = build_reports(path)
    (run,) = result["runs"]
    assert run["verdict"] == "FAIL"  # no evidence linked: never PASS
    assert run["report"] == str(tmp_path / "journal.html")
    assert "UNKNOWN" in open(run["report"]).read()
