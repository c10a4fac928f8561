"""The Postgres hang drill (a gray failure: Postgres up, writes to ``orders`` waiting behind a lock of the
drill's own) and its ledger driver, against a real lab Postgres: the lock blocks writes and lets reads
through, the server ends it by itself, another process ends it by its backend (never a reused pid); the
drill passes on a healthy lab, fails on ``db_write_without_timeout`` for its reason (the API hangs with the
database), refuses bad values before anything is locked, and a SIGKILLed run leaves no lock and an empty
ledger."""
from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from chaosaitrapp import registry
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.gray.postgres_actions import check_hang
from chaosaitrapp.gray.postgres_lock import SECRET_ACCESS, PostgresLockDriver
from chaosaitrapp.targets.labstate import lab_database_url
from chaosaitrapp.waiting import wait_until

from .checks import assert_lab_whole, orders_locked
from .kit import run_drill, run_script, sigkill_mid_fault, start_lab, wait_ledger_empty

ENV = {"HANG_SECONDS": "10", "ANSWER_MAX": "7", "WAIT_READY_TIMEOUT": "15"}


@pytest.fixture(scope="module")
def fast_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


def url_of(lab) -> str:
    return lab_database_url(lab.state)


def timed_write(lab, outcome: dict) -> None:
    """An order row written (and removed again) on a connection of its own; how long the write waited."""
    began = time.monotonic()
    with psycopg.connect(url_of(lab), connect_timeout=3, autocommit=True) as conn:
        conn.execute("INSERT INTO orders (order_id, client_order_id, symbol, side, quantity, status) "
                     "VALUES ('T', 'pglocktest', 'NIFTY', 'BUY', 1, 'REJECTED')")  # final: no sweep sends it
        outcome["waited"] = time.monotonic() - began
        conn.execute("DELETE FROM orders WHERE client_order_id = 'pglocktest'")


def test_the_lock_holds_writes_lets_reads_through_and_ends_on_its_own(fast_lab):
    driver = PostgresLockDriver(url_of(fast_lab), SECRET_ACCESS, "the DATABASE_URL secret", 2.0)
    driver.open()
    driver.stop()
    outcome: dict = {}
    writer = threading.Thread(target=timed_write, args=(fast_lab, outcome))
    writer.start()
    with psycopg.connect(url_of(fast_lab), connect_timeout=3) as conn:
        began = time.monotonic()
        conn.execute("SELECT count(*) FROM orders").fetchone()
        assert time.monotonic() - began < 1.0, "reads go on while the writes wait"
    assert driver.holds()
    writer.join(30)
    # nobody ended it: the server did, the session's own timeout (the hang plus a margin of 1 s)
    assert 1.8 <= outcome["waited"] < 10, f"the write waited {outcome.get('waited')}s"
    assert wait_until(driver.holds, lambda held: not held, timeout=10, interval=0.1).held
    driver.start(timeout=10)  # idempotent: nothing left to end


def test_another_process_ends_it_by_its_backend_and_never_a_reused_pid(fast_lab, monkeypatch):
    driver = PostgresLockDriver(url_of(fast_lab), SECRET_ACCESS, "the DATABASE_URL secret", 60.0)
    driver.open()
    driver.stop()
    try:
        undo = json.loads(json.dumps(driver.undo()))
        assert "trader:" not in json.dumps(undo) and undo["access"] == SECRET_ACCESS, "no password in the record"
        monkeypatch.setenv("DATABASE_URL", url_of(fast_lab))
        stranger = registry.driver_from_undo({**undo, "backend_start": "2000-01-01 00:00:00+00"})
        assert not stranger.holds(), "the same pid, started at another time, is not the holder"
        stranger.start(timeout=2)
        assert driver.holds() and orders_locked(fast_lab), "a backend that started at another time is left alone"
        watchdog_side = registry.driver_from_undo(undo)
        assert isinstance(watchdog_side, PostgresLockDriver) and watchdog_side.holds()
        began = time.monotonic()
        watchdog_side.start(timeout=10)
        assert not orders_locked(fast_lab) and time.monotonic() - began < 5
    finally:
        driver.start(timeout=10)


@pytest.mark.parametrize("fault,seconds,needle", [("disk_fill", 5, "postgres fault must be one of table_lock"),
                                                  ("table_lock", 0.5, "between 1 and 600"),
                                                  ("table_lock", 601, "between 1 and 600"),
                                                  ("table_lock", "long", "must be a number")])
