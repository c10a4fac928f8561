"""The trader's HTTP API, exactly the contract's shapes (``shared/design/AITRAPP_CONTRACT.md``).

Thin routes over :class:`~chaosaitrapp.lab.trader.service.Trader`. ``POST /orders`` exists in
the lab only (PAPER mode) so drills can inject a burst; with the ``spool`` intake it is absent, like
AITRAPP's, and ``POST /plans`` takes a plan instead (:mod:`chaosaitrapp.lab.trader.intake`).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from chaosaitrapp.lab.defects import refuse_in_live
from chaosaitrapp.lab.errors import DefectRefused
from chaosaitrapp.lab.plans import SIDES, plan_order
from chaosaitrapp.lab.trader.orchestrator import MANUAL
from chaosaitrapp.lab.trader.service import Trader
from chaosaitrapp.lab.trader.store import StoreUnavailable

LIVE_CONFIRMATION = "CONFIRM LIVE TRADING"


def now_iso() -> str:
    """UTC now, ISO 8601."""
    return datetime.now(timezone.utc).isoformat()


class ModeRequest(BaseModel):
    """Body of ``POST /mode``."""

    mode: str
    confirmation: Optional[str] = None
    override_reason: Optional[str] = None


class OrderRequest(BaseModel):
    """Body of the lab-only ``POST /orders``."""

    client_order_id: str = Field(min_length=1, max_length=128)
    symbol: str = Field(min_length=1, max_length=64)
    side: str
    quantity: int = Field(gt=0)
    price: Optional[float] = Field(default=None, gt=0)


def _order_json(row: Dict[str, Any]) -> Dict[str, Any]:
    created = row.get("created_at")
    return {
        "order_id": row["order_id"],
        "client_order_id": row["client_order_id"],
        "timestamp": created.isoformat() if hasattr(created, "isoformat") else created,
        "symbol": row["symbol"],
        "side": row["side"],
        "quantity": int(row["quantity"]),
        "price": row["price"],
        "status": row["status"],
        "filled_quantity": int(row["filled_quantity"]),
    }


def _store_down(what: str) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        headers={"Retry-After": "1"},
        content={"detail": f"{what}: the order store (Postgres) is unavailable; nothing was accepted. "
                           "Retry later with the same client_order_id."},
    )


def build_router(trader: Trader) -> APIRouter:
    """Every endpoint, bound to ``trader``."""
    router = APIRouter()
    settings = trader.settings

    @router.get("/")
    async def root() -> Dict[str, Any]:
        return {"service": "aitrapp-lab-trader", "mode": trader.mode}

    @router.get("/health")
    async def health() -> Dict[str, Any]:
        if "health_blocks_on_db" in trader.defects:  # defect: /health waits on Postgres, without a timeout
            await trader.store.ping_unbounded()
        return {"status": "healthy", "mode": trader.mode, "is_paused": trader.api_paused, "timestamp": now_iso()}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        ages = trader.orchestrator.ages()
        leader = trader.leader_value
        beats_ok = all(age < settings.heartbeat_max for age in ages.values())
        ok = beats_ok if "ready_lies" in trader.defects else (leader == 1 and beats_ok)
        body: Dict[str, Any] = {
            "ok": ok,
            "ready": ok,
            "status": "ready" if ok else "not_ready",
            "mode": trader.mode,
            "leader": leader,
            "marketdata_heartbeat": round(ages["marketdata"], 3),
            "order_stream_heartbeat": round(ages["order_stream"], 3),
            "scan_heartbeat": round(ages["scan"], 3),
        }
        if not ok:
            body["heartbeat_max"] = settings.heartbeat_max
        return JSONResponse(status_code=200 if ok else 503, content=body)

    @router.get("/state")
    async def state() -> Dict[str, Any]:
        return {
            "timestamp": now_iso(),
            "mode": trader.mode,
            "is_paused": trader.orchestrator.is_paused,
            "is_market_open": True,
            "positions_count": len(trader.positions),
            "trades_today": trader.trades_today,
            "daily_pnl": trader.daily_pnl(),
            "marketdata_connected": trader.market.connected,
            "websocket_connected": trader.market.connected,
            "leader": trader.leader_value,
            "pause_reasons": sorted(trader.orchestrator.pause_reasons),
            "throttle_queue_depth": trader.throttle.depth,
            "instance_id": settings.instance_id,
        }

    @router.post("/pause")
    async def pause() -> Dict[str, str]:
        trader.orchestrator.pause(MANUAL)
        trader.api_paused = True
        trader.background(trader.audit("pause", {}))
        return {"status": "paused"}

    @router.post("/resume")
    async def resume() -> Dict[str, str]:
        trader.orchestrator.resume(MANUAL)
        trader.api_paused = False
        trader.background(trader.audit("resume", {}))
        return {"status": "resumed"}

    @router.post("/flatten")
    async def flatten(reason: str = Query("manual")) -> Dict[str, Any]:
        started = time.perf_counter()
        status = await trader.flatten(reason)
        return {"status": status, "reason": reason, "duration_seconds": round(time.perf_counter() - started, 4),
                "timestamp": now_iso()}

    @router.post("/mode")
    async def mode(body: ModeRequest) -> JSONResponse:
        wanted = body.mode.upper()
        if wanted not in ("PAPER", "LIVE"):
            return JSONResponse(status_code=400, content={"detail": f"mode must be PAPER or LIVE, got {body.mode!r}"})
        if wanted == "LIVE":
            if body.confirmation != LIVE_CONFIRMATION:
                return JSONResponse(status_code=400, content={
                    "detail": f"LIVE mode requires confirmation text '{LIVE_CONFIRMATION}'"})
            try:
                refuse_in_live(wanted, trader.defects)
            except DefectRefused as exc:
                return JSONResponse(status_code=409, content={"detail": str(exc)})
        previous, trader.mode = trader.mode, wanted
        trader.background(trader.audit("mode", {"from": previous, "to": wanted,
                                                 "override_reason": body.override_reason}))
        return JSONResponse(content={"status": "success", "mode": wanted, "previous_mode": previous})

    @router.get("/orders")
    async def list_orders() -> Response:
        try:
            rows = await trader.store.list_orders()
        except StoreUnavailable:
            return _store_down("GET /orders")
        orders = [_order_json(r) for r in rows]
        return JSONResponse(content={"orders": orders, "count": len(orders)})

    async def take(order: Dict[str, Any], route: str) -> Response:
        try:
            row, created = await trader.submit(order)
        except StoreUnavailable:
            return _store_down(route)
        content = {**_order_json(row), "duplicate": not created}
        return JSONResponse(status_code=202 if created else 200, content=content)

    if trader.settings.order_spool:  # the spool intake: no POST /orders, like AITRAPP
        @router.post("/plans")
        async def take_plan(request: Request) -> Response:
            if trader.mode != "PAPER":
                return JSONResponse(status_code=403, content={"detail": "POST /plans works in PAPER mode only"})
            try:
                order = plan_order(await request.json())
            except ValueError as exc:
                return JSONResponse(status_code=422, content={"detail": f"not a plan: {exc}"})
            return await take(order, "POST /plans")

    async def place_order(body: OrderRequest) -> Response:
        if trader.mode != "PAPER":
            return JSONResponse(status_code=403, content={
                "detail": f"POST /orders is a lab-only injection endpoint and works in PAPER mode only; "
                          f"the trader is in {trader.mode} mode"})
        side = SIDES.get(body.side.upper())
        if side is None:
            return JSONResponse(status_code=422, content={"detail": f"side must be BUY or SELL, got {body.side!r}"})
        order = {"client_order_id": body.client_order_id, "symbol": body.symbol.upper(), "side": side,
                 "quantity": body.quantity, "price": body.price,
                 "order_type": "LIMIT" if body.price is not None else "MARKET"}
        return await take(order, "POST /orders")

    if not trader.settings.order_spool:
        router.add_api_route("/orders", place_order, methods=["POST"])

    @router.post("/market-data/restart")
    async def restart_market_data() -> Dict[str, Any]:
        token = trader.kite.access_token
        if token is None:
            return {"status": "success", "message": "no broker session yet: nothing to restart", "connected": False,
                    "waited_seconds": 0.0, "timestamp": now_iso()}
        connected, waited = await trader.market.restart(token, trader.profile.md_restart_pause,
                                                        trader.profile.md_restart_wait)
        message = "market data reconnected" if connected else "market data restarted but not connected yet"
        return {"status": "success", "message": message, "connected": connected, "waited_seconds": round(waited, 3),
                "timestamp": now_iso()}

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(trader.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
