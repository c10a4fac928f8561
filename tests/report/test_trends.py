"""Repeats and trends (pure): figures over a drill's repeated runs, its flakiness, and regressions against a
stored baseline."""
import pytest

from chaosaitrapp.report.history import by_drill, render_history_html
from chaosaitrapp.report.trends import (
    compare,
    describe,
    drill_trends,
    nearest_rank,
    trends_document,
    trends_of_document,
)


def run(drill, verdict, detect=None, recover=None, flaps="pass"):
    checks = [{"name": "flaps", "status": flaps, "value": 0.0}]
    if detect is not None:
        checks.append({"name": "time_to_detect_ready", "status": "pass", "value": detect})
    if recover is not None:
        checks.append({"name": "time_to_recover_ready", "status": "pass", "value": recover})
    return {"drill": drill, "verdict": verdict, "checks": checks}


def test_nearest_rank_quantiles():
    values = [float(v) for v in range(1, 11)]
    assert nearest_rank(values, 0.5) == 5.0 and nearest_rank(values, 0.95) == 10.0
    assert nearest_rank(list(range(1, 21)), 0.95) == 19, "with 20 runs p95 is the largest but one"
    assert nearest_rank([3.0], 0.95) == 3.0
    with pytest.raises(ValueError):
        nearest_rank([], 0.5)


def test_figures_fail_rate_and_flakiness_per_drill():
    runs = [run("leader_lock", "PASS", 0.4, 2.9), run("leader_lock", "PASS", 0.5, 3.1),
            run("leader_lock", "FAIL", 0.45, 7.0, flaps="fail"), run("postgres_blip", "PASS", recover=1.2)]
    trends = drill_trends(runs)
    lock = trends["leader_lock"]
    assert lock["runs"] == 3 and lock["verdicts"] == {"PASS": 2, "FAIL": 1}
    assert lock["fail_rate"] == pytest.approx(0.333) and lock["flaky"] is True
    assert lock["figures"]["time_to_recover_ready"] == {"n": 3, "p50": 3.1, "p95": 7.0, "max": 7.0}
    assert "flaps" not in lock["figures"], "only seconds are figures"
    assert lock["checks"]["flaps"] == {"pass": 2, "fail": 1, "unknown": 0}
    assert trends["postgres_blip"]["flaky"] is False and trends["postgres_blip"]["fail_rate"] == 0.0
    assert drill_trends([run("x", "FAIL"), run("x", "FAIL")])["x"]["flaky"] is False, "always failing is no flake"
    lines = describe(trends)
    assert any("FLAKY" in line for line in lines) and any("p95 7.000 s" in line for line in lines)


def test_a_grown_p95_and_a_newly_failing_check_are_regressions():
    baseline = drill_trends([run("leader_lock", "PASS", 0.4, 3.0), run("leader_lock", "PASS", 0.4, 3.2)])
    same = drill_trends([run("leader_lock", "PASS", 0.41, 3.3)])
    assert compare(same, baseline) == {"regressions": [], "notes": []}, "3.3 s is within 20 % of 3.2 s"
    slower = drill_trends([run("leader_lock", "PASS", 0.4, 4.1)])
    regressions = compare(slower, baseline)["regressions"]
    assert len(regressions) == 1 and "time_to_recover_ready p95 4.100 s, was 3.200 s" in regressions[0]
    assert compare(slower, baseline, share=0.5)["regressions"] == []
    tiny = drill_trends([run("d", "PASS", 0.01)])
    assert compare(drill_trends([run("d", "PASS", 0.03)]), tiny)["regressions"] == [], "jitter under the floor"
    failing = drill_trends([run("leader_lock", "FAIL", 0.4, 3.0, flaps="fail")])
    assert any("flaps failed in 1 of 1 run(s)" in r for r in compare(failing, baseline)["regressions"])
    notes = compare(drill_trends([run("other", "PASS", 0.1)]), baseline)["notes"]
    assert "leader_lock: in the baseline, not run now" in notes and "other: not in the baseline (new)" in notes


def test_a_trends_file_round_trips_and_anything_else_is_refused():
    trends = drill_trends([run("leader_lock", "PASS", 0.4, 3.0)])
    assert trends_of_document(trends_document(trends), "f.json") == trends
    for bad in ({}, {"format": 99, "drills": {}}, [], {"format": 1, "drills": []}):
        with pytest.raises(ValueError, match="g.json is not a trends file"):
            trends_of_document(bad, "g.json")


def test_the_page_of_runs_over_time_draws_each_figure_in_the_order_runs_started(tmp_path):
    runs = [dict(run("leader_lock", "FAIL", 0.5, 9.0), start="2026-12-04T10:00:02"),
            dict(run("leader_lock", "PASS", 0.4, 3.0), start="2026-12-04T10:00:01"),
            dict(run("leader_lock", "PASS", None, None), start="2026-12-04T10:00:03"),
            dict(run("postgres_blip", "PASS", recover=1.0), start="2026-12-04T09:00:00")]
    assert [r["start"] for r in by_drill(runs)["leader_lock"]] == ["2026-12-04T10:00:01", "2026-12-04T10:00:02",
                                                                   "2026-12-04T10:00:03"]
    html = render_history_html(runs, tmp_path)
    assert html.index("<h2>leader_lock</h2>") < html.index("<h2>postgres_blip</h2>")
    assert html.count("<circle") == 5, "one point per run that measured the figure: 2 + 2 + 1"
    assert 'fill="#cf222e"' in html, "a failed run's point is red"
    assert "fail rate 33%; flaky" in html
