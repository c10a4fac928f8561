"""The broker simulator's app factory, :func:`create_app`: the parts of Kite Connect v3 AITRAPP uses,
as the official ``kiteconnect`` client expects them.

REST (errors are ``{"status": "error", "error_type", "message"}`` with Kite's HTTP codes; success is
``{"status": "success", "data": ...}``; every call but the login needs ``X-Kite-Version: 3`` and, but
the session calls, ``Authorization: token api_key:access_token``):

- ``GET /connect/login?v=3&api_key=``: 302 to ``/connect/finish?request_token=...&action=login&status=success``
  (the lab approves at once); ``GET /connect/finish`` echoes the request token;
- ``POST /session/token`` (form: api_key, request_token, checksum), ``DELETE /session/token``;
- ``GET /user/profile``; ``POST /orders/{variety}``, ``GET /orders``, ``GET /orders/{order_id}``;
- ``GET /quote/ltp?i=EXCHANGE:SYMBOL``; ``GET /instruments``, ``GET /instruments/{exchange}`` (CSV).

Ticker (WebSocket at ``/`` and ``/ws``, ``?api_key=&access_token=``): handshake refused with HTTP 403 for
a bad or expired token; JSON ``{"a": "subscribe"|"unsubscribe"|"mode", "v": ...}`` from the client;
binary tick messages every ``tick_interval`` for the subscribed instruments in their mode (``quote``
after a subscribe, as Kite), and a 1-byte heartbeat every ``heartbeat_interval``.

Lab only (no Kite equivalent): ``POST /lab/expire-tokens`` (the morning expiry of every token),
``GET /lab/orders`` (every accepted order with its tag and the broker's receive time), ``GET /lab/stats``,
``GET /health``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, Optional
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from chaosaitrapp.lab.broker import instruments as catalogue
from chaosaitrapp.lab.broker.book import OrderBook, OrderRefused
from chaosaitrapp.lab.broker.market import Market
from chaosaitrapp.lab.broker.packets import HEARTBEAT, MODES, message, packet
from chaosaitrapp.lab.broker.sessions import SessionError, Sessions
from chaosaitrapp.lab.broker.settings import BrokerSettings

log = logging.getLogger("chaosaitrapp.lab.broker")


def _error(status: int, error_type: str, text: str, headers: Optional[Dict[str, str]] = None) -> JSONResponse:
    return JSONResponse(status_code=status, headers=headers,
                        content={"status": "error", "error_type": error_type, "message": text, "data": None})


async def _form(request: Request) -> Dict[str, str]:
    """The request's form-encoded body (what kiteconnect sends on POST), last value per key."""
    pairs = parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v for k, v in pairs}


def _ok(data: Any) -> JSONResponse:
    return JSONResponse(content={"status": "success", "data": data})


class Broker:
    """Everything the simulator holds: sessions, the market, the order book, the ticker's sockets."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.sessions = Sessions(settings.api_key, settings.api_secret, settings.token_ttl)
        self.market = Market()
        self.book = OrderBook(self.market, rate_limit=settings.rate_limit,
                              rate_limit_minute=settings.rate_limit_minute, fill_delay=settings.fill_delay)
        self.ticker_connections = 0
        self.ticker_refused = 0
        self.open_sockets = 0

    def authorize(self, request: Request) -> Optional[JSONResponse]:
        """None when the request carries Kite's version header and a live token, else the error to answer."""
        if request.headers.get("x-kite-version") != "3":
            return _error(400, "InputException", "Invalid or missing `X-Kite-Version` header.")
        try:
            self.sessions.check(request.headers.get("authorization"))
        except SessionError as exc:
            return _error(exc.status, exc.error_type, str(exc))
        return None


