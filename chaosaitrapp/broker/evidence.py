"""Evidence from the broker side of a drill, gathered once it has ended (rollbacks included).

When the drill injected a broker fault (:attr:`Run.broker_proxy` is set) or sent orders
(:attr:`Run.orders_sent`), :func:`collect` reads what the broker fault proxy (the drill's, else the one
``BROKER_PROXY`` or the lab names) saw since the sampler started (order placements with their tags, statuses and the
broker's order ids, ticker sockets, subscriptions, the first tick of each instrument per socket,
faults) and what the target says of its orders (``GET /orders``; and, when a database URL is known, the drill's
rows of the ``orders`` table: their ``client_order_id`` and ``status``, as counts per id and the status of each, since
``GET /orders`` may list the newest orders only), and appends them to the timeline
as ``broker`` records (``t`` on the sampler's clock, from the proxy's wall time) and one ``orders``
record. Nothing here judges: the checkers of :mod:`chaosaitrapp.checks.broker` do. A source that
cannot be read is recorded as an error, so the checks that need it say unknown.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.client import ProxyClient, proxy_url
from chaosaitrapp.deployment.database import connect
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.orderids import run_prefix
from chaosaitrapp.scrub import scrub_text

ORDER_FIELDS = ("client_order_id", "status", "timestamp", "symbol", "side", "quantity", "filled_quantity")
SQL_ROWS = "SELECT client_order_id, status::text FROM orders WHERE client_order_id LIKE %s"


def _proxy(run: Any, configuration: Configuration) -> Optional[str]:
    """The broker fault proxy whose history is evidence: the drill's, else the known one, else None."""
    if run.broker_proxy:
        return run.broker_proxy

    try:
        return proxy_url(configuration)
    except ConfigError:
        return None


def _history(proxy: str, started_wall: float) -> List[Dict[str, Any]]:
    records = []
    for item in ProxyClient(proxy).history(since_wall=started_wall):
        record = {k: v for k, v in item.items() if k not in ("kind", "t")}
        record.update(kind="broker", what=item.get("kind"), t=round(float(item.get("wall", 0)) - started_wall, 4),
                      proxy_t=item.get("t"))
        for key in ("arrived", "sent"):  # an order: when it reached the proxy, when it left for the broker
            if item.get(f"{key}_wall") is not None:
                record[f"{key}_t"] = round(float(item[f"{key}_wall"]) - started_wall, 4)
                record.pop(f"{key}_wall", None)
        records.append(record)
    return records


def _sql_rows(prefix: str, configuration: Configuration,
             secrets: Secrets) -> Tuple[Optional[Dict[str, int]], Optional[Dict[str, str]]]:
    """``({client_order_id: rows}, {client_order_id: status})`` of the drill's orders in Postgres (the status of
    an id's last row read), or ``(None, None)`` when no database URL is known."""
    try:
        conn = connect(configuration, secrets)
    except ConfigError:
        return None, None
    counts: Dict[str, int] = {}
    statuses: Dict[str, str] = {}
    with conn:
        for client_order_id, status in conn.execute(SQL_ROWS, (prefix.replace("_", r"\_") + "%",)):
            counts[str(client_order_id)] = counts.get(str(client_order_id), 0) + 1
            statuses[str(client_order_id)] = str(status or "")
    return counts, statuses


def collect(run: Any, configuration: Configuration = None, secrets: Secrets = None) -> Optional[Dict[str, Any]]:
    """Append the broker and order evidence to the run's timeline (module docstring); returns a summary
    (``broker_records``, ``orders``, ``errors``), or None when the drill neither injected a broker fault
    nor sent orders."""
    if run.sampler is None or (run.broker_proxy is None and not run.orders_sent):
        return None
    started_wall = float(run.sampler.started_wall)
    errors: List[str] = []
    records: List[Dict[str, Any]] = []
    history_read = False
    proxy = _proxy(run, configuration)
    if proxy is not None:
        try:
            records = _history(proxy, started_wall)
            history_read = True
        except Exception as exc:  # the checks that need it will say unknown, naming this
            errors.append(f"broker proxy history: {type(exc).__name__}: {scrub_text(str(exc), run.secrets)}")
    prefix = run_prefix(run.run_id)
    orders_record: Dict[str, Any] = {"kind": "orders", "t": round(time.time() - started_wall, 4), "prefix": prefix,
                                     "started_wall": started_wall, "orders": None, "sql_counts": None,
                                     "sql_status": None}
    try:
        _, body = run.target.json("GET", "/orders")
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list):
            raise ValueError(f"expected {{'orders': [...]}}, got {str(body)[:80]!r}")
        orders_record["orders"] = [{k: o.get(k) for k in ORDER_FIELDS} for o in orders if isinstance(o, dict)]
    except Exception as exc:
        errors.append(f"target /orders: {type(exc).__name__}: {scrub_text(str(exc), run.secrets)}")
    try:
        orders_record["sql_counts"], orders_record["sql_status"] = _sql_rows(prefix, configuration, secrets)
    except Exception as exc:
        errors.append(f"Postgres order counts: {type(exc).__name__}: {scrub_text(str(exc), run.secrets)}")
    orders_record["errors"] = errors
    if history_read:
        records.append({"kind": "broker", "what": "collected", "t": orders_record["t"]})  # history read: not None
    run.sampler.append(records + [orders_record])
    return {"broker_records": len(records), "orders": len(orders_record["orders"] or []), "errors": errors}
