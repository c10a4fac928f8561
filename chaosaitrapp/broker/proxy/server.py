"""The broker fault proxy: a Kite-aware HTTP and WebSocket reverse proxy between a trader and its broker.

One listening port serves both Kite roots: plain HTTP requests go to the REST upstream
(``api.kite.trade`` in production, the lab's simulator here), WebSocket upgrades to the ticker upstream
(``ws.kite.trade``). A second, separate port serves the control API the extension's actions use
(:mod:`chaosaitrapp.faultproxy.control`); its history holds every order placement seen (tag, status,
broker order id, dropped?), every session made (``POST /session/token``: its status), the first use of each
new access token (``token_new``: an ordinal, never the token), the ticker sockets (open, subscribe, first tick of each instrument,
closed) and the faults.

The faults are in :mod:`chaosaitrapp.broker.proxy.faults`, the state (history, tokens, sockets) in
:mod:`~chaosaitrapp.broker.proxy.state`, the ticker relay in :mod:`~chaosaitrapp.broker.proxy.ticker`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from chaosaitrapp.aitrapp import FENCE_HEADER, INSTANCE_HEADER
from chaosaitrapp.broker.proxy.state import (
    BAD_TOKEN,
    HOP_BY_HOP,
    SESSION_PATHS,
    SESSION_TOKEN_PATH,
    ProxyState,
    access_token_of,
    kite_error,
)
from chaosaitrapp.broker.proxy.ticker import relay
from chaosaitrapp.faultproxy.control import control_app

log = logging.getLogger("chaosaitrapp.broker.proxy")


async def _forward(state: ProxyState, request: web.Request, body: bytes) -> web.Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    url = state.upstream + request.path_qs
    assert state.session is not None
    try:
        async with state.session.request(request.method, url, headers=headers, data=body or None,
                                         allow_redirects=False) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=upstream.status, body=payload, headers=out)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        state.stats["upstream_errors"] += 1
        return kite_error(502, "NetworkException", f"broker unreachable through the proxy: {type(exc).__name__}")


async def handle(request: web.Request) -> web.StreamResponse:
    """Every request on the listening port: a ticker socket or a REST call, through the active faults."""
    state: ProxyState = request.app["state"]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await relay(state, request)
    state.stats["requests"] += 1
    body = await request.read()
    token = access_token_of(request.headers.get("Authorization"))
    state.see(token)
    is_order = request.method == "POST" and request.path.startswith("/orders/")
    form = dict(parse_qsl(body.decode("utf-8", "replace"))) if is_order else {}
    # who sent it (X-AITRAPP-Instance, else unknown), under which lock grant (X-AITRAPP-Fence, if any), and
    # when it arrived here: the split-brain history (chaosaitrapp.checks.history)
    order = {"tag": form.get("tag"), "tradingsymbol": form.get("tradingsymbol"),
             "transaction_type": form.get("transaction_type"), "quantity": form.get("quantity"),
             "instance": request.headers.get(INSTANCE_HEADER), "fence": request.headers.get(FENCE_HEADER),
             "arrived_wall": round(time.time(), 6)} if is_order else {}
    if is_order:
        state.stats["orders"] += 1
    if not request.path.startswith(SESSION_PATHS) and state.stale_token(token):
        state.stats["refused_by_fault"] += 1
        if is_order:
            state.record("order", **order, status=403, by="proxy", fault="token_invalidated")
        return kite_error(403, "TokenException", BAD_TOKEN)
    if is_order:
        for fault in state.faults.active("rate_limit"):
            fault.hits += 1
            state.stats["refused_by_fault"] += 1
            state.record("order", **order, status=429, by="proxy", fault="rate_limit")
            retry = fault.params["retry_after"]
            return kite_error(429, "NetworkException", "Too many requests", {"Retry-After": f"{retry:g}"})
    for fault in state.faults.active("server_error"):
        if request.path.startswith(fault.params["path"]):
            fault.hits += 1
            state.stats["refused_by_fault"] += 1
            if is_order:
                state.record("order", **order, status=fault.params["status"], by="proxy", fault="server_error")
            return kite_error(fault.params["status"], "NetworkException", "Service unavailable")
    delay = sum(f.params["delay_ms"] for f in state.faults.active("latency")) / 1000.0
    if delay:
        await asyncio.sleep(delay)  # the injected latency itself
    if not await state.held(request, "both", "requests", order=is_order):  # cut before it left: never seen
        if is_order:
            state.record("order", **order, status=None, by="proxy", fault="partition", delivered=False)
        return web.Response(status=504)
    if is_order:
        order["sent_wall"] = round(time.time(), 6)  # when it left for the broker (after any hold)
    response = await _forward(state, request, body)
    lost = not await state.held(request, "both", "replies")  # the answer, cut on its way back
    if request.method == "POST" and request.path.rstrip("/") == SESSION_TOKEN_PATH:
        # a session made at the broker: the refresh the token drill looks for (the status, never the token)
        state.record("session", status=response.status, instance=request.headers.get(INSTANCE_HEADER))
    if not is_order:
        if request.method == "GET" and response.status == 200:
            rewritten = state.scripts.rewrite(request.path, response.body)
            if rewritten is not None:
                response.body = rewritten
        return response
    order_id = None
    try:
        order_id = (json.loads(response.body or b"{}").get("data") or {}).get("order_id")
    except (ValueError, AttributeError):
        pass
    scripted = state.order_state_fault() if response.status == 200 and order_id else None
    if scripted is not None:  # from now on the broker shows this order as the script says
        scripted.hits += 1
        script = state.scripts.add(str(order_id), scripted.kind, scripted.id, scripted.params, form)
        order["script"] = {"kind": script.kind, "fault_id": script.fault_id, "states": script.states,
                           "answered_wall": script.answered_wall, "price": script.price}
    hold = None if lost else next((f for f in state.faults.active("hold_reply")
                                   if f.params["count"] == -1 or f.hits < f.params["count"]), None)
    if hold is not None:
        hold.hits += 1
        state.record("order", **order, status=response.status, order_id=order_id, by="upstream", held=True,
                     fault="hold_reply")
        delivered = await state.held_reply(request, hold)
        state.record("reply_released", tag=order.get("tag"), order_id=order_id, delivered=delivered,
                     fault="hold_reply")
        if not delivered:
            return web.Response(status=200)  # its client is gone: nobody reads this
        return response
    drop = next((f for f in state.faults.active("drop_reply")
                 if f.params["count"] == -1 or f.hits < f.params["count"]), None)
    state.record("order", **order, status=response.status, order_id=order_id, by="upstream",
                 dropped=lost or drop is not None, fault="partition" if lost else "drop_reply" if drop else None)
    if drop is None:
        return response
    drop.hits += 1
    await asyncio.sleep(drop.params["hold_s"])  # the reply is held back, then the connection dropped
    if request.transport is not None:
        request.transport.close()  # the reply never comes: the target sees its connection end
    return web.Response(status=200)

def proxy_app(state: ProxyState) -> web.Application:
    """The listening port's app: every path, every method, through :func:`handle`."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app["state"] = state

    async def start(app: web.Application) -> None:
        state.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=5),
                                              auto_decompress=False)
        # a ticker socket lives for hours: no total timeout (a session's total would close it after 30 s)
        state.ws_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))

    async def stop(app: web.Application) -> None:
        for session in (state.session, state.ws_session):
            if session is not None:
                await session.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve(listen_host: str, listen_port: int, control_host: str, control_port: int, upstream: str,
                ticker_upstream: str, info: Optional[Dict[str, Any]] = None) -> None:
    """Run both apps until cancelled."""
    state = ProxyState(upstream, ticker_upstream)
    runners: List[web.AppRunner] = []
    details = {"listen": f"http://{listen_host}:{listen_port}", "upstream": upstream,
               "ticker_upstream": ticker_upstream, **(info or {})}
    for app, host, port in ((proxy_app(state), listen_host, listen_port),
                            (control_app(state, details), control_host, control_port)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        runners.append(runner)
    log.info("broker fault proxy on %s -> %s (ticker %s), control on %s:%s", details["listen"], upstream,
             ticker_upstream, control_host, control_port)
    try:
        await asyncio.Event().wait()
    finally:
        for runner in runners:
            await runner.cleanup()
