"""Loading timelines: the file format of docs/internals.md, truncated runs, malformed files."""
import json

import pytest

from chaosaitrapp.checks import Timeline, TimelineError, load_timeline
from chaosaitrapp.testing.synthetic import leader_lock, rate_limit_spike


def write_lines(path, lines):
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_round_trip_of_a_synthetic_drill(tmp_path):
    original = leader_lock().timeline()
    loaded = load_timeline(original.dump(tmp_path / "leader_lock.timeline.jsonl"))
    assert loaded.drill == "leader_lock"
    assert loaded.interval == pytest.approx(0.05)
    assert len(loaded.samples) == len(original.samples) > 150
    assert [e["event"] for e in loaded.events if e["event"] != "phase"] == [
        "fault", "fault_injected", "restore", "restored"]
    assert loaded.end is not None and loaded.truncated is False
    assert loaded.end_t == pytest.approx(9.0)


def test_truncated_last_line_is_dropped_and_flagged(tmp_path):
    lines = [json.dumps(r) + "\n" for r in leader_lock().records()][:-1]  # no end record: killed
    lines[-1] = lines[-1][: len(lines[-1]) // 2]  # cut mid-record, no newline
    timeline = load_timeline(write_lines(tmp_path / "t.jsonl", lines))
    assert timeline.truncated is True
    assert timeline.end is None
    assert len(timeline.samples) + len(timeline.events) == len(lines) - 2  # minus meta and the cut line


def test_truncated_mid_utf8_is_tolerated(tmp_path):
    record = json.dumps({"kind": "sample", "t": 1.0, "error": "é" * 10}, ensure_ascii=False).encode()
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"kind": "meta", "drill": "x"}\n' + record[:-7])
    timeline = load_timeline(path)
    assert timeline.truncated and timeline.samples == []


def test_corrupt_line_in_the_middle_is_an_error_naming_the_line(tmp_path):
    lines = ['{"kind": "meta"}\n', '{"kind": "sample", "t": 0.1}\n', "garbage\n", '{"kind": "sample", "t": 0.2}\n']
    with pytest.raises(TimelineError, match=r"t\.jsonl:3"):
        load_timeline(write_lines(tmp_path / "t.jsonl", lines))


def test_blank_lines_and_unknown_kinds_are_ignored_and_order_is_by_time(tmp_path):
    lines = ['{"kind": "meta", "drill": "d"}\n', "\n", '{"kind": "sample", "t": 0.3, "ready": true}\n',
             '{"kind": "future", "t": 0.2}\n', '{"kind": "sample", "t": 0.1, "ready": false}\n',
             '{"kind": "event", "t": 0.2, "event": "fault"}\n']
    timeline = load_timeline(write_lines(tmp_path / "t.jsonl", lines))
    assert [s["t"] for s in timeline.samples] == [0.1, 0.3]
    assert timeline.series("ready") == [(0.1, False), (0.3, True)]
    assert timeline.first_event("fault")["t"] == 0.2
    assert timeline.end is None and not timeline.truncated


def test_record_without_numeric_t_is_rejected():
    with pytest.raises(TimelineError, match="numeric 't'"):
        Timeline.from_records([{"kind": "sample", "t": "soon"}])
    with pytest.raises(TimelineError, match="numeric 't'"):
        Timeline.from_records([{"kind": "event", "event": "fault"}])


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_timeline(tmp_path / "absent.jsonl")


def test_series_skips_nulls():
    timeline = Timeline.from_records([{"kind": "sample", "t": 0.0, "leader": None},
                                      {"kind": "sample", "t": 0.1, "leader": 1.0}])
    assert timeline.series("leader") == [(0.1, 1.0)]


def test_fault_windows_pair_faults_with_restored():
    timeline = leader_lock().timeline()
    (start, end, event), = timeline.fault_windows()
    assert (start, end) == (pytest.approx(2.0), pytest.approx(5.2))
    assert event["event"] == "fault"
    burst = rate_limit_spike().timeline().fault_windows()
    assert len(burst) == 1 and burst[0][1] is None and burst[0][2]["detail"] == "burst"


def test_fault_window_closed_by_restore_when_restored_is_missing():
    timeline = Timeline.from_records([
        {"kind": "event", "t": 1.0, "event": "fault"},
        {"kind": "event", "t": 3.0, "event": "restore"},
        {"kind": "sample", "t": 4.0},
    ])
    assert [(s, e) for s, e, _ in timeline.fault_windows()] == [(1.0, 3.0)]


def test_empty_timeline_has_zero_duration():
    timeline = Timeline.from_records([])
    assert timeline.duration == 0.0 and timeline.end_t == 0.0 and timeline.drill is None
