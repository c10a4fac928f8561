"""The Postgres hang's check on synthetic timelines: every request during the hang answered within its
limit passes with the slowest as its figure; one unanswered fails naming it; answers outside the window
do not count; no hang or no watched request is unknown."""
from __future__ import annotations

from chaosaitrapp.checks.hang import api_answered_during_hang, hang_window
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline


def timeline(*events, end=20.0) -> Timeline:
    records = [{"kind": "meta", "t": 0.0, "drill": "postgres_hang"}]
    records += [{"kind": "event", **e} for e in events]
    records.append({"kind": "end", "t": end})
    return Timeline.from_records(records)


HANG = ({"t": 1.0, "event": "fault_injected", "target": "postgres_lock:the DATABASE_URL secret",
         "dependency": "postgres"},
        {"t": 11.0, "event": "restored", "target": "postgres_lock:the DATABASE_URL secret"})


def answer(t, took, answered=True, path="/orders", limit=8.0):
    return {"t": t, "event": "answer", "target": "api", "path": path, "took_s": took, "answered": answered,
            "limit_s": limit}


def test_answers_within_the_limit_pass_with_the_slowest_as_figure():
    result = api_answered_during_hang(timeline(*HANG, answer(2, 0.01, path="/health"), answer(3, 3.9),
                                               answer(12, 9.5)), Limits.aitrapp())
    assert result.status == "pass" and result.value == 3.9 and result.limit == 8.0, result
    assert result.figures == {"answers_during_hang": 2, "hang_s": 10.0}
    assert "the slowest GET /orders in 3.9s" in result.reason


def test_a_request_left_unanswered_fails_naming_it():
    result = api_answered_during_hang(timeline(*HANG, answer(2, 0.01), answer(9.2, 8.0, answered=False)),
                                      Limits.aitrapp())
    assert result.status == "fail" and "GET /orders gave no answer within 8s at t=9.20, 8.2s into the hang" \
        in result.reason, result


def test_no_hang_or_no_request_is_unknown():
    assert api_answered_during_hang(timeline(answer(2, 0.1)), Limits.aitrapp()).status == "unknown"
    assert api_answered_during_hang(timeline(*HANG, answer(0.5, 0.1)), Limits.aitrapp()).status == "unknown"


def test_an_unended_hang_runs_to_the_timeline_end():
    assert hang_window(timeline(HANG[0], end=7.5)) == (1.0, 7.5)


def test_a_full_disk_is_a_hang_window_too():
    full = ({"t": 1.0, "event": "fault_injected", "target": "balloon:/pg/.chaosaitrapp-balloon-r", "dependency": "postgres"},
            {"t": 11.0, "event": "restored", "target": "balloon:/pg/.chaosaitrapp-balloon-r"})
    assert hang_window(timeline(*full)) == (1.0, 11.0)
