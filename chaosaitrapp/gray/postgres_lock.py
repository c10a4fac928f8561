"""A Postgres write hang as a fault the ledger can undo: :class:`PostgresLockDriver` (ledger driver
``postgres_lock``).

A session of the drill's own takes ``LOCK TABLE orders IN EXCLUSIVE MODE`` in a transaction and keeps it
open: every write to ``orders`` (insert, update) waits behind it, reads go on (``EXCLUSIVE`` lets plain
``SELECT`` through), Postgres stays up and keeps every connection. What a migration or a stuck batch job
does to a live service.

The server ends it by itself: the session is opened with ``idle_in_transaction_session_timeout`` a little
longer than the hang, so Postgres terminates it (and so releases the lock) even if the run that holds it is
frozen; a run that dies closes its socket and Postgres rolls the transaction back. Undoing it early (the
end of the hang, rollback, watchdog, cleanup) closes the session when this process holds it, else
terminates its backend (``pg_terminate_backend``, the same role may), identified by its pid *and* its
start time so a reused pid is never touched; then waits until no lock of that backend is left.

How Postgres is reached is the SQL checks' (:mod:`chaosaitrapp.deployment.database`): the ``DATABASE_URL``
secret (the record says so and the watchdog reads it from its environment: never from a file), or the
``orders_database`` setting (a URL without password).
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

import psycopg

from chaosaitrapp.config import database_url
from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import TargetError
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.waiting import wait_until

#: The record's ``access`` when Postgres is reached through the ``DATABASE_URL`` secret.
SECRET_ACCESS = "secret:DATABASE_URL"
#: The table the hang locks, and how.
TABLE = "orders"
LOCK_MODE = "EXCLUSIVE"
#: How much longer than the hang the server lets the session live on its own (seconds).
SERVER_MARGIN_S = 1.0
#: How long taking the lock may wait behind someone else's (seconds): the drill never queues for ever.
LOCK_WAIT_S = 5.0
#: How long one connection attempt may take (seconds).
CONNECT_TIMEOUT_S = 3

HOLDS_SQL = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE l.pid = %s AND a.backend_start = %s::timestamptz AND l.relation = %s::regclass")
TERMINATE_SQL = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE pid = %s AND backend_start = %s::timestamptz")


def redacted(url: str) -> str:
    """``url`` fit for the ledger and the timeline: its password (userinfo) removed."""
    return scrub_text(url)


class PostgresLockDriver:
    """Holds ``LOCK TABLE orders IN EXCLUSIVE MODE`` on the Postgres at ``url`` for ``seconds`` (``stop``) and
    ends it (``start``). ``access``: how the record names the way there (:data:`SECRET_ACCESS` or a URL
    without password); ``label``: how messages name it."""

    def __init__(self, url: str, access: str, label: str, seconds: float) -> None:
        self.url = url
        self.access = access
        self.label = label
        self.seconds = float(seconds)
        self.until_wall: Optional[float] = None
        self.backend_pid: Optional[int] = None
        self.backend_start: Optional[str] = None
        self._conn: Optional[psycopg.Connection] = None

    def describe(self) -> str:
        """``postgres_lock:<how Postgres is reached>`` (never a password)."""
        return f"postgres_lock:{self.label}"

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        except psycopg.Error as exc:
            raise TargetError(f"{self.describe()}: cannot connect to Postgres: {scrub_text(str(exc).strip())}",
                              target=self.describe()) from None

    def open(self) -> None:
        """Open the session that will hold the lock, with the server's own end set (module docstring), and
        learn its backend (pid, start time) for the record: before the fault is recorded, so the recipe names
        it. Nothing is locked yet. TargetError when Postgres cannot be reached."""
        conn = self._connect()
        try:
            conn.execute(f"SET idle_in_transaction_session_timeout = {int((self.seconds + SERVER_MARGIN_S) * 1000)}")
            conn.execute(f"SET lock_timeout = {int(LOCK_WAIT_S * 1000)}")
            row = conn.execute("SELECT pid, backend_start::text FROM pg_stat_activity "
                               "WHERE pid = pg_backend_pid()").fetchone()
        except psycopg.Error as exc:
            conn.close()
            raise TargetError(f"{self.describe()}: cannot prepare the session: {scrub_text(str(exc).strip())}",
                              target=self.describe()) from None
        self.backend_pid, self.backend_start = int(row[0]), str(row[1])
        self._conn = conn

    def stop(self, timeout: float = 10.0) -> None:
        """Take the lock on the session :meth:`open` made (opened now if it was not) and keep it. TargetError
        when Postgres cannot be reached, has no ``orders`` table, or someone else's lock keeps it from the
        drill for :data:`LOCK_WAIT_S` (nothing held then, the session closed)."""
        if self._conn is None:
            self.open()
        conn = self._conn
        try:
            conn.execute("BEGIN")
            conn.execute(f"LOCK TABLE {TABLE} IN {LOCK_MODE} MODE")
        except psycopg.Error as exc:
            self._conn = None
            conn.close()
            raise TargetError(f"{self.describe()}: could not lock {TABLE}: {scrub_text(str(exc).strip())}",
                              target=self.describe()) from None
        self.until_wall = time.time() + self.seconds

    def has_table(self) -> bool:
        """True when the database has the ``orders`` table (the pre-flight asks); TargetError when Postgres
        cannot be reached."""
        with self._connect() as conn:
            row = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
        return bool(row and row[0])

    def holds(self) -> bool:
        """True while the backend that took the lock (its pid and start time) still holds a lock on
        ``orders``; TargetError when Postgres cannot be asked."""
        if self.backend_pid is None:
            return False
        with self._connect() as conn:
            try:
                row = conn.execute(HOLDS_SQL, (self.backend_pid, self.backend_start, TABLE)).fetchone()
            except psycopg.Error as exc:
                raise TargetError(f"{self.describe()}: cannot read pg_locks: {scrub_text(str(exc).strip())}",
                                  target=self.describe()) from None
        return bool(row and row[0])

    def start(self, timeout: float = 30.0) -> None:
        """End the hang now: close the session when this process holds it, else terminate its backend; then
        wait (up to ``timeout``) until no lock of it is left. Idempotent; TargetError when Postgres cannot be
        reached or the lock is still held at the deadline."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # the server rolls the transaction back: the lock is gone with it
        elif self.backend_pid is not None:
            with self._connect() as admin:
                try:
                    admin.execute(TERMINATE_SQL, (self.backend_pid, self.backend_start))
                except psycopg.Error as exc:
                    raise TargetError(f"{self.describe()}: cannot end the session that holds the lock "
                                      f"(backend {self.backend_pid}): {scrub_text(str(exc).strip())}",
                                      target=self.describe()) from None
        if not wait_until(self.holds, lambda held: not held, timeout=timeout, interval=0.1,
                          what=f"the lock on {TABLE} released").held:
            raise TargetError(f"{self.describe()}: backend {self.backend_pid} still holds its lock on {TABLE} "
                              f"{timeout:.0f}s after it was ended", target=self.describe())

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe (no password: :data:`SECRET_ACCESS` stands for the secret)."""
        return {"driver": ref_of(PostgresLockDriver), "access": self.access, "label": self.label,
                "seconds": self.seconds, "until_wall": self.until_wall, "backend_pid": self.backend_pid,
                "backend_start": self.backend_start}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "PostgresLockDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup); the secret from the environment (or
        what a deployment description provided this process)."""
        access = str(undo.get("access") or "")
        if access == SECRET_ACCESS:
            url = database_url()
            if not url:
                raise TargetError("postgres_lock: the lock's Postgres was reached through the DATABASE_URL secret, "
                                  "which this process does not have", target="postgres_lock")
        else:
            url = access
        driver = cls(url, access, str(undo.get("label") or redacted(url)), float(undo.get("seconds") or 0))
        driver.until_wall = undo.get("until_wall")
        pid = undo.get("backend_pid")
        driver.backend_pid = int(pid) if pid is not None else None
        driver.backend_start = undo.get("backend_start")
        return driver
