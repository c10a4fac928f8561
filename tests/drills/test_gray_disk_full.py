"""Postgres out of space (``POSTGRES_FAULT=disk_full``), against a lab whose Postgres keeps its cluster on a
tmpfs of its own (``pg_volume_mb``): the balloon goes only where it may (inside the named volume, on its
filesystem, never the filesystem of ``/``, the ledger or the evidence), fills it to the last block and gives it
back; the drill passes on a healthy lab, fails on ``write_behind_orders`` (acknowledged orders dropped when
their write fails), refuses a volume it may not fill with exit 2 before anything is written, and a SIGKILLed
run leaves no balloon and an empty ledger."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.gray.balloon import PREFIX, BalloonDriver, balloon_path, free_bytes
from chaosaitrapp.lab.runtime.postgres_process import volume_dir

from .checks import assert_lab_whole
from .kit import run_drill, run_script, sigkill_mid_fault, start_lab, wait_ledger_empty

VOLUME_MB = 128


def disk_env(lab, **extra: str) -> dict:
    return {"POSTGRES_FAULT": "disk_full", "POSTGRES_VOLUME": str(volume_dir(lab.directory)), "HANG_SECONDS": "8",
            "ANSWER_MAX": "7", "BROKER_ORDERS": "40", "WAIT_READY_TIMEOUT": "20", **extra}


def balloons(lab) -> list:
    return sorted(p.name for p in volume_dir(lab.directory).iterdir() if p.name.startswith(PREFIX))


@pytest.fixture(scope="module")
def volume_lab():
    lab = start_lab(profile="fast", pg_volume_mb=VOLUME_MB)
    yield lab
    lab.down()


@pytest.fixture()
def tmpfs(tmp_path):
    """A small tmpfs of the test's own (a volume the balloon may fill)."""
    mount = tmp_path / "volume"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True, timeout=30)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True, timeout=30)


def test_the_balloon_fills_its_volume_to_the_last_block_and_gives_it_back(tmpfs, tmp_path):
    path = balloon_path(str(tmpfs), None, "run1", (tmp_path / "state",))
    assert path == tmpfs / f"{PREFIX}run1"
    driver = BalloonDriver(str(path))
    driver.stop()
    assert free_bytes(tmpfs) == 0 and driver.filled >= 15 * 1024 ** 2
    with pytest.raises(OSError):
        (tmpfs / "one-more").write_bytes(b"x" * 8192)
    rebuilt = BalloonDriver.from_undo(driver.undo())
    rebuilt.start()
    rebuilt.start()  # idempotent
    assert not path.exists() and free_bytes(tmpfs) >= 15 * 1024 ** 2


def test_the_balloon_goes_only_where_it_may(tmpfs, tmp_path):
    inside = tmpfs / "pgdata"
    inside.mkdir()
    assert balloon_path(str(tmpfs), str(inside), "r", ()) == inside / f"{PREFIX}r"
    with pytest.raises(ConfigError, match="outside the named volume"):
        balloon_path(str(tmpfs), str(tmp_path), "r", ())
    with pytest.raises(ConfigError, match="same filesystem as /"):
        balloon_path(str(tmp_path), None, "r", ())  # the test's own directory: the host's disk
    with pytest.raises(ConfigError, match="same filesystem as"):
        balloon_path(str(tmpfs), None, "r", (tmpfs / "ledger-dir-not-made-yet",))
    with pytest.raises(ConfigError, match="not an existing directory"):
        balloon_path(str(tmp_path / "missing"), None, "r", ())
    with pytest.raises(Exception, match="not a balloon file"):
        BalloonDriver.from_undo({"path": "/etc/passwd"})  # the watchdog deletes balloons only


def test_the_disk_full_drill_passes_on_a_healthy_lab(volume_lab, tmp_path):
    run = run_drill("postgres_hang", volume_lab, tmp_path, disk_env(volume_lab))
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    events = run.timeline_events()
    filled = next(e for e in events if e.get("event") == "fault_injected" and str(e.get("target")).startswith("balloon:"))
    assert "No space left on device" in filled["detail"] and filled["filled_bytes"] > 0, filled
    checks = {c["name"]: c["status"] for c in run.extension["checks"]}
    assert checks["orders_exactly_once"] == "pass" and checks["api_answered_during_hang"] == "pass", checks
    assert balloons(volume_lab) == [] and free_bytes(volume_dir(volume_lab.directory)) > 32 * 1024 ** 2
    assert_lab_whole(volume_lab, tmp_path)


def test_the_disk_full_drill_fails_when_acknowledged_orders_are_dropped(tmp_path):
    lab = start_lab(profile="fast", defects=["write_behind_orders"], pg_volume_mb=VOLUME_MB)
    try:
        run = run_drill("postgres_hang", lab, tmp_path, disk_env(lab))
        assert balloons(lab) == []
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    check = next(c for c in run.extension["checks"] if c["name"] == "orders_exactly_once")
    assert check["status"] == "fail", check


def test_a_volume_the_drill_may_not_fill_is_refused_before_anything_is_written(volume_lab, tmp_path):
    before = sorted(os.listdir(tmp_path))
    run = run_script("chaos_test_postgres_hang.sh", volume_lab, tmp_path,
                     {**disk_env(volume_lab), "POSTGRES_VOLUME": str(tmp_path), "NONINTERACTIVE": "1",
                      "PAUSE_ON_FAIL": "1"})
    assert run.code == 2 and "REFUSED by the pre-flight" in run.output, f"exit {run.code}\n{run.output[-2000:]}"
    assert any("same filesystem as /" in r for r in run.reasons), run.reasons
    assert run.fields["faults_injected"] == "0"
    assert not list(Path(tmp_path).rglob(f"{PREFIX}*")), "no balloon anywhere"
    assert set(before) <= set(os.listdir(tmp_path))


def test_a_sigkilled_run_leaves_no_balloon_and_an_empty_ledger(volume_lab, tmp_path):
    sigkill_mid_fault("postgres_hang", volume_lab, tmp_path, disk_env(volume_lab, HANG_SECONDS="30"), BalloonDriver,
                      lambda _: bool(balloons(volume_lab)))
    assert wait_ledger_empty(tmp_path, timeout=30), "the watchdog deletes the balloon and clears the entry"
    assert balloons(volume_lab) == []
    assert_lab_whole(volume_lab, tmp_path)
