"""A plan, the unit of AITRAPP's order intake (what its ``synthetic_plan_injector.py`` makes): ``{"plan_id",
"symbol", "direction" (LONG/SHORT or BUY/SELL), "qty", "price"?}``, and the order it stands for. Plain data,
no dependency: the injector imports it without the trader's."""
from __future__ import annotations

from typing import Any, Dict, Mapping

#: Sides a plan may name, and the order side each means (the injector script says LONG/SHORT).
SIDES = {"BUY": "BUY", "SELL": "SELL", "LONG": "BUY", "SHORT": "SELL"}


def plan_order(plan: Mapping[str, Any]) -> Dict[str, Any]:
    """The order a plan stands for (its ``plan_id`` is the ``client_order_id``); ValueError naming what is
    wrong with it."""
    if not isinstance(plan, Mapping):
        raise ValueError("a plan is a JSON object")
    plan_id, symbol = str(plan.get("plan_id") or ""), str(plan.get("symbol") or "")
    if not 1 <= len(plan_id) <= 128 or not 1 <= len(symbol) <= 64:
        raise ValueError("plan_id (1-128 characters) and symbol (1-64) are required")
    side = SIDES.get(str(plan.get("direction") or "").upper())
    if side is None:
        raise ValueError(f"direction must be LONG, SHORT, BUY or SELL, got {plan.get('direction')!r}")
    quantity, price = plan.get("qty"), plan.get("price")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ValueError(f"qty must be a positive whole number, got {quantity!r}")
    if price in ("", None):
        price = None
    elif not isinstance(price, (int, float)) or isinstance(price, bool) or price <= 0:
        raise ValueError(f"price must be a positive number, got {price!r}")
    return {"client_order_id": plan_id, "symbol": symbol.upper(), "side": side, "quantity": quantity,
            "price": price, "order_type": "LIMIT" if price is not None else "MARKET"}
