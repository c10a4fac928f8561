"""CI outputs: the suite index page, JUnit XML and the JSON summary."""
import json
import xml.etree.ElementTree as ET

from report_fixtures import API_KEY, runs_fixture
from test_report_html import assert_self_contained

from chaosaitrapp.report import render_suite_index, write_junit, write_summary_json


def test_suite_index_links_every_report_with_verdict_and_reasons(tmp_path):
    runs = runs_fixture(tmp_path / "chaos")
    out = render_suite_index(runs, tmp_path / "chaos" / "index.html", secrets=[API_KEY])
    html = out.read_text()
    assert '<div class="big">FAIL</div>' in html and "1 of 3 drill(s) passed" in html and ">dry<" in html
    assert 'href="leader_lock.html"' in html and 'href="postgres_blip.journal.json"' in html
    assert "API crashed or unreachable at t=3.00" in html and "steady state after not met" in html
    assert API_KEY not in html
    assert html.index("leader_lock") < html.index("postgres_blip") < html.index("rate_limit_spike")
    assert_self_contained(html)


def test_suite_index_all_pass(tmp_path):
    runs = [r for r in runs_fixture(tmp_path) if r["verdict"] == "PASS"]
    html = render_suite_index(runs, tmp_path / "index.html").read_text()
    assert '<div class="big">PASS</div>' in html
    assert '<div class="big">FAIL</div>' in render_suite_index([], tmp_path / "empty.html").read_text()


def test_junit_has_one_testcase_per_drill_with_failures(tmp_path):
    runs = runs_fixture(tmp_path)
    path = write_junit(runs, tmp_path / "junit.xml", secrets=[API_KEY])
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite.get("name") == "chaosaitrapp" and suite.get("tests") == "3"
    assert suite.get("failures") == "1" and suite.get("skipped") == "1" and suite.get("errors") == "0"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["leader_lock", "postgres_blip", "rate_limit_spike"]
    assert all(c.get("classname") == "chaosaitrapp.drills" for c in cases.values())
    assert cases["leader_lock"].find("failure") is None and cases["leader_lock"].get("time") == "9.300"
    failure = cases["postgres_blip"].find("failure")
    assert failure.get("message").startswith("health_stayed_up: API crashed")
    assert "steady state after not met" in failure.text
    assert cases["rate_limit_spike"].find("skipped") is not None and cases["rate_limit_spike"].find("failure") is None
    assert cases["rate_limit_spike"].get("time") == "0.000"
    out = cases["postgres_blip"].find("system-out").text
    assert "report: " + runs[1]["report"] in out and "log: " + runs[1]["log"] in out
    assert API_KEY not in path.read_text()


def test_junit_custom_suite_name_and_unknown_verdict_fails(tmp_path):
    runs = [{"drill": "leader_lock", "verdict": "UNKNOWN", "reasons": [], "duration": 1}]
    root = ET.parse(write_junit(runs, tmp_path / "j.xml", suite_name="nightly")).getroot()
    case = root.find("testsuite/testcase")
    assert root.find("testsuite").get("name") == "nightly"
    assert case.find("failure").get("message") == "verdict 'UNKNOWN'"


def test_summary_json(tmp_path):
    runs = runs_fixture(tmp_path)
    data = json.loads(write_summary_json(runs, tmp_path / "summary.json", secrets=[API_KEY]).read_text())
    assert data["verdict"] == "FAIL" and data["total"] == 3 and data["passed"] == 1 and data["failed"] == 1
    assert data["dry"] == 1
    assert [r["drill"] for r in data["runs"]] == ["leader_lock", "postgres_blip", "rate_limit_spike"]
    assert data["runs"][1]["reasons"][1] == "steady state after not met"
    assert data["runs"][0]["report"] == runs[0]["report"]
    assert API_KEY not in json.dumps(data)


def test_a_drill_that_does_not_apply_is_skipped_with_its_reason_not_failed(tmp_path):
    runs = [r for r in runs_fixture(tmp_path) if r["verdict"] == "PASS"]
    runs.append({"drill": "split_brain_pause", "verdict": "SKIP", "duration": 0.4,
                 "reasons": ["not applicable: needs at least two replicas; set replicas (REPLICAS) to enable it"]})
    root = ET.parse(write_junit(runs, tmp_path / "j.xml")).getroot()
    suite = root.find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "1"
    skipped = {c.get("name"): c for c in suite.findall("testcase")}["split_brain_pause"].find("skipped")
    assert "needs at least two replicas" in skipped.get("message") and "REPLICAS" in skipped.get("message")
    html = render_suite_index(runs, tmp_path / "index.html").read_text()
    assert '<div class="big">PASS</div>' in html and "needs at least two replicas" in html
