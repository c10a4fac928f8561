"""Cleanup: undo everything left in the ledger, idempotently, concurrently, loudly on failure."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis
from safety_helpers import FakeDriver, fake_undo, redis_client, start_count

from chaosaitrapp.registry import FACTORIES_ENV, driver_from_undo
from chaosaitrapp.safety.cleanup import cleanup, format_result, undo_entry
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.targets.process import ProcessDriver


def cleanup_main(argv):
    """``aitrapp-chaos cleanup`` in process: its exit code."""
    from chaosaitrapp.cli import main

    return main(["cleanup", *argv])


def test_driver_from_undo_uses_the_registered_factory_then_resolve(tmp_path: Path, fake_factory: None) -> None:
    assert isinstance(driver_from_undo(fake_undo(tmp_path, "a")), FakeDriver)
    process = driver_from_undo({"driver": "process", "pidfile": str(tmp_path / "p.pid"), "argv": ["true"]})
    assert isinstance(process, ProcessDriver)


def test_cleanup_undoes_everything_and_is_idempotent(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    a, b = fake_undo(tmp_path, "redis"), fake_undo(tmp_path, "postgres")
    first = ledger.record("stop", "lab:redis", a)
    second = ledger.record("stop", "lab:postgres", b)

    results = cleanup(ledger, timeout=5)
    assert [(r["id"], r["status"], r["target"], r["what"]) for r in results] == [
        (first.id, "undone", "lab:redis", "stop"),
        (second.id, "undone", "lab:postgres", "stop"),
    ]
    assert start_count(a) == 1 and start_count(b) == 1
    assert ledger.outstanding() == []

    assert cleanup(ledger, timeout=5) == []
    assert start_count(a) == 1 and start_count(b) == 1


def test_failed_undo_stays_outstanding_and_names_the_target(
    ledger: Ledger, tmp_path: Path, fake_factory: None, capsys: pytest.CaptureFixture
) -> None:
    good = ledger.record("stop", "lab:redis", fake_undo(tmp_path, "redis"))
    bad = ledger.record("stop", "docker:pg", fake_undo(tmp_path, "pg", fail=True))
    unknown = ledger.record("stop", "lab:broker", {"driver": "nonesuch"})

    results = {r["id"]: r for r in cleanup(ledger, timeout=5)}
    assert results[good.id]["status"] == "undone"
    assert results[bad.id]["status"] == "failed"
    assert "docker:pg" in results[bad.id]["detail"] and "fake failure" in results[bad.id]["detail"]
    assert results[unknown.id]["status"] == "failed" and "lab:broker" in results[unknown.id]["detail"]
    assert [e.id for e in ledger.outstanding()] == [bad.id, unknown.id]

    assert cleanup_main(["--ledger", str(ledger.path), "--timeout", "5"]) == 1
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAILED: docker:pg (stop, entry ")
    assert lines[1].startswith("FAILED: lab:broker (stop, entry ")
    assert "2 fault(s) still outstanding" in out.err


def test_cleanup_main_exit_codes(ledger: Ledger, tmp_path: Path, fake_factory: None, capsys) -> None:
    assert cleanup_main(["--ledger", str(ledger.path)]) == 0
    assert "no outstanding faults" in capsys.readouterr().out

    undo = fake_undo(tmp_path, "redis")
    ledger.record("stop", "lab:redis", undo)
    assert cleanup_main(["--ledger", str(ledger.path)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("undone: lab:redis (stop, entry ") and start_count(undo) == 1

    ledger.path.write_text("garbage")
    assert cleanup_main(["--ledger", str(ledger.path)]) == 1
    err = capsys.readouterr().err
    assert str(ledger.path) in err and "corrupt" in err


def test_only_expired_leaves_live_drills_alone(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    old = ledger.record("stop", "lab:redis", fake_undo(tmp_path, "redis"), lease_seconds=10, now=lambda: 100.0)
    young = ledger.record("stop", "lab:postgres", fake_undo(tmp_path, "pg"), lease_seconds=100, now=lambda: 100.0)
    orphan = ledger.record("stop", "lab:broker", fake_undo(tmp_path, "broker"), lease_seconds=100,
                           now=lambda: 100.0, run_pid=gone.pid)
    results = {r["id"]: r for r in cleanup(ledger, timeout=5, only_expired=True, now=lambda: 150.0)}
    assert results[old.id]["status"] == "undone", "its lease ran out"
    assert results[orphan.id]["status"] == "undone", "its run is gone"
    assert results[young.id]["status"] == "skipped" and "a live drill's fault" in results[young.id]["detail"]
    assert "left alone: lab:postgres" in format_result(results[young.id])
    assert ledger.outstanding() == [young]
    assert young.run_start is not None and young.run_alive()


def test_undo_entry_of_a_cleared_entry_does_nothing(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis")
    entry = ledger.record("stop", "lab:redis", undo)
    ledger.clear(entry.id)
    assert undo_entry(ledger, entry.id, timeout=5) is None
    assert start_count(undo) == 0


def test_concurrent_cleanups_start_each_dependency_once(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undos = [fake_undo(tmp_path, f"dep{n}", work=0.1) for n in range(4)]
    for n, undo in enumerate(undos):
        ledger.record("stop", f"lab:dep{n}", undo)
    reports: list = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait(timeout=10)
        reports.extend(cleanup(ledger, timeout=5))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert [start_count(u) for u in undos] == [1, 1, 1, 1]
    assert sorted(r["status"] for r in reports).count("undone") == 4
    assert {r["status"] for r in reports} <= {"undone", "gone"}
    assert ledger.outstanding() == []


def test_cleanup_restarts_a_real_stopped_redis(ledger: Ledger, redis_proc: ProcessDriver) -> None:
    client = redis_client(redis_proc.port)
    try:
        assert client.ping()
        entry = ledger.record("stop", f"process:{redis_proc.pidfile}", redis_proc.undo(), lease_seconds=300)
        redis_proc.stop(timeout=10)
        assert not redis_proc.is_running()
        with pytest.raises(redis.exceptions.ConnectionError):
            client.ping()

        results = cleanup(ledger, timeout=30)
        assert [(r["id"], r["status"]) for r in results] == [(entry.id, "undone")]
        assert client.ping()
        assert ledger.outstanding() == []
        assert cleanup(ledger, timeout=30) == []
    finally:
        client.close()


def test_factories_named_in_the_environment_reach_child_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FACTORIES_ENV, "other=nowhere:nothing, fake=safety_helpers:FakeDriver")
    assert isinstance(driver_from_undo(fake_undo(tmp_path, "a")), FakeDriver)
    monkeypatch.setenv(FACTORIES_ENV, "fake=safety_helpers")
    with pytest.raises(ValueError, match=FACTORIES_ENV):
        driver_from_undo(fake_undo(tmp_path, "a"))


def test_forget_drops_one_entry_a_person_restored_by_hand(ledger: Ledger, tmp_path: Path, fake_factory: None,
                                                          capsys: pytest.CaptureFixture) -> None:
    kept = ledger.record("stop", "lab:redis", fake_undo(tmp_path, "redis"))
    stuck = ledger.record("stop", "process:/srv/trader.pid", fake_undo(tmp_path, "trader", fail=True))
    assert cleanup_main(["--ledger", str(ledger.path), "--forget", "zz-no-such"]) == 2
    assert cleanup_main(["--ledger", str(ledger.path), "--forget", stuck.id[:8]]) == 0
    assert "forgot process:/srv/trader.pid" in capsys.readouterr().out
    assert [e.id for e in ledger.outstanding()] == [kept.id]
    assert start_count(fake_undo(tmp_path, "trader")) == 0, "forgetting undoes nothing"
