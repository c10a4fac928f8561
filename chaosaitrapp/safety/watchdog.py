"""A watchdog process that undoes one fault when the ``chaos`` run cannot.

Chaos Toolkit plays no rollback on SIGKILL (nor on SIGINT/SIGTERM without the ``always``
strategy), so a fault must be undoable from outside the ``chaos`` process. Before injecting a fault
the action (:func:`chaosaitrapp.safety.faults.register_fault`) calls :func:`spawn_watchdog` with
``await_record``, records the entry in the :class:`~chaosaitrapp.safety.ledger.Ledger`, then confirms
(:func:`confirm_watchdog`): no instant has an entry without its watchdog. The watchdog runs as
``python -m chaosaitrapp.safety.watchdog`` in a new session (it survives the run being killed, its
terminal closing, Ctrl-C); told nothing (end of file) it watches only an entry the ledger holds.

The watchdog polls every ``poll_interval`` (0.2 s) and, for its ONE entry only:

- entry cleared (the run restored the dependency itself)  -> exit 0, nothing done;
- the run process is gone (killed, exited, a zombie, or its pid now belongs to another
  process: the start time read at spawn no longer matches), or
  the entry's lease expired while it is still outstanding -> undo it
  (``driver_from_undo(entry.undo).start(undo_timeout)``), clear it, log, exit 0;
  an undo that fails is retried every ``RETRY_INTERVAL`` s until its lifetime bound, then
  it exits 1, leaving the entry for ``aitrapp-chaos cleanup``;
- the entry found in the ledger names another run pid than the one it watches -> exit 3
  without acting (it never acts on a different entry).

Its lifetime is bounded: it exits (code 2) at ``lease_expires + undo_timeout + GRACE`` when it
has not acted, and a SIGALRM ends it at ``max(lease_expires, start) + undo_timeout + 2 * GRACE`` (spawn-time
lease) whatever it is doing, even in a hung undo. The undo goes through :func:`chaosaitrapp.safety.cleanup.undo_entry`, under
the ledger's undo lock, so it never races a concurrent ``aitrapp-chaos cleanup``.

Exit codes: 0 cleared or undone, 1 undo failed, 2 lifetime bound reached, 3 entry mismatch,
4 bad arguments. It logs one line per decision to ``log_path`` (default
``<ledger dir>/watchdog.log``), never the undo recipe itself.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Dict, Optional, Sequence

from chaosaitrapp import procs
from chaosaitrapp.config import known_secrets
from chaosaitrapp.safety.cleanup import undo_entry
from chaosaitrapp.safety.ledger import Ledger, LedgerError
from chaosaitrapp.scrub import scrub_text

__all__ = [
    "spawn_watchdog",
    "confirm_watchdog",
    "wait_watchdog",
    "watch",
    "watchdog_main",
    "process_start_time",
    "run_alive",
    "POLL_INTERVAL",
    "GRACE",
]

POLL_INTERVAL = 0.2
#: What :func:`confirm_watchdog` writes once the entry is in the ledger.
RECORDED = b"recorded\n"
GRACE = 10.0
RETRY_INTERVAL = 1.0
DEFAULT_UNDO_TIMEOUT = 60.0

# Popen objects of watchdogs spawned by this process, kept so they are reaped (no zombie,
# no ResourceWarning) and so wait_watchdog can wait for them.
_SPAWNED: Dict[int, subprocess.Popen] = {}


def process_start_time(pid: int) -> Optional[float]:
    """When process ``pid`` started (:func:`chaosaitrapp.procs.start_time`), None when no such live
    process (a zombie counts as gone). Together with the pid it names one process for good."""
    return procs.start_time(pid)


def run_alive(pid: int, start_time: Optional[float]) -> bool:
    """Whether the process recorded as (``pid``, ``start_time``) still runs: False when the pid is gone
    or a zombie, when ``start_time`` is None (the run was already gone when recorded), and when the pid
    now belongs to a process started at another time (pid reuse)."""
    return procs.same_process(pid, start_time)


def _package_root() -> str:
    """The directory holding the ``chaosaitrapp`` package, so the child imports the same code."""
    return str(Path(__file__).resolve().parents[2])


def spawn_watchdog(
    ledger_path: Path,
    entry_id: str,
    run_pid: int,
    lease_expires_wall: float,
    log_path: Optional[Path] = None,
    *,
    undo_timeout: float = DEFAULT_UNDO_TIMEOUT,
    poll_interval: float = POLL_INTERVAL,
    extra_env: Optional[Dict[str, str]] = None,
    await_record: bool = False,
) -> int:
    """Launch a detached watchdog for ledger entry ``entry_id`` and return its pid.

    ``await_record``: the watchdog is started BEFORE its entry is written (so no instant exists with an
    entry and no watchdog: a SIGKILL between the two left one nobody watched), and waits for
    :func:`confirm_watchdog` on its stdin: ``recorded``, or end of file (the run died or gave up first),
    after which the ledger says whether there is anything to watch.

    ``run_pid`` is the process whose death means the fault must be undone (the ``chaos``
    process: ``os.getpid()`` in an action); its start time is read now, so a later reuse of
    the pid is not mistaken for the run. ``lease_expires_wall`` is the entry's lease end
    (Unix time). The watchdog runs in a new session with stdin from ``/dev/null`` and its
    output appended to ``log_path`` (default ``<ledger dir>/watchdog.log``); it inherits the
    environment, plus ``extra_env`` (what only it may know: never written to a file). Raises ``OSError``
    when the process cannot be started.
    """
    ledger_path = Path(ledger_path).resolve()
    log = Path(log_path) if log_path is not None else ledger_path.parent / "watchdog.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = process_start_time(run_pid)
    argv = [
        sys.executable,
        "-m",
        "chaosaitrapp.safety.watchdog",
        "--ledger", str(ledger_path),
        "--entry", entry_id,
        "--run-pid", str(run_pid),
        "--run-start", "gone" if start is None else repr(float(start)),
        "--lease-expires", repr(float(lease_expires_wall)),
        "--undo-timeout", repr(float(undo_timeout)),
        "--poll", repr(float(poll_interval)),
        *(["--await-record"] if await_record else []),
    ]
    env = {**os.environ, **(extra_env or {})}
    root = _package_root()
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in parts:
        env["PYTHONPATH"] = os.pathsep.join([root, *parts])
    for pid in [p for p, proc in _SPAWNED.items() if proc.poll() is not None]:
        del _SPAWNED[pid]
    with open(log, "ab", buffering=0) as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if await_record else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    _SPAWNED[proc.pid] = proc
    return proc.pid


def confirm_watchdog(pid: int, recorded: bool) -> None:
    """Tell a watchdog spawned with ``await_record`` whether its entry was written (``recorded``), and close
    its stdin; it then watches the entry, or exits when there is none. Idempotent; a watchdog already gone
    is no error."""
    proc = _SPAWNED.get(pid)
    if proc is None or proc.stdin is None or proc.stdin.closed:
        return
    try:
        if recorded:
            proc.stdin.write(RECORDED)
            proc.stdin.flush()
    except OSError:
        pass
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass


def await_record(stdin: IO[bytes]) -> bool:
    """The watchdog's side of :func:`confirm_watchdog`: True when told the entry was recorded, False at end
    of file (the run died or gave up before confirming; the ledger then says whether an entry exists)."""
    try:
        return stdin.readline() == RECORDED
    except OSError:
        return False


def wait_watchdog(pid: int, timeout: float) -> Optional[int]:
    """Wait up to ``timeout`` s for a watchdog spawned by this process; its exit code, or
    ``None`` if it still runs (or was not spawned here)."""
    proc = _SPAWNED.get(pid)
    if proc is None:
        return None
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    _SPAWNED.pop(pid, None)
    return code


def _default_log(message: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    print(f"{stamp} watchdog[{os.getpid()}] {scrub_text(message, known_secrets())}", flush=True)


def watch(
    ledger: Ledger,
    entry_id: str,
    run_pid: int,
    run_start: Optional[float],
    lease_expires_wall: float,
    *,
    undo_timeout: float = DEFAULT_UNDO_TIMEOUT,
    poll_interval: float = POLL_INTERVAL,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    alive: Callable[[int, Optional[float]], bool] = run_alive,
    log: Callable[[str], None] = _default_log,
) -> int:
    """The watchdog's loop (see the module docstring); returns its exit code.

    ``clock`` (Unix time), ``sleep`` and ``alive`` are injectable so the decisions can be
    tested without waiting. The lease is the entry's own ``lease_expires_wall`` as stored in
    the ledger (``lease_expires_wall`` is used while the ledger cannot be read).
    """
    lease_end = lease_expires_wall
    tag = f"entry {entry_id[:8]}"
    log(f"{tag}: watching run pid {run_pid}, lease ends {lease_end:.3f}")
    next_try = 0.0
    failed = False
    while True:
        now = clock()
        bound = lease_end + undo_timeout + GRACE
        try:
            entry = ledger.get(entry_id)
        except LedgerError as exc:
            if now >= bound:
                log(f"{tag}: ledger unreadable and lifetime bound reached, giving up: {exc}")
                return 2
            log(f"{tag}: ledger unreadable, retrying: {exc}")
            sleep(max(poll_interval, RETRY_INTERVAL))
            continue
        if entry is None:
            log(f"{tag}: cleared, nothing to undo")
            return 0
        tag = f"entry {entry_id[:8]} ({entry.what} {entry.target})"
        if entry.run_pid != run_pid:
            log(f"{tag}: ledger names run pid {entry.run_pid}, not {run_pid}: not mine, leaving it")
            return 3
        lease_end = entry.lease_expires_wall
        bound = lease_end + undo_timeout + GRACE
        reason = None
        if not alive(run_pid, run_start):
            reason = f"run pid {run_pid} is gone"
        elif now >= lease_end:
            reason = f"lease expired {now - lease_end:.1f} s ago while run pid {run_pid} lives"
        if reason is not None and now >= next_try:
            log(f"{tag}: {reason}: undoing")
            try:
                result = undo_entry(ledger, entry_id, timeout=undo_timeout, lock_timeout=undo_timeout + 30.0)
            except LedgerError as exc:
                result = {"status": "failed", "detail": f"{entry.target}: {exc}"}
            if result is None or result["status"] in ("undone", "gone"):
                detail = "already cleared" if result is None else result["detail"]
                log(f"{tag}: {result['status'] if result else 'gone'}: {detail}")
                return 0
            log(f"{tag}: {result['status']}: {result['detail']}")
            now = clock()
            if now + RETRY_INTERVAL >= bound:
                log(f"{tag}: lifetime bound reached, leaving the entry for 'aitrapp-chaos cleanup'")
                return 1
            next_try = now + RETRY_INTERVAL
            failed = True
        elif now >= bound:
            if failed:
                log(f"{tag}: lifetime bound reached, leaving the entry for 'aitrapp-chaos cleanup'")
                return 1
            log(f"{tag}: lifetime bound reached without acting")
            return 2
        sleep(poll_interval)


def _parse_args(argv: Optional[Sequence[str]]) -> Any:
    import argparse  # noqa: PLC0415 - the watchdog process alone needs it, not every drill that imports this module
    parser = argparse.ArgumentParser(prog="python -m chaosaitrapp.safety.watchdog", description=__doc__.split("\n")[0])
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--entry", required=True)
    parser.add_argument("--run-pid", type=int, required=True)
    parser.add_argument("--run-start", required=True, help="the run's start time (Unix time), or 'gone'")
    parser.add_argument("--lease-expires", type=float, required=True)
    parser.add_argument("--undo-timeout", type=float, default=DEFAULT_UNDO_TIMEOUT)
    parser.add_argument("--poll", type=float, default=POLL_INTERVAL)
    parser.add_argument("--await-record", action="store_true",
                        help="started before its entry is written: wait for 'recorded' or end of file on stdin")
    return parser.parse_args(argv)


def _arm_hard_bound(deadline_wall: float) -> None:
    """Kill this process at ``deadline_wall`` whatever it is doing (even a hung undo)."""

    def expire(signum: int, frame: object) -> None:
        _default_log(f"hard lifetime bound {deadline_wall:.3f} reached, exiting")
        os._exit(2)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(deadline_wall - time.time(), 0.001))


def watchdog_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m chaosaitrapp.safety.watchdog`` (as :func:`spawn_watchdog`
    calls it); returns the exit code."""
    try:
        args = _parse_args(argv)
        run_start = None if args.run_start == "gone" else float(args.run_start)
    except SystemExit:
        return 4
    except ValueError:
        _default_log(f"bad --run-start {args.run_start!r}")
        return 4
    _arm_hard_bound(max(args.lease_expires, time.time()) + args.undo_timeout + 2 * GRACE)
    ledger = Ledger(Path(args.ledger))
    if args.await_record and not await_record(sys.stdin.buffer):
        try:
            recorded = ledger.get(args.entry) is not None
        except LedgerError:
            recorded = True  # unreadable: watch() retries the read until its bound
        if not recorded:
            _default_log(f"entry {args.entry[:8]}: never recorded (run pid {args.run_pid} ended or gave up before "
                         "writing it): nothing to undo")
            return 0
    return watch(
        ledger,
        args.entry,
        args.run_pid,
        run_start,
        args.lease_expires,
        undo_timeout=args.undo_timeout,
        poll_interval=args.poll,
    )


if __name__ == "__main__":
    raise SystemExit(watchdog_main())
