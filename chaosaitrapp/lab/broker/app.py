"""The broker simulator's app factory, :func:`create_app`.

Endpoints (Kite-like; errors are ``{"status": "error", "error_type", "message"}``):

- ``POST /session/token`` ``{"api_key", "api_secret"}`` -> ``{"status": "success", "data": {"access_token", "expires_in"}}``;
- ``POST /session/expire``: lab control, expires every token now (the next call gets a TokenException);
- ``POST /orders`` (also ``/orders/regular``), header ``Authorization: token <api_key>:<access_token>``:
  403 ``TokenException`` when the token is unknown or expired, 429 beyond ``rate_limit`` orders
  in any 1-second window (``Retry-After`` in seconds), else ``{"status": "success", "data": {"order_id"}}``.
  Idempotent on ``tag`` (the trader's client_order_id): a repeat returns the same order id;
- ``GET /orders``: the order book; an order is ``OPEN`` then ``COMPLETE`` after ``fill_delay``;
- ``GET /health``; ``GET /stats`` (accepted, rejected_429, tokens_issued);
- WebSocket ``/ws/ticks``: a tick ``{"instrument", "last_price", "timestamp"}`` per subscribed symbol
  every ``tick_interval`` seconds.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import random
import secrets
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Deque, Dict, List, Optional

from fastapi import FastAPI, Header, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from chaosaitrapp.lab.broker.settings import BrokerSettings


def _error(status: int, error_type: str, message: str, headers: Optional[Dict[str, str]] = None) -> JSONResponse:
    return JSONResponse(status_code=status, headers=headers,
                        content={"status": "error", "error_type": error_type, "message": message})


class BrokerState:
    """Tokens, orders, the rate window and prices."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.tokens: Dict[str, float] = {}  # token -> expiry (monotonic)
        self.orders: List[Dict[str, Any]] = []
        self.by_tag: Dict[str, Dict[str, Any]] = {}
        self.window: Deque[float] = deque()
        self.prices: Dict[str, float] = {"NIFTY": 22000.0, "BANKNIFTY": 48000.0}
        self.stats = {"accepted": 0, "rejected_429": 0, "tokens_issued": 0, "token_exceptions": 0}
        self.next_id = 250000000000

    def token_valid(self, authorization: Optional[str]) -> bool:
        """True when the Authorization header carries a live token."""
        if not authorization or not authorization.startswith("token ") or ":" not in authorization:
            return False
        api_key, _, token = authorization[len("token "):].partition(":")
        expiry = self.tokens.get(token)
        return api_key == self.settings.api_key and expiry is not None and expiry > time.monotonic()

    def rate_wait(self) -> float:
        """0 and count the order when within the limit, else the seconds until a slot frees."""
        now = time.monotonic()
        while self.window and now - self.window[0] >= 1.0:
            self.window.popleft()
        if len(self.window) >= self.settings.rate_limit:
            return max(0.01, 1.0 - (now - self.window[0]))
        self.window.append(now)
        return 0.0

    def view(self, order: Dict[str, Any]) -> Dict[str, Any]:
        """The order as ``GET /orders`` shows it now (fills after ``fill_delay``)."""
        filled = time.monotonic() - order["placed"] >= self.settings.fill_delay
        status = "COMPLETE" if filled else "OPEN"
        return {
            "order_id": order["order_id"],
            "tag": order["tag"],
            "tradingsymbol": order["tradingsymbol"],
            "transaction_type": order["transaction_type"],
            "quantity": order["quantity"],
            "price": order["price"],
            "order_type": order["order_type"],
            "status": status,
            "filled_quantity": order["quantity"] if filled else 0,
            "average_price": (order["price"] or self.prices.get(order["tradingsymbol"], 100.0)) if filled else 0,
            "order_timestamp": order["timestamp"],
        }


