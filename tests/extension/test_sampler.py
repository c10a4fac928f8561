"""The timeline sampler: streamed JSON lines, events interleaved, a closing sample, bounded memory."""
import json
import threading

from chaosaitrapp.evidence.sampler import Sampler


def test_sampler_streams_samples_and_ends_with_a_closing_sample(tmp_path):
    calls = []
    enough = threading.Event()

    def observe():
        calls.append(1)
        if len(calls) >= 5:
            enough.set()
        return {"ready": len(calls) % 2 == 0, "error": "boom" if len(calls) == 2 else None}

    path = tmp_path / "t.jsonl"
    sampler = Sampler(path, observe, interval=0.001, meta={"drill": "x"}, secrets=["hunter2"], keep=3).start()
    assert enough.wait(10), "the sampler thread did not sample"
    sampler.write({"kind": "event", "t": 0.5, "event": "fault", "detail": "password hunter2"})
    summary = sampler.stop()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["kind"] == "meta" and records[0]["drill"] == "x" and records[0]["interval"] == 0.001
    assert records[-1]["kind"] == "end" and records[-1]["samples"] == summary["samples"] == len(calls)
    assert records[-2]["kind"] == "sample", "the timeline must end with a sample taken after the last event"
    assert summary["errors"] >= 1
    assert any(r.get("event") == "fault" and r["detail"] == "password ***" for r in records)
    assert len(sampler.recent) == 3, "memory is bounded to the ring buffer"
    assert all(r["t"] >= 0 for r in records if r["kind"] == "sample")


def test_observer_exceptions_become_error_samples(tmp_path):
    done = threading.Event()

    def observe():
        done.set()
        raise RuntimeError("observer bug")

    sampler = Sampler(tmp_path / "t.jsonl", observe, interval=0.001).start()
    assert done.wait(10)
    summary = sampler.stop()
    assert summary["samples"] == summary["errors"] >= 2
    assert "observer bug" in (tmp_path / "t.jsonl").read_text()
