"""The drill report: verdict first, reasons before the chart, self-contained, scrubbed."""
import json
import re
import stat

from report_fixtures import API_KEY, DB_PASSWORD, UNLISTED_KEY, make_journal

from chaosaitrapp.checks import load_timeline
from chaosaitrapp.report import render_drill_report, write_drill_report
from chaosaitrapp.testing.synthetic import leader_lock, postgres_blip, rate_limit_spike

EXTERNAL = [
    (re.compile(r"(?i)\b(?:https?|wss?|ftp)://"), "an absolute URL"),
    (re.compile(r"(?i)<script"), "a script"),
    (re.compile(r"(?i)\bsrc\s*="), "a src attribute"),
    (re.compile(r"(?i)url\s*\("), "a CSS url()"),
    (re.compile(r"(?i)@import"), "a CSS import"),
    (re.compile(r"(?i)<link\b"), "a link element"),
    (re.compile(r"(?i)<(?:iframe|object|embed|img)\b"), "an embedded resource"),
    (re.compile(r"(?i)\bxmlns"), "an XML namespace URL"),
    (re.compile(r"(?i)@font-face"), "a web font"),
]


def assert_self_contained(html: str) -> None:
    for pattern, what in EXTERNAL:
        match = pattern.search(html)
        assert match is None, f"report has {what}: ...{html[max(0, match.start() - 80):match.end() + 80]}..."
    for href in re.findall(r'href="([^"]*)"', html):
        assert not re.match(r"(?i)^[a-z][a-z0-9+.-]*:|^//", href), f"non-relative link {href!r}"


def render(tmp_path, scenario, **kwargs):
    journal = make_journal(scenario, tmp_path, **kwargs)
    timeline = load_timeline(journal["extensions"][0]["evidence"]["timeline"]) if kwargs.get("extension", True) \
        else load_timeline(next(tmp_path.glob("*.timeline.jsonl")))
    return journal, render_drill_report(journal, timeline, secrets=[API_KEY])


def test_pass_report_has_verdict_first_and_every_section(tmp_path):
    _, html = render(tmp_path, leader_lock())
    assert html.startswith("<!DOCTYPE html>")
    body = html[html.index("<main>"):]
    assert body.index('class="verdict pass"') < body.index("<section")
    assert '<div class="big">PASS</div>' in html and "Why it is" not in html
    for text in ("leader_lock", "2025-11-25T10:00:00", "9.30 s", "completed", "Steady state", "before", "after",
                 "ready_is_ok", "Method", "stop_dependency", "Rollbacks", "ensure_dependency_running",
                 "time_to_detect_ready", "time_to_recover_ready", "Seed log fields", "leader_after_recovery",
                 "test_result", "heartbeat_max 5 s", "not ready +0.70 s", "ready again +1.30 s", "<svg"):
        assert text in html, text
    assert_self_contained(html)


def test_fail_report_shows_failing_checkers_and_reasons_before_the_chart(tmp_path):
    journal, html = render(tmp_path, leader_lock(flaps=[(7.5, 7.9)], unreachable=[(8.2, 8.4)], duration=10))
    ext = journal["extensions"][0]
    assert ext["verdict"] == "FAIL"
    failing = [c for c in ext["checks"] if c["status"] == "fail"]
    assert {c["name"] for c in failing} == {"flaps", "health_stayed_up"}
    why = html.index('id="why"')
    chart = html.index("<svg")
    assert html.index('class="verdict fail"') < why < chart
    for check in failing:
        reason = check["reason"].replace("'", "&#x27;")
        assert why < html.index(check["name"], why) < chart
        assert why < html.index(reason[:60], why) < chart, reason
    assert "API crashed" in html[why:chart]
    assert_self_contained(html)


def test_secrets_never_reach_the_html(tmp_path):
    scenario = postgres_blip(unreachable=[(3.0, 3.2)])
    journal = make_journal(scenario, tmp_path)
    # an error message carrying the secret inside a check's reason and the timeline
    ext = journal["extensions"][0]
    for check in ext["checks"]:
        check["reason"] = check["reason"].replace("GET /ready: ConnectionError",
                                                  f"GET /ready?api_key={API_KEY}: ConnectionError")
    path = next(tmp_path.glob("*.timeline.jsonl"))
    text = path.read_text().replace("GET /ready: ConnectionError", f"GET /ready?api_key={API_KEY}: ConnectionError")
    path.write_text(text)
    html = render_drill_report(journal, load_timeline(path), secrets=[API_KEY])
    assert "API crashed" in html
    for secret in (API_KEY, UNLISTED_KEY, DB_PASSWORD):
        assert secret not in html, secret
    assert "***" in html
    assert_self_contained(html)


