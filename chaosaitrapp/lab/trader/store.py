"""Postgres persistence for the trader (psycopg 3, one async connection, re-created on error).

Tables (created on every (re)connect if missing): ``orders`` (``client_order_id`` UNIQUE, as a
named constraint ``orders_client_order_id_key``), ``decisions`` (``client_plan_id`` UNIQUE),
``positions``, ``trades``, ``audit_logs``.

Outage decision: when Postgres is down, every call raises :class:`StoreUnavailable` at once
(the connection is dropped and re-created by the next call, so the trader reconnects by itself
when Postgres returns). The API stays up: ``/health`` stays 200 and ``/ready`` is unaffected
(the contract makes readiness depend on leadership and heartbeats only), while ``POST /orders``
answers 503 with ``Retry-After``: an order is accepted only once its row is committed, so
nothing accepted is lost, and ``ON CONFLICT (client_order_id)`` makes the client's retry
idempotent, so nothing is duplicated.

Gray failures: a write that waits behind someone else's lock on a table gives up after
:data:`LOCK_TIMEOUT_S` (Postgres' own ``lock_timeout`` on the connection) and raises StoreUnavailable, the
connection kept: ``POST /orders`` answers 503 at once rather than hang, and the calls queued behind it (one
connection, one call at a time) wait at most that long for it.

Defect ``db_write_without_timeout``: order writes (the insert, the status updates, the fills) wait for
Postgres with no timeout at all, on the one connection every call shares: while a write hangs (a lock on
``orders``), every other call of the trader waits behind it, reads included.

Defect ``duplicate_orders``: the UNIQUE constraint is dropped at connect and orders are inserted
without ``ON CONFLICT``. Without the defect the constraint is restored (duplicates removed first,
keeping the oldest row).
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

import psycopg
from psycopg.rows import dict_row

log = logging.getLogger("chaosaitrapp.lab.trader.store")
T = TypeVar("T")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS orders (
        id BIGSERIAL PRIMARY KEY,
        order_id TEXT NOT NULL,
        broker_order_id TEXT,
        client_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        price DOUBLE PRECISION,
        order_type TEXT NOT NULL DEFAULT 'LIMIT',
        status TEXT NOT NULL DEFAULT 'PENDING',
        filled_quantity INTEGER NOT NULL DEFAULT 0,
        average_price DOUBLE PRECISION,
        mode TEXT NOT NULL DEFAULT 'PAPER',
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT orders_client_order_id_key UNIQUE (client_order_id)
    )""",
    """CREATE TABLE IF NOT EXISTS decisions (
        id BIGSERIAL PRIMARY KEY,
        client_plan_id TEXT NOT NULL,
        strategy TEXT,
        symbol TEXT,
        side TEXT,
        quantity INTEGER,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT decisions_client_plan_id_key UNIQUE (client_plan_id)
    )""",
    """CREATE TABLE IF NOT EXISTS positions (
        symbol TEXT PRIMARY KEY,
        quantity INTEGER NOT NULL DEFAULT 0,
        average_price DOUBLE PRECISION NOT NULL DEFAULT 0,
        realized_pnl DOUBLE PRECISION NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS trades (
        id BIGSERIAL PRIMARY KEY,
        order_id TEXT,
        client_order_id TEXT,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        price DOUBLE PRECISION,
        executed_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS audit_logs (
        id BIGSERIAL PRIMARY KEY,
        event TEXT NOT NULL,
        detail JSONB,
        instance_id TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
]

ORDER_COLUMNS = ("order_id, broker_order_id, client_order_id, symbol, side, quantity, price, order_type, "
                 "status, filled_quantity, average_price, mode, created_at")
FINAL_STATUSES = ("COMPLETE", "REJECTED", "CANCELLED")
#: How long a statement may wait for a lock someone else holds (seconds; none with ``db_write_without_timeout``).
LOCK_TIMEOUT_S = 1.0


class StoreUnavailable(Exception):
    """Postgres could not be reached or dropped the connection; nothing was written."""


class OrderStore:
    """Small persistence functions over one lazily (re)created async connection."""

    def __init__(self, url: str, *, connect_timeout: int = 2, allow_duplicates: bool = False,
                 instance_id: str = "", unbounded_writes: bool = False) -> None:
        self._url = url
        self.connect_timeout = connect_timeout
        self.allow_duplicates = allow_duplicates
        self.unbounded_writes = unbounded_writes
        self.instance_id = instance_id
        self._conn: Optional[psycopg.AsyncConnection] = None
        self._lock = asyncio.Lock()
        self.op_timeout = max(3.0, 2.0 * connect_timeout)
        self.connects = 0
        self.on_connect: Optional[Callable[[], None]] = None

    @property
    def connected(self) -> bool:
        """True while a connection is open (as far as we know)."""
        return self._conn is not None and not self._conn.closed

    async def close(self) -> None:
        """Close the connection if any."""
        if self._conn is not None:
            try:
                await self._conn.close()
            finally:
                self._conn = None

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=self.connect_timeout, row_factory=dict_row,
            )
            try:
                await self._ensure_schema(conn)
                if not self.unbounded_writes:
                    await conn.execute(f"SET lock_timeout = {int(LOCK_TIMEOUT_S * 1000)}")
            except Exception:
                await conn.close()
                raise
            self._conn = conn
            self.connects += 1
            if self.on_connect:
                self.on_connect()
        return self._conn

    async def _ensure_schema(self, conn: psycopg.AsyncConnection) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7350017)")
            for ddl in SCHEMA:
                await conn.execute(ddl)
            cur = await conn.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = 'orders_client_order_id_key'")
            has_unique = await cur.fetchone() is not None
            if self.allow_duplicates and has_unique:
                await conn.execute("ALTER TABLE orders DROP CONSTRAINT orders_client_order_id_key")
                log.warning("defect duplicate_orders: orders.client_order_id UNIQUE constraint dropped")
            elif not self.allow_duplicates and not has_unique:
                await conn.execute(
                    "DELETE FROM orders a USING orders b WHERE a.client_order_id = b.client_order_id AND a.id > b.id")
                await conn.execute(
                    "ALTER TABLE orders ADD CONSTRAINT orders_client_order_id_key UNIQUE (client_order_id)")
                log.info("orders.client_order_id UNIQUE constraint restored (duplicates removed)")

    async def _run(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]], *, write: bool = False) -> T:
        """Run ``work`` on the connection; any connection trouble (or a hung server, after
        ``op_timeout``) drops the connection and raises StoreUnavailable. An order ``write`` has no timeout
        with the ``db_write_without_timeout`` defect."""
        async with self._lock:
            try:
                conn = await self._connection()
                if write and self.unbounded_writes:
                    return await work(conn)
                return await asyncio.wait_for(work(conn), self.op_timeout)
            except psycopg.errors.LockNotAvailable:
                raise StoreUnavailable(f"a lock held the statement past lock_timeout ({LOCK_TIMEOUT_S:g}s)") from None
            except (psycopg.OperationalError, psycopg.InterfaceError, asyncio.TimeoutError) as exc:
                await self._drop()
                raise StoreUnavailable(f"Postgres unavailable ({type(exc).__name__})") from None

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 1.0)
            except Exception:  # the connection is being thrown away whatever happens
                pass

    async def ping_unbounded(self) -> None:
        """``SELECT 1`` on the connection with no timeout at all (defect ``health_blocks_on_db``: it hangs
        for as long as Postgres is unreachable); errors are swallowed, only the wait matters."""
        try:
            conn = self._conn if self._conn is not None and not self._conn.closed else await self._connection()
            await conn.execute("SELECT 1")
        except Exception:  # the defect is the wait, not the error
            pass

    async def ping(self) -> bool:
        """True when a query goes through."""
        try:
            await self._run(lambda c: c.execute("SELECT 1"))
            return True
        except StoreUnavailable:
            return False

    async def insert_order(self, order: Dict[str, Any], mode: str) -> Tuple[Dict[str, Any], bool]:
        """Insert ``order``; ``(row, created)``. An existing ``client_order_id`` returns its row, created False."""
        params = {
            "order_id": uuid.uuid4().hex[:16].upper(),
            "client_order_id": order["client_order_id"],
            "symbol": order["symbol"],
            "side": order["side"],
            "quantity": order["quantity"],
            "price": order.get("price"),
            "order_type": order.get("order_type", "LIMIT"),
            "mode": mode,
        }
        values = ("(%(order_id)s, %(client_order_id)s, %(symbol)s, %(side)s, %(quantity)s, %(price)s, "
                  "%(order_type)s, 'PENDING', %(mode)s)")
        insert = ("INSERT INTO orders (order_id, client_order_id, symbol, side, quantity, price, order_type, "
                  f"status, mode) VALUES {values}")

        async def work(conn: psycopg.AsyncConnection) -> Tuple[Dict[str, Any], bool]:
            if self.allow_duplicates:
                cur = await conn.execute(f"{insert} RETURNING {ORDER_COLUMNS}", params)
                return await cur.fetchone(), True
            cur = await conn.execute(
                f"{insert} ON CONFLICT (client_order_id) DO NOTHING RETURNING {ORDER_COLUMNS}", params)
            row = await cur.fetchone()
            if row is not None:
                return row, True
            cur = await conn.execute(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE client_order_id = %s ORDER BY id LIMIT 1",
                (order["client_order_id"],))
            return await cur.fetchone(), False

        return await self._run(work, write=True)

    async def mark_sent(self, client_order_id: str, broker_order_id: str) -> None:
        """Record that the broker accepted the order (status OPEN)."""
        await self._run(lambda c: c.execute(
            "UPDATE orders SET status = 'OPEN', broker_order_id = %s, updated_at = now() "
            "WHERE client_order_id = %s AND status = 'PENDING'", (broker_order_id, client_order_id)), write=True)

    async def mark_final(self, client_order_id: str, status: str) -> None:
        """Record that the order ended ``status`` (``REJECTED``: refused for good; ``CANCELLED``; ``COMPLETE``: its
        last part already recorded) with nothing more filled."""
        await self._run(lambda c: c.execute(
            "UPDATE orders SET status = %s, updated_at = now() WHERE client_order_id = %s",
            (status, client_order_id)), write=True)

    async def record_fill(self, client_order_id: str, broker_order_id: str, symbol: str, side: str,
                          quantity: int, price: float, status: str = "COMPLETE") -> Tuple[int, float]:
        """Record ``quantity`` (> 0) more filled at ``price`` (a trade, the position, the order's filled quantity and
        average price) and the order's new ``status`` (``OPEN`` while it fills in parts, ``COMPLETE``, or
        ``CANCELLED`` with the parts filled before); the symbol's new ``(quantity, average_price)``."""

        async def work(conn: psycopg.AsyncConnection) -> Tuple[int, float]:
            async with conn.transaction():
                await conn.execute(
                    "UPDATE orders SET status = %s, filled_quantity = filled_quantity + %s, average_price = "
                    "CASE WHEN filled_quantity + %s = 0 THEN average_price ELSE (filled_quantity * "
                    "coalesce(average_price, 0) + %s * %s) / (filled_quantity + %s) END, "
                    "broker_order_id = %s, updated_at = now() WHERE client_order_id = %s",
                    (status, quantity, quantity, quantity, price, quantity, broker_order_id, client_order_id))
                await conn.execute(
                    "INSERT INTO trades (order_id, client_order_id, symbol, side, quantity, price) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (broker_order_id, client_order_id, symbol, side, quantity, price))
                signed = quantity if side == "BUY" else -quantity
                cur = await conn.execute(
                    "INSERT INTO positions (symbol, quantity, average_price) VALUES (%s, %s, %s) "
                    "ON CONFLICT (symbol) DO UPDATE SET quantity = positions.quantity + EXCLUDED.quantity, "
                    "average_price = CASE WHEN positions.quantity + EXCLUDED.quantity = 0 THEN 0 "
                    "ELSE (positions.quantity * positions.average_price + EXCLUDED.quantity * EXCLUDED.average_price)"
                    " / (positions.quantity + EXCLUDED.quantity) END, updated_at = now() "
                    "RETURNING quantity, average_price",
                    (symbol, signed, price))
                row = await cur.fetchone()
                return int(row["quantity"]), float(row["average_price"])

        return await self._run(work, write=True)

    async def list_orders(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """The newest ``limit`` orders, oldest first."""
        async def work(conn: psycopg.AsyncConnection) -> List[Dict[str, Any]]:
            cur = await conn.execute(
                f"SELECT * FROM (SELECT id, {ORDER_COLUMNS} FROM orders ORDER BY id DESC LIMIT %s) o ORDER BY id",
                (limit,))
            return list(await cur.fetchall())

        return await self._run(work)

    async def unfinished_orders(self) -> List[Dict[str, Any]]:
        """Orders not yet final (PENDING or OPEN), oldest first."""
        async def work(conn: psycopg.AsyncConnection) -> List[Dict[str, Any]]:
            cur = await conn.execute(
                f"SELECT id, {ORDER_COLUMNS} FROM orders WHERE status IN ('PENDING', 'OPEN') ORDER BY id")
            return list(await cur.fetchall())

        return await self._run(work)

    async def positions(self) -> Dict[str, Tuple[int, float]]:
        """Open positions: ``symbol -> (quantity, average_price)``."""
        async def work(conn: psycopg.AsyncConnection) -> Dict[str, Tuple[int, float]]:
            cur = await conn.execute("SELECT symbol, quantity, average_price FROM positions WHERE quantity <> 0")
            return {r["symbol"]: (int(r["quantity"]), float(r["average_price"])) for r in await cur.fetchall()}

        return await self._run(work)

    async def trades_today(self) -> int:
        """Trades executed since midnight (server time)."""
        async def work(conn: psycopg.AsyncConnection) -> int:
            cur = await conn.execute("SELECT count(*) AS n FROM trades WHERE executed_at >= date_trunc('day', now())")
            return int((await cur.fetchone())["n"])

        return await self._run(work)

    async def close_positions(self) -> None:
        """Set every position to zero (flatten)."""
        await self._run(lambda c: c.execute("UPDATE positions SET quantity = 0, updated_at = now() WHERE quantity <> 0"))

    async def audit(self, event: str, detail: Dict[str, Any]) -> None:
        """Append an audit log row."""
        await self._run(lambda c: c.execute(
            "INSERT INTO audit_logs (event, detail, instance_id) VALUES (%s, %s::jsonb, %s)",
            (event, json.dumps(detail), self.instance_id)))