def create_app(settings: Optional[BrokerSettings] = None) -> FastAPI:
    """The simulator app; ``settings`` default to :meth:`BrokerSettings.from_env`."""
    settings = settings or BrokerSettings.from_env()
    broker = Broker(settings)
    app = FastAPI(title="AITRAPP lab broker simulator (Kite Connect v3)")
    app.state.broker = broker

    @app.get("/health")
    async def health() -> Dict[str, Any]:
        return {"status": "healthy"}

    @app.get("/connect/login")
    async def connect_login(api_key: str = "", v: str = "") -> Response:
        try:
            token = broker.sessions.login(api_key)
        except SessionError as exc:
            return _error(exc.status, exc.error_type, str(exc))
        return RedirectResponse(f"/connect/finish?request_token={token}&action=login&status=success", status_code=302)

    @app.get("/connect/finish")
    async def connect_finish(request_token: str = "", status: str = "") -> Dict[str, Any]:
        return {"request_token": request_token, "status": status}

    @app.post("/session/token")
    async def session_token(request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            access, _ = broker.sessions.exchange(str(form.get("api_key", "")), str(form.get("request_token", "")),
                                                 str(form.get("checksum", "")))
        except SessionError as exc:
            return _error(exc.status, exc.error_type, str(exc))
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        return _ok({"user_id": "LAB001", "user_name": "AITRAPP Lab", "user_shortname": "Lab", "email": "lab@invalid",
                    "user_type": "individual", "broker": "ZERODHA", "exchanges": ["NSE", "NFO"],
                    "products": ["CNC", "NRML", "MIS"], "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
                    "api_key": settings.api_key, "access_token": access, "public_token": access[:16],
                    "refresh_token": "", "login_time": now, "avatar_url": None})

    @app.delete("/session/token")
    async def session_delete(api_key: str = "", access_token: str = "") -> JSONResponse:
        try:
            return _ok(broker.sessions.invalidate(api_key, access_token))
        except SessionError as exc:
            return _error(exc.status, exc.error_type, str(exc))

    @app.get("/user/profile")
    async def profile(request: Request) -> JSONResponse:
        refused = broker.authorize(request)
        if refused:
            return refused
        return _ok({"user_id": "LAB001", "user_name": "AITRAPP Lab", "user_type": "individual", "email": "lab@invalid",
                    "broker": "ZERODHA", "exchanges": ["NSE", "NFO"], "products": ["CNC", "NRML", "MIS"],
                    "order_types": ["MARKET", "LIMIT", "SL", "SL-M"]})

    @app.post("/orders/{variety}")
    async def place_order(variety: str, request: Request) -> JSONResponse:
        refused = broker.authorize(request)
        if refused:
            return refused
        form = await _form(request)
        try:
            order = broker.book.place(variety, form, {k: v for k, v in request.headers.items()
                                                      if k.lower().startswith("x-aitrapp-")})
        except OrderRefused as exc:
            headers = {"Retry-After": f"{exc.retry_after:.3f}"} if exc.retry_after else None
            return _error(exc.status, exc.error_type, str(exc), headers)
        return _ok({"order_id": order.order_id})

    @app.get("/orders")
    async def order_book(request: Request) -> JSONResponse:
        refused = broker.authorize(request)
        if refused:
            return refused
        return _ok([broker.book.view(o) for o in broker.book.orders])

    @app.get("/orders/{order_id}")
    async def order_history(order_id: str, request: Request) -> JSONResponse:
        refused = broker.authorize(request)
        if refused:
            return refused
        try:
            return _ok(broker.book.history(order_id))
        except KeyError:
            return _error(400, "InputException", f"Couldn't find that `order_id` {order_id}.")

    @app.get("/quote/ltp")
    async def quote_ltp(request: Request) -> JSONResponse:
        refused = broker.authorize(request)
        if refused:
            return refused
        out = {}
        for key in request.query_params.getlist("i"):
            instrument = catalogue.BY_KEY.get(key)
            if instrument is not None:
                out[key] = {"instrument_token": instrument.token, "last_price": broker.market.last_price(instrument.token)}
        return _ok(out)

    @app.get("/instruments")
    @app.get("/instruments/{exchange}")
    async def instrument_dump(request: Request, exchange: Optional[str] = None) -> Response:
        refused = broker.authorize(request)
        if refused:
            return refused
        return PlainTextResponse(catalogue.dump(exchange), media_type="text/csv")

    @app.post("/lab/expire-tokens")
    async def expire_tokens() -> Dict[str, Any]:
        return {"status": "success", "expired": broker.sessions.expire_all()}

    @app.get("/lab/orders")
    async def lab_orders() -> Dict[str, Any]:
        return {"orders": [{"order_id": o.order_id, "tag": o.tag, "tradingsymbol": o.tradingsymbol,
                            "transaction_type": o.transaction_type, "quantity": o.quantity,
                            "received_mono": o.placed_mono, "received_wall": o.placed_wall, "headers": o.headers}
                           for o in broker.book.orders]}

    @app.get("/lab/stats")
    async def stats() -> Dict[str, Any]:
        return {"orders": len(broker.book.orders), "rejected_429": broker.book.rejected_429,
                "rejected_fence": broker.book.rejected_fence,
                "tokens_issued": broker.sessions.issued, "token_refusals": broker.sessions.refused,
                "live_tokens": len(broker.sessions.access_tokens), "ticker_connections": broker.ticker_connections,
                "ticker_refused": broker.ticker_refused, "open_sockets": broker.open_sockets}

    async def ticker(ws: WebSocket) -> None:
        try:
            broker.sessions.check_token(ws.query_params.get("api_key", ""), ws.query_params.get("access_token", ""))
        except SessionError:
            broker.ticker_refused += 1
            await ws.close()  # before accept: the handshake is answered HTTP 403
            return
        await ws.accept()
        broker.ticker_connections += 1
        broker.open_sockets += 1
        modes: Dict[int, str] = {}

        async def read() -> None:
            while True:
                raw = await ws.receive_text()
                try:
                    request = json.loads(raw)
                except ValueError:
                    continue
                action, value = request.get("a"), request.get("v")
                if action == "subscribe" and isinstance(value, list):
                    for token in value:
                        if int(token) in catalogue.BY_TOKEN:
                            modes[int(token)] = "quote"
                elif action == "unsubscribe" and isinstance(value, list):
                    for token in value:
                        modes.pop(int(token), None)
                elif action == "mode" and isinstance(value, list) and len(value) == 2 and value[0] in MODES:
                    for token in value[1]:
                        if int(token) in modes:
                            modes[int(token)] = value[0]

        async def write() -> None:
            last_beat = 0.0
            while True:
                broker.market.step()
                if modes:
                    await ws.send_bytes(message(packet(broker.market.quotes[t], m) for t, m in list(modes.items())))
                if time.monotonic() - last_beat >= settings.heartbeat_interval:
                    await ws.send_bytes(HEARTBEAT)
                    last_beat = time.monotonic()
                await asyncio.sleep(settings.tick_interval)

        tasks = [asyncio.create_task(read()), asyncio.create_task(write())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            broker.open_sockets -= 1

    app.add_api_websocket_route("/", ticker)
    app.add_api_websocket_route("/ws", ticker)
    return app
