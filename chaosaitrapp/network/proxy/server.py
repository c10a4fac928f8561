"""The TCP fault proxy: each named route listens on a loopback port and relays bytes both ways to its
upstream (Redis, Postgres, any TCP service), through the active faults of
:mod:`chaosaitrapp.network.proxy.faults`. The control API (:mod:`chaosaitrapp.faultproxy.control`) is
on its own port; ``GET /health`` lists the routes.

A held direction stops being *read* (TCP's own backpressure does the rest, as in a blackhole the
sender's retransmits would wait); latency delays each chunk from its arrival; a reset is a TCP RST
(``SO_LINGER`` 0). The history records each connection's open, reset and close per route.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

from aiohttp import web

from chaosaitrapp.faultproxy.control import ProxyHooks, control_app
from chaosaitrapp.faultproxy.table import Fault
from chaosaitrapp.network.proxy.faults import FaultTable

log = logging.getLogger("chaosaitrapp.network.proxy")
CHUNK = 65536
POLL_S = 0.02
_CONN_IDS = itertools.count(1)


@dataclass(frozen=True)
class Route:
    """One relayed service: ``name`` listens on ``listen_host:listen_port``, relays to ``upstream``."""

    name: str
    listen_host: str
    listen_port: int
    upstream_host: str
    upstream_port: int

    def describe(self) -> Dict[str, Any]:
        """For ``/health``."""
        return {"listen": f"{self.listen_host}:{self.listen_port}",
                "upstream": f"{self.upstream_host}:{self.upstream_port}"}


@dataclass(eq=False)
class Conn:
    """One relayed connection."""

    route: str
    client: asyncio.StreamWriter
    upstream: Optional[asyncio.StreamWriter] = None
    cid: int = field(default_factory=lambda: next(_CONN_IDS))


def reset(writer: Optional[asyncio.StreamWriter]) -> None:
    """Close ``writer``'s socket with a TCP RST (``SO_LINGER`` on, 0 s)."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class TcpState(ProxyHooks):
    """The routes, the open connections, the faults and the counters."""

    def __init__(self, routes: List[Route]) -> None:
        super().__init__(FaultTable([r.name for r in routes]))
        self.routes = {r.name: r for r in routes}
        self.conns: Set[Conn] = set()
        self.stats = {"connections": 0, "reset_by_fault": 0, "upstream_errors": 0}

    def _active(self, route: str, kind: str) -> List[Fault]:
        return [f for f in self.faults.active(kind) if f.params["route"] == route]

    def blocked(self, route: str, direction: str) -> bool:
        """True while a blackhole on ``route`` holds ``direction`` (``to_dependency``/``from_dependency``)."""
        return any(f.params["direction"] in ("both", direction) for f in self._active(route, "blackhole"))

    def delay(self, route: str, direction: str) -> float:
        """Seconds of latency on ``route`` in ``direction``."""
        return sum(f.params["delay_ms"] for f in self._active(route, "latency")
                   if f.params["direction"] in ("both", direction)) / 1000.0

    def rejecting(self, route: str) -> bool:
        """True while a reject fault is active on ``route``."""
        return bool(self._active(route, "reject"))

    def open_sockets(self) -> Set[int]:
        """The ids of the relayed connections open now."""
        return {c.cid for c in self.conns}

    async def applied(self, fault: Fault) -> Dict[str, Any]:
        """A reject resets every open connection of its route at once: how many."""
        if fault.kind != "reject":
            return {}
        victims = [c for c in self.conns if c.route == fault.params["route"]]
        for conn in victims:
            self.reset(conn, "reject")
        return {"reset": len(victims)}

    def reset(self, conn: Conn, why: str) -> None:
        """Reset both ends of ``conn``."""
        self.stats["reset_by_fault"] += 1
        self.record("conn_reset", route=conn.route, cid=conn.cid, why=why)
        reset(conn.client)
        reset(conn.upstream)

    def counters(self) -> Dict[str, Any]:
        """Connection counts, per route too."""
        per_route = {name: sum(1 for c in self.conns if c.route == name) for name in self.routes}
        return {**self.stats, "open_connections": len(self.conns), "open_by_route": per_route}


async def _pump(state: TcpState, route: str, direction: str, source: asyncio.StreamReader,
                sink: asyncio.StreamWriter) -> None:
    """Relay ``source`` to ``sink`` until EOF, through the blackhole and latency faults of ``direction``."""
    while True:
        data = await source.read(CHUNK)
        if not data:
            return
        arrived = time.monotonic()
        while state.blocked(route, direction):  # held, not read further: the blackhole (its lease bounds it)
            await asyncio.sleep(POLL_S)
        wait = arrived + state.delay(route, direction) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # the injected latency itself
        sink.write(data)
        await sink.drain()


async def _relay(state: TcpState, route: Route, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = Conn(route.name, writer)
    state.stats["connections"] += 1
    if state.rejecting(route.name):
        state.reset(conn, "reject")
        return
    try:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(route.upstream_host, route.upstream_port), timeout=5)
    except (OSError, asyncio.TimeoutError):
        state.stats["upstream_errors"] += 1
        writer.close()  # the dependency itself is down: the client sees its connection end
        return
    conn.upstream = up_writer
    state.conns.add(conn)
    state.record("conn_open", route=route.name, cid=conn.cid)
    tasks = [asyncio.create_task(_pump(state, route.name, "to_dependency", reader, up_writer)),
             asyncio.create_task(_pump(state, route.name, "from_dependency", up_reader, writer))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        state.conns.discard(conn)
        for end in (writer, up_writer):
            if not end.transport.is_closing():
                end.close()
        state.record("conn_closed", route=route.name, cid=conn.cid)


async def serve(routes: List[Route], control_host: str, control_port: int,
                info: Optional[Dict[str, Any]] = None) -> None:
    """Serve every route and the control API until cancelled."""
    state = TcpState(routes)
    servers = []
    for route in routes:
        async def handler(reader, writer, route=route):
            await _relay(state, route, reader, writer)

        servers.append(await asyncio.start_server(handler, route.listen_host, route.listen_port,
                                                  reuse_address=True))
    details = {"routes": {r.name: r.describe() for r in routes}, **(info or {})}
    runner = web.AppRunner(control_app(state, details), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, control_host, control_port).start()
    log.info("TCP fault proxy: %s; control on %s:%s",
             ", ".join(f"{r.name} {r.listen_port}->{r.upstream_host}:{r.upstream_port}" for r in routes),
             control_host, control_port)
    try:
        await asyncio.Event().wait()
    finally:
        for server in servers:
            server.close()
        await runner.cleanup()