def test_bad_faults_and_lengths_are_refused(fault, seconds, needle):
    with pytest.raises(ConfigError, match=needle):
        check_hang(fault, seconds)


def test_the_hang_drill_passes_on_a_healthy_lab(fast_lab, tmp_path):
    run = run_drill("postgres_hang", fast_lab, tmp_path, ENV)
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    assert run.extension["verdict"] == "PASS" and run.fields["test_result"] == "PASS"
    watch = next(r for r in run.journal["run"] if r["activity"]["name"] == "api-answers-throughout")
    slowest = watch["output"]["slowest_s"]
    assert slowest["/orders"] < 7 and slowest["/health"] < 7 and watch["output"]["answers"] >= 4, watch["output"]
    found = {c["name"]: c["status"] for c in run.extension["checks"]}
    assert found.get("orders_exactly_once") == "pass" and found.get("api_answered_during_hang") == "pass", found
    assert float(run.fields["slowest_answer_s"]) == max(slowest.values()) and float(run.fields["answer_max_s"]) == 7
    hang = next(e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("dependency") == "postgres")
    assert hang["fault_name"] == "table_lock" and float(hang["seconds"]) == 10
    assert not orders_locked(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_the_hang_drill_fails_when_order_writes_have_no_timeout(tmp_path):
    lab = start_lab(profile="fast", defects=["db_write_without_timeout"])
    try:
        run = run_drill("postgres_hang", lab, tmp_path, ENV)
        assert not orders_locked(lab)
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    reasons = " | ".join(run.reasons)
    assert "api-answers-throughout" in reasons and "GET /orders gave no answer within 7s" in reasons, reasons
    assert "check api_answered_during_hang failed" in reasons and "the API hangs with the database" in reasons
    ledger = tmp_path / "state" / "ledger.json"
    assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []


@pytest.mark.parametrize("env,needle", [({"POSTGRES_FAULT": "disk_fill"}, "postgres fault must be one of"),
                                        ({"HANG_SECONDS": "0"}, "hang seconds must be between 1 and 600")],
                         ids=["unknown-fault", "too-short"])
def test_bad_values_are_refused_and_lock_nothing(env, needle, fast_lab, tmp_path):
    began = time.monotonic()
    run = run_script("chaos_test_postgres_hang.sh", fast_lab, tmp_path,
                     {**ENV, **env, "NONINTERACTIVE": "1", "PAUSE_ON_FAIL": "1"})
    assert run.code == 2 and "REFUSED by the pre-flight" in run.output, f"exit {run.code}\n{run.output[-2000:]}"
    assert any(needle in r for r in run.reasons), run.reasons
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert not [r for r in run.journal.get("run", []) if r["activity"]["name"] == "hang-postgres-writes"]
    assert time.monotonic() - began < 30 and not orders_locked(fast_lab)


def test_the_seed_style_wrapper_runs_it(fast_lab, tmp_path):
    run = run_script("chaos_test_postgres_hang.sh", fast_lab, tmp_path, {**ENV, "NONINTERACTIVE": "1",
                                                                         "HANG_SECONDS": "4"})
    assert run.code == 0, run.output[-3000:]
    assert run.fields["test_result"] == "PASS"


def test_a_sigkilled_run_leaves_no_lock_and_the_ledger_empty(fast_lab, tmp_path):
    sigkill_mid_fault("postgres_hang", fast_lab, tmp_path, {**ENV, "HANG_SECONDS": "30"}, PostgresLockDriver,
                      lambda _: orders_locked(fast_lab))
    gone = wait_until(lambda: orders_locked(fast_lab), lambda held: not held, timeout=5, interval=0.05)
    assert gone.held, "a run that dies takes its session, and the lock, with it"
    assert wait_ledger_empty(tmp_path, timeout=30), "the watchdog finds the lock gone and clears the entry"
    assert_lab_whole(fast_lab, tmp_path)


@pytest.mark.slow
def test_the_hang_drill_passes_under_the_aitrapp_profile(tmp_path):
    """AITRAPP's timings (a 3 s Postgres connect timeout, 1 s loops) and the drill's own defaults (a 15 s
    hang, answers within 8 s)."""
    lab = start_lab(profile="aitrapp")
    try:
        run = run_drill("postgres_hang", lab, tmp_path, {"WAIT_READY_TIMEOUT": "90"})
        assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
        assert run.fields["test_result"] == "PASS" and not orders_locked(lab)
        assert_lab_whole(lab, tmp_path)
    finally:
        lab.down()