def create_app(settings: Optional[BrokerSettings] = None) -> FastAPI:
    """The simulator app; ``settings`` default to :meth:`BrokerSettings.from_env`."""
    settings = settings or BrokerSettings.from_env()
    state = BrokerState(settings)
    app = FastAPI(title="AITRAPP lab broker simulator")
    app.state.broker = state

    @app.get("/health")
    async def health() -> Dict[str, Any]:
        return {"status": "healthy"}

    @app.get("/stats")
    async def stats() -> Dict[str, Any]:
        return {**state.stats, "orders": len(state.orders)}

    @app.post("/session/token")
    async def session_token(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except Exception:
            body = {}
        api_key = str(body.get("api_key", ""))
        secret = str(body.get("api_secret", ""))
        if api_key != settings.api_key or (
                settings.api_secret and not hmac.compare_digest(secret.encode(), settings.api_secret.encode())):
            return _error(403, "TokenException", "Invalid `api_key` or `api_secret`.")
        token = secrets.token_hex(16)
        state.tokens[token] = time.monotonic() + settings.token_ttl
        state.stats["tokens_issued"] += 1
        return JSONResponse(content={"status": "success",
                                     "data": {"access_token": token, "expires_in": settings.token_ttl}})

    @app.post("/session/expire")
    async def session_expire() -> Dict[str, Any]:
        count = len(state.tokens)
        state.tokens.clear()
        return {"status": "success", "expired": count}

    @app.post("/orders")
    @app.post("/orders/regular")
    async def place_order(request: Request, authorization: Optional[str] = Header(None)) -> JSONResponse:
        if not state.token_valid(authorization):
            state.stats["token_exceptions"] += 1
            return _error(403, "TokenException", "Incorrect `api_key` or `access_token`: token expired or invalid.")
        wait = state.rate_wait()
        if wait > 0:
            state.stats["rejected_429"] += 1
            return _error(429, "NetworkException", "Too many requests", headers={"Retry-After": f"{wait:.3f}"})
        try:
            body = await request.json()
        except Exception:
            return _error(400, "InputException", "body must be JSON")
        missing = [k for k in ("tradingsymbol", "transaction_type", "quantity") if k not in body]
        if missing:
            return _error(400, "InputException", f"missing {', '.join(missing)}")
        tag = body.get("tag")
        if tag and tag in state.by_tag:
            return JSONResponse(content={"status": "success", "data": {"order_id": state.by_tag[tag]["order_id"]}})
        state.next_id += 1
        order = {
            "order_id": str(state.next_id),
            "tag": tag,
            "tradingsymbol": str(body["tradingsymbol"]),
            "transaction_type": str(body["transaction_type"]),
            "quantity": int(body["quantity"]),
            "price": body.get("price"),
            "order_type": body.get("order_type", "LIMIT"),
            "placed": time.monotonic(),
            "timestamp": datetime.now(timezone.utc).isoformat(),
        }
        state.orders.append(order)
        if tag:
            state.by_tag[tag] = order
        state.stats["accepted"] += 1
        return JSONResponse(content={"status": "success", "data": {"order_id": order["order_id"]}})

    @app.get("/orders")
    async def order_book(authorization: Optional[str] = Header(None)) -> JSONResponse:
        if not state.token_valid(authorization):
            state.stats["token_exceptions"] += 1
            return _error(403, "TokenException", "Incorrect `api_key` or `access_token`: token expired or invalid.")
        return JSONResponse(content={"status": "success", "data": [state.view(o) for o in state.orders]})

    @app.websocket("/ws/ticks")
    async def ticks(ws: WebSocket) -> None:
        await ws.accept()
        symbols: List[str] = list(state.prices)

        async def read_subscriptions() -> None:
            nonlocal symbols
            while True:
                request = json.loads(await ws.receive_text())
                if request.get("a") == "subscribe":
                    symbols = [str(s) for s in request.get("v", [])] or symbols

        reader = asyncio.create_task(read_subscriptions())
        try:
            while not reader.done():
                for symbol in symbols:
                    price = state.prices.get(symbol, 100.0) * (1 + random.uniform(-0.0005, 0.0005))
                    state.prices[symbol] = round(price, 2)
                    await ws.send_text(json.dumps({"instrument": symbol, "last_price": state.prices[symbol],
                                                   "timestamp": datetime.now(timezone.utc).isoformat()}))
                await asyncio.sleep(settings.tick_interval)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            reader.cancel()

    return app
