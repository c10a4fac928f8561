"""The ticker half of the broker fault proxy: KiteTicker sockets relayed frame by frame to the ticker
upstream, through the WebSocket faults (refuse, stall, close, drop subscriptions).

Both directions are relayed as they come, pings and pongs included (the upstream may ping; a pong
that never comes back would make it hang up). A stalled socket passes nothing either way, and if the
upstream hangs up behind the blackhole the target is not told until the stall ends. The history gets
each socket's open, subscriptions, first tick of each instrument (again after a stall ends), close.
"""
from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import WSMsgType, web

from chaosaitrapp.broker.proxy.state import ProxyState, Socket, packet_tokens


async def relay(state: ProxyState, request: web.Request) -> web.StreamResponse:
    token = request.query.get("access_token")
    state.see(token, "ticker")
    if state.faults.active("ws_refuse") or state.stale_token(token):
        state.stats["ws_refused"] += 1
        state.record("ws_refused", by="proxy")
        return web.Response(status=403, text="Forbidden")
    if not await state.held(request, "both", "requests", "replies"):  # a handshake into a blackhole hangs
        return web.Response(status=504)
    assert state.ws_session is not None
    target = state.ticker_upstream + (request.path if request.path != "/" else "") + "?" + request.query_string
    try:
        upstream = await state.ws_session.ws_connect(target, headers={"X-Kite-Version": "3"}, autoping=False)
    except aiohttp.WSServerHandshakeError as exc:
        state.stats["ws_refused"] += 1
        state.record("ws_refused", by="upstream", status=exc.status)
        return web.Response(status=exc.status, text="Forbidden" if exc.status == 403 else "Upstream refused")
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        state.stats["upstream_errors"] += 1
        return web.Response(status=502, text="ticker upstream unreachable")
    client = web.WebSocketResponse(autoping=False)
    await client.prepare(request)
    sock = Socket(request, client, upstream)
    state.sockets.add(sock)
    state.stats["ws_opened"] += 1
    state.record("ws_open", sid=sock.sid)

    def stalled() -> bool:
        return state.cut("both", "requests", "replies") or any(
            f.params["scope"] == "all" or sock.sid in f.sockets for f in state.faults.active("ws_stall"))

    async def up() -> None:
        async for msg in client:
            if stalled():
                continue  # a blackhole swallows both directions
            if msg.type == WSMsgType.TEXT:
                _track(state, sock, msg.data)
                await upstream.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await upstream.send_bytes(msg.data)
            elif msg.type == WSMsgType.PING:
                await upstream.ping(msg.data)
            elif msg.type == WSMsgType.PONG:
                await upstream.pong(msg.data)

    async def down() -> None:
        async for msg in upstream:
            if stalled():
                sock.stalled = True
                continue  # the blackhole: nothing reaches the target
            if sock.stalled:  # the blackhole is over: count each instrument's first tick again
                sock.stalled = False
                sock.ticked.clear()
                state.record("ws_resumed", sid=sock.sid)
            if msg.type == WSMsgType.BINARY:
                await client.send_bytes(msg.data)
                for token in packet_tokens(msg.data):
                    if token not in sock.ticked:  # the first tick of each instrument on each socket
                        sock.ticked.add(token)
                        state.record("ws_tick", sid=sock.sid, token=token)
            elif msg.type == WSMsgType.TEXT:
                await client.send_str(msg.data)
            elif msg.type == WSMsgType.PING:
                await client.ping(msg.data)
            elif msg.type == WSMsgType.PONG:
                await client.pong(msg.data)
        while stalled():  # the broker hung up behind a blackhole: the target must not hear of it either
            await asyncio.sleep(0.1)

    tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        state.sockets.discard(sock)
        await upstream.close()
        if not client.closed:
            await client.close()
        state.record("ws_closed", sid=sock.sid, code=client.close_code)
    return client


def _track(state: ProxyState, sock: Socket, text: str) -> None:
    """Follow the target's subscriptions on ``sock`` (and record them in the history)."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    if not isinstance(data, dict) or data.get("a") not in ("subscribe", "unsubscribe"):
        return
    values = data.get("v") if isinstance(data.get("v"), list) else []
    tokens = [int(t) for t in values if isinstance(t, (int, str)) and str(t).isdigit()]
    if data.get("a") == "subscribe":
        sock.subscriptions.update(tokens)
    else:
        sock.subscriptions.difference_update(tokens)
    state.record("ws_" + str(data["a"]), sid=sock.sid, tokens=sorted(tokens))
