"""Duplicate ``client_order_id`` checks: in SQL on ``DATABASE_URL`` and through ``GET /orders``."""

from collections import Counter
from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import database_url
from chaosaitrapp.errors import ApiError, ConfigError, TargetError
from chaosaitrapp.redact import redact_text
from chaosaitrapp.trader.client import TraderClient

__all__ = ["duplicate_orders_sql", "duplicate_orders_api", "order_count_sql"]

DUPLICATES_SQL = "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 50"


def _connect(secrets: Secrets):
    import psycopg

    url = database_url(secrets)
    if not url:
        from chaosaitrapp.lab.secrets import lab_database_url

        url = lab_database_url()
    if not url:
        raise ConfigError("duplicate check in SQL needs DATABASE_URL (or a running lab)")
    try:
        return psycopg.connect(url, connect_timeout=3)
    except psycopg.Error as exc:
        raise TargetError(f"Postgres at {redact_text(url)}: cannot connect: {redact_text(str(exc).strip())}")


def duplicate_orders_sql(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``{"count", "duplicates"}``: ``client_order_id`` values stored more than once in ``orders``
    (``SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1``)."""
    import psycopg

    with _connect(secrets) as conn:
        try:
            rows = conn.execute(DUPLICATES_SQL).fetchall()
        except psycopg.Error as exc:
            raise TargetError(f"duplicate check query failed: {str(exc).strip()}")
    return {"count": len(rows), "duplicates": {str(r[0]): int(r[1]) for r in rows}}


def order_count_sql(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Number of rows in the ``orders`` table (for evidence: how many orders the drill stored)."""
    with _connect(secrets) as conn:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


def duplicate_orders_api(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``{"count", "duplicates", "orders"}`` from ``GET /orders``: ids listed more than once."""
    _, body = TraderClient.from_configuration(configuration, secrets).json("GET", "/orders")
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        raise ApiError(f"/orders: expected {{'orders': [...]}}, got {str(body)[:80]!r}")
    counts = Counter(o.get("client_order_id") for o in orders if isinstance(o, dict))
    dups = {str(k): v for k, v in counts.items() if k is not None and v > 1}
    return {"count": len(dups), "duplicates": dict(list(dups.items())[:50]), "orders": len(orders)}
