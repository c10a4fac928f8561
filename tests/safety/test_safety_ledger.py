"""The fault ledger: durable records, concurrent writers, corruption, no secrets."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from chaosaitrapp.safety.ledger import FaultEntry, Ledger, LedgerCorrupt, LedgerError, find_secret_keys

UNDO = {"driver": "process", "pidfile": "/tmp/x.pid", "argv": ["redis-server", "--port", "36379"],
        "env": {"LANG": "C"}, "check": "redis", "host": "127.0.0.1", "port": 36379}


def test_record_is_on_disk_when_it_returns(ledger: Ledger) -> None:
    entry = ledger.record("stop", "lab:redis", UNDO, lease_seconds=120, run_id="run-1", run_pid=4242,
                          note="drill leader_lock", now=lambda: 1000.0)
    assert isinstance(entry, FaultEntry)
    assert (entry.what, entry.target, entry.run_id, entry.run_pid) == ("stop", "lab:redis", "run-1", 4242)
    assert entry.created_wall == 1000.0 and entry.lease_expires_wall == 1120.0 and entry.lease_seconds == 120.0
    assert entry.undo == UNDO and entry.undo is not UNDO

    raw = json.loads(ledger.path.read_text())
    assert raw["version"] == 1
    assert raw["entries"] == [entry.to_dict()]
    # another process sees it at once
    out = subprocess.run(
        [sys.executable, "-c",
         f"from chaosaitrapp.safety.ledger import Ledger; print(Ledger({str(ledger.path)!r}).get({entry.id!r}).target)"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert out.stdout.strip() == "lab:redis"
    # no temporary file is left behind
    assert sorted(p.name for p in ledger.path.parent.iterdir()) == ["ledger.json", "ledger.json.lock"]


def test_get_clear_outstanding(ledger: Ledger) -> None:
    assert ledger.outstanding() == [] and ledger.get("nope") is None and ledger.clear("nope") is False
    first = ledger.record("stop", "lab:redis", UNDO, now=lambda: 10.0)
    second = ledger.record("stop", "lab:postgres", dict(UNDO, check="postgres"), now=lambda: 20.0)
    assert first.run_pid == os.getpid()
    assert [e.id for e in ledger.outstanding()] == [first.id, second.id]
    assert ledger.get(second.id) == second
    assert ledger.clear(first.id) is True
    assert ledger.clear(first.id) is False
    assert ledger.outstanding() == [second]
    assert Ledger(ledger.path).outstanding() == [second]


def test_lease_expiry(ledger: Ledger) -> None:
    entry = ledger.record("stop", "lab:redis", UNDO, lease_seconds=5, now=lambda: 100.0)
    assert not entry.expired(104.9)
    assert entry.expired(105.0)


def test_bad_records_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="driver"):
        ledger.record("stop", "lab:redis", {"pidfile": "/x"})
    with pytest.raises(ValueError, match="lease_seconds"):
        ledger.record("stop", "lab:redis", UNDO, lease_seconds=0)
    with pytest.raises(ValueError, match="JSON"):
        ledger.record("stop", "lab:redis", dict(UNDO, port=object()))
    assert not ledger.path.exists()


@pytest.mark.parametrize(
    "undo, where",
    [
        (dict(UNDO, env={"API_KEY": "s3cr3t-value"}), "undo.env.API_KEY"),
        (dict(UNDO, env={"DB_PASSWORD": "s3cr3t-value"}), "undo.env.DB_PASSWORD"),
        (dict(UNDO, token="s3cr3t-value"), "undo.token"),
        (dict(UNDO, argv=["redis-server", "--requirepass", "s3cr3t-value"]), "undo.argv[1]"),
        (dict(UNDO, url="postgresql://trader:s3cr3t-value@127.0.0.1/aitrapp"), "undo.url"),
    ],
)
def test_no_secret_is_ever_stored(ledger: Ledger, undo: dict, where: str) -> None:
    with pytest.raises(ValueError) as info:
        ledger.record("stop", "lab:redis", undo)
    assert where in str(info.value)
    assert "s3cr3t-value" not in str(info.value)
    assert not ledger.path.exists()


def test_find_secret_keys_leaves_harmless_recipes_alone() -> None:
    assert find_secret_keys({"undo": UNDO, "target": "lab:redis", "note": "PATH and PWD are fine"}) == []
    assert find_secret_keys({"url": "redis://127.0.0.1:6379/0"}) == []


def test_failed_write_keeps_the_old_ledger(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = ledger.record("stop", "lab:redis", UNDO)
    before = ledger.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(LedgerError, match=str(ledger.path)):
        ledger.record("stop", "lab:postgres", UNDO)
    monkeypatch.undo()
    assert ledger.path.read_bytes() == before
    assert ledger.outstanding() == [kept]
    assert sorted(p.name for p in ledger.path.parent.iterdir()) == ["ledger.json", "ledger.json.lock"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        json.dumps({"version": 1, "entries": {}}),
        json.dumps({"version": 99, "entries": []}),
        json.dumps({"version": 1, "entries": [{"id": "abc", "what": "stop"}]}),
        json.dumps({"version": 1, "entries": [{"id": "abc", "what": "stop", "target": "lab:redis", "undo": [],
                                               "created_wall": 1, "run_id": "", "run_pid": 1,
                                               "lease_seconds": 1, "lease_expires_wall": 2}]}),
    ],
)
def test_corrupt_ledger_is_a_clear_error_naming_the_path(ledger: Ledger, content: str) -> None:
    ledger.path.parent.mkdir(parents=True)
    ledger.path.write_text(content)
    with pytest.raises(LedgerCorrupt) as info:
        ledger.outstanding()
    assert str(ledger.path) in str(info.value)
    with pytest.raises(LedgerCorrupt):
        ledger.get("abc")
    with pytest.raises(LedgerCorrupt):
        ledger.record("stop", "lab:redis", UNDO)
    with pytest.raises(LedgerCorrupt):
        ledger.clear("abc")
    assert ledger.path.read_text() == content  # never silently rewritten


def test_lock_wait_is_bounded(ledger: Ledger) -> None:
    impatient = Ledger(ledger.path, lock_timeout=0.2)
    ledger.path.parent.mkdir(parents=True)
    with ledger._lock(ledger.lock_path):
        with pytest.raises(LedgerError, match="could not lock"):
            impatient.record("stop", "lab:redis", UNDO)
    impatient.record("stop", "lab:redis", UNDO)
    assert len(ledger.outstanding()) == 1


WRITER = textwrap.dedent(
    """
    import json, sys
    from chaosaitrapp.safety.ledger import Ledger
    ledger = Ledger(sys.argv[1])
    kept = []
    for i in range(int(sys.argv[3])):
        entry = ledger.record("stop", "lab:redis", {"driver": "process", "n": i}, run_id=sys.argv[2])
        if i % 2:
            assert ledger.clear(entry.id)
        else:
            kept.append(entry.id)
    print(json.dumps(kept))
    """
)


def test_concurrent_processes_never_lose_an_entry(ledger: Ledger) -> None:
    writers, per_writer = 8, 30
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(ledger.path), f"w{n}", str(per_writer)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(writers)
    ]
    expected = set()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        expected.update(json.loads(out))
    assert len(expected) == writers * per_writer // 2
    entries = ledger.outstanding()
    assert {e.id for e in entries} == expected
    assert len(entries) == len(expected)
    assert {e.run_id for e in entries} == {f"w{n}" for n in range(writers)}
