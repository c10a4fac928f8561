"""Duplicate ``client_order_id`` checks: in SQL on ``DATABASE_URL`` and through ``GET /orders``."""

from collections import Counter
from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import database_url
from chaosaitrapp.errors import ApiError, ConfigError, TargetError
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.trader.client import TraderClient

__all__ = ["duplicate_orders_sql", "duplicate_orders_api", "order_count_sql"]

DUPLICATES_SQL = "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 50"


def _connect(configuration: Configuration, secrets: Secrets):
    """A connection to ``$DATABASE_URL`` (secret ``database_url``), else to the lab's database when a
    lab describes the target (:func:`chaosaitrapp.targets.labstate.lab_for`); ConfigError otherwise."""
    import psycopg

    from chaosaitrapp.config import settings_from
    from chaosaitrapp.targets.labstate import lab_database_url, lab_for

    url = database_url(secrets)
    if not url:
        lab = lab_for(settings_from(configuration).api)
        url = lab_database_url(lab) if lab is not None else None
    if not url:
        raise ConfigError("the SQL order checks need DATABASE_URL (or secret database_url); no lab serves "
                          "this API to take it from")
    try:
        return psycopg.connect(url, connect_timeout=3)
    except psycopg.Error as exc:
        raise TargetError(f"Postgres at {scrub_text(url)}: cannot connect: {scrub_text(str(exc).strip())}")


def duplicate_orders_sql(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """The ``client_order_id`` values stored more than once in ``orders`` (``SELECT client_order_id,
    count(*) FROM orders GROUP BY 1 HAVING count(*) > 1``). Returns ``{"count", "duplicates": {id: n}}``;
    raises ConfigError without a database URL, TargetError when Postgres cannot be queried."""
    import psycopg

    with _connect(configuration, secrets) as conn:
        try:
            rows = conn.execute(DUPLICATES_SQL).fetchall()
        except psycopg.Error as exc:
            raise TargetError(f"duplicate check query failed: {str(exc).strip()}")
    return {"count": len(rows), "duplicates": {str(r[0]): int(r[1]) for r in rows}}


def order_count_sql(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Returns the number of rows in the ``orders`` table (evidence: how many orders the drill stored).
    Raises ConfigError without a database URL, TargetError when Postgres cannot be queried."""
    with _connect(configuration, secrets) as conn:
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
