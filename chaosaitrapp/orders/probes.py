"""Duplicate ``client_order_id`` checks (in SQL on ``DATABASE_URL`` and through ``GET /orders``) and the
wait for a drill's orders to settle."""

from collections import Counter
from typing import Any, Dict, List, Optional

import psycopg
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.deployment.database import connect
from chaosaitrapp.errors import ApiError, TargetError
from chaosaitrapp.evidence.recorder import current_run, dry_wait, wait_deadline
from chaosaitrapp.orderids import run_prefix
from chaosaitrapp.waiting import require, wait_until

__all__ = ["duplicate_orders_sql", "duplicate_orders_api", "order_count_sql", "wait_orders_settled"]

#: Order statuses that are not final: the target has neither placed nor refused the order yet.
UNSETTLED = frozenset({"PENDING", "NEW", "QUEUED", "SUBMITTING"})

DUPLICATES_SQL = "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 50"


def duplicate_orders_sql(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """The ``client_order_id`` values stored more than once in ``orders`` (``SELECT client_order_id,
    count(*) FROM orders GROUP BY 1 HAVING count(*) > 1``). Returns ``{"count", "duplicates": {id: n}}``;
    raises ConfigError without a database URL, TargetError when Postgres cannot be queried."""
    with connect(configuration, secrets) as conn:
        try:
            rows = conn.execute(DUPLICATES_SQL).fetchall()
        except psycopg.Error as exc:
            raise TargetError(f"duplicate check query failed: {str(exc).strip()}")
    return {"count": len(rows), "duplicates": {str(r[0]): int(r[1]) for r in rows}}


def order_count_sql(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Returns the number of rows in the ``orders`` table (evidence: how many orders the drill stored).
    Raises ConfigError without a database URL, TargetError when Postgres cannot be queried."""
    with connect(configuration, secrets) as conn:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


def duplicate_orders_api(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """The ``client_order_id`` values ``GET /orders`` lists more than once. Returns ``{"count",
    "duplicates": {id: n}, "orders"}``; raises ApiError when the API is unreachable or the body is not
    ``{"orders": [...]}``."""
    _, body = TraderClient.from_configuration(configuration, secrets).json("GET", "/orders")
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        raise ApiError(f"/orders: expected {{'orders': [...]}}, got {str(body)[:80]!r}")
    counts = Counter(o.get("client_order_id") for o in orders if isinstance(o, dict))
    dups = {str(k): v for k, v in counts.items() if k is not None and v > 1}
    return {"count": len(dups), "duplicates": dict(list(dups.items())[:50]), "orders": len(orders)}


def run_order_prefix() -> Optional[str]:
    """The ``client_order_id`` prefix of this drill's bursts (``chs<run id>``, :func:`chaosaitrapp.orderids.
    run_prefix`), or None without a run."""
    run = current_run()
    return run_prefix(run.run_id) if run is not None else None


def list_orders(configuration: Configuration = None, secrets: Secrets = None) -> List[Dict[str, Any]]:
    """``GET /orders``: the target's orders (``client_order_id``, ``status``, ``timestamp``...). Raises
    ApiError when the API is unreachable or the body is not ``{"orders": [...]}``."""
    _, body = TraderClient.from_configuration(configuration, secrets).json("GET", "/orders")
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        raise ApiError(f"/orders: expected {{'orders': [...]}}, got {str(body)[:80]!r}")
    return [o for o in orders if isinstance(o, dict)]


def wait_orders_settled(prefix: str = "auto", timeout: float = 0, interval: float = 0.2,
                        configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until none of the drill's orders is still unsettled (``PENDING``: neither placed at the
    broker nor refused), up to ``timeout`` seconds (0: ``WAIT_READY_TIMEOUT``). ``prefix``: the
    ``client_order_id`` prefix that names the drill's orders (``auto``: this run's bursts,
    ``chs<run id>``; ``""``: every order). Returns the wait's record plus ``by_status`` (counts) and
    ``orders`` (how many matched); raises ConditionTimeout at the deadline (naming the orders still
    pending), ApiError when ``/orders`` cannot be read."""
    skipped = dry_wait("the drill's orders to settle")
    if skipped is not None:
        return skipped
    wanted = (run_order_prefix() or "") if prefix == "auto" else str(prefix)

    def observe() -> Dict[str, Any]:
        mine = [o for o in list_orders(configuration, secrets) if str(o.get("client_order_id", "")).startswith(wanted)]
        counts = Counter(str(o.get("status", "?")).upper() for o in mine)
        pending = sorted(str(o.get("client_order_id")) for o in mine
                         if str(o.get("status", "")).upper() in UNSETTLED)
        return {"orders": len(mine), "by_status": dict(counts), "pending": pending[:10],
                "pending_count": len(pending)}

    result = wait_until(observe, lambda seen: seen["orders"] > 0 and seen["pending_count"] == 0,
                        timeout=wait_deadline(timeout, configuration, "recover", "the drill's orders to settle"), interval=interval,
                        what=f"the orders {wanted or '(all)'}* to settle")
    out = require(result, "at least one order, none PENDING").as_dict()
    last = result.value or {}
    out.update(by_status=last.get("by_status"), orders=last.get("orders"))
    return out