def test_secret_with_html_special_characters_is_scrubbed(tmp_path):
    secret = 'p&ss<w>"rd'
    journal = make_journal(leader_lock(), tmp_path)
    journal["run"][0]["output"] = {"note": f"token {secret} here"}
    html = render_drill_report(journal, None, secrets=[secret])
    assert secret not in html and "p&amp;ss&lt;w&gt;" not in html and "token *** here" in html


def test_rate_limit_report_has_the_queue_panel(tmp_path):
    _, html = render(tmp_path, rate_limit_spike())
    assert "queue depth" in html and "drained +4.5" in html and "burst" in html
    assert_self_contained(html)


def test_journal_without_extension_is_fail_never_judged_at_report_time(tmp_path):
    journal = make_journal(leader_lock(), tmp_path, extension=False)
    timeline = load_timeline(next(tmp_path.glob("*.timeline.jsonl")))
    html = render_drill_report(journal, timeline)
    assert '<div class="big">FAIL</div>' in html and "no chaosaitrapp verdict" in html
    assert "No checks recorded." in html, "the report shows only the checks that decided a verdict"
    assert render_drill_report(journal, None).count('<div class="big">FAIL</div>') == 1


def test_report_shows_exactly_the_recorded_checks_strategies_and_notes(tmp_path):
    journal = make_journal(leader_lock(), tmp_path)
    ext = journal["extensions"][0]
    ext["checks"] = ext["checks"][:2]
    ext["strategies"] = {"rollbacks": "default", "hypothesis": "default"}
    ext["notes"] = ["rollbacks run with Chaos Toolkit's 'default' strategy: on an interrupt they are skipped"]
    html = render_drill_report(journal, load_timeline(ext["evidence"]["timeline"]))
    section = html[html.index('id="checks"'):html.index('id="timeline"')]
    names = re.findall(r"<td><code>([a-z_]+)</code></td>", section)
    assert names == [c["name"] for c in ext["checks"]]
    assert "rollbacks default · hypothesis default" in html and "on an interrupt they are skipped" in html


def test_dry_run_report(tmp_path):
    journal = make_journal(leader_lock(), tmp_path)
    ext = journal["extensions"][0]
    ext.update(verdict="DRY", checks=[], reasons=[])
    html = render_drill_report(journal, None)
    assert '<div class="big">DRY</div>' in html and 'id="why"' not in html


def test_write_drill_report_finds_the_timeline_next_to_the_journal(tmp_path, monkeypatch):
    journal = make_journal(leader_lock(), tmp_path)
    evidence = journal["extensions"][0]["evidence"]
    evidence["timeline"] = "leader_lock_2025-11-25T10-00-00.timeline.jsonl"  # relative, as a CI artefact
    journal_path = tmp_path / "journal.json"
    journal_path.write_text(json.dumps(journal))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = write_drill_report(journal_path, None, tmp_path / "out" / "report.html", secrets=[API_KEY])
    html = out.read_text()
    assert out.name == "report.html" and "<svg" in html and "samples over" in html
    assert stat.S_IMODE(out.stat().st_mode) & 0o044 == 0o044  # readable by CI artefact uploaders
    assert 'href="../leader_lock_2025-11-25T10-00-00.log"' in html
    assert API_KEY not in html


def test_missing_or_truncated_timeline_is_noted(tmp_path):
    journal = make_journal(leader_lock(), tmp_path)
    out = write_drill_report(journal, tmp_path / "absent.jsonl", tmp_path / "r.html")
    assert "timeline file not found" in out.read_text()
    path = tmp_path / "cut.timeline.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in leader_lock().records()[:-1])[:-30])  # killed mid-line
    out = write_drill_report(journal, path, tmp_path / "r2.html")
    assert "truncated" in out.read_text()
