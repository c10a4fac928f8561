"""The broker fault proxy's state: faults, the tokens seen, the history, the open ticker sockets,
counters; and the Kite-shaped answers both of its halves give.

Tokens are kept only to tell old from new ones (a token fault refuses those seen before it) and are
never written out: the history holds tags, statuses, broker order ids and socket events, no token.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

import aiohttp
from aiohttp import web

from chaosaitrapp.aitrapp import INSTANCE_HEADER
from chaosaitrapp.broker.proxy.faults import INSTANT, ORDER_STATES, FaultTable
from chaosaitrapp.broker.proxy.scripts import Scripts
from chaosaitrapp.faultproxy.control import ProxyHooks
from chaosaitrapp.faultproxy.table import Fault

#: Headers not passed on either way; ``accept-encoding`` too: answers come back unencoded, so the proxy can read
#: and rewrite them (order states) and passes on no body whose encoding it dropped.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length", "content-encoding", "accept-encoding"}
BAD_TOKEN = "Incorrect `api_key` or `access_token`."
SESSION_PATHS = ("/session/", "/connect/")  # the login and token exchange: a refresh must get through
SESSION_TOKEN_PATH = "/session/token"  # Kite's exchange of a request token for an access token: a new session


def kite_error(status: int, error_type: str, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
    """A Kite-shaped error answer."""
    body = json.dumps({"status": "error", "error_type": error_type, "message": message, "data": None})
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def access_token_of(authorization: Optional[str]) -> Optional[str]:
    """The access token in ``Authorization: token api_key:access_token``, or None."""
    if authorization and authorization.startswith("token ") and ":" in authorization:
        return authorization.split(":", 1)[1].strip() or None
    return None


_SOCKET_IDS = itertools.count(1)


@dataclass(eq=False)
class Socket:
    """One proxied ticker connection (``sid``: its number in the history; ``ticked``: the instruments
    it has delivered a tick for since it opened or its last stall ended)."""

    request: web.Request
    client: web.WebSocketResponse
    upstream: aiohttp.ClientWebSocketResponse
    subscriptions: Set[int] = field(default_factory=set)
    ticked: Set[int] = field(default_factory=set)
    stalled: bool = False
    sid: int = field(default_factory=lambda: next(_SOCKET_IDS))


def packet_tokens(frame: bytes) -> List[int]:
    """The instrument tokens in a binary ticker frame (int16 packet count, then int16 length + packet
    each; a packet starts with its 4-byte token); ``[]`` for a 1-byte heartbeat or a short frame."""
    if len(frame) < 2:
        return []
    count = int.from_bytes(frame[0:2], "big")
    tokens, offset = [], 2
    for _ in range(count):
        if offset + 2 > len(frame):
            break
        length = int.from_bytes(frame[offset:offset + 2], "big")
        packet = frame[offset + 2:offset + 2 + length]
        if len(packet) >= 4:
            tokens.append(int.from_bytes(packet[0:4], "big"))
        offset += 2 + length
    return tokens


class ProxyState(ProxyHooks):
    """Faults, the tokens seen, the history, the open ticker sockets and counters."""

    def __init__(self, upstream: str, ticker_upstream: str) -> None:
        super().__init__(FaultTable())
        self.upstream = upstream.rstrip("/")
        self.ticker_upstream = ticker_upstream.rstrip("/")
        self.seen_tokens: Dict[str, None] = {}  # insertion-ordered set
        self.sockets: Set[Socket] = set()
        self.stats = {"requests": 0, "orders": 0, "refused_by_fault": 0, "upstream_errors": 0,
                      "ws_opened": 0, "ws_refused": 0, "ws_closed_by_fault": 0}
        self.session: Optional[aiohttp.ClientSession] = None  # REST upstream
        self.ws_session: Optional[aiohttp.ClientSession] = None  # ticker upstream
        self.holding: Dict[str, int] = {}  # fault id -> requests it holds now
        self._changed = asyncio.Event()  # set (and replaced) when a fault is cleared
        self.scripts = Scripts(lambda fault_id: any(f.id == fault_id for f in self.faults.active()))

    def order_state_fault(self) -> Optional[Fault]:
        """The active order-state fault that scripts the next accepted placement (its ``count`` not used up), or
        None."""
        return next((f for kind in ORDER_STATES for f in self.faults.active(kind)
                     if f.params["count"] == -1 or f.hits < f.params["count"]), None)

    def see(self, token: Optional[str], where: str = "rest") -> None:
        """Remember a token the target used (old tokens are those seen before a token fault); its first use
        is a ``token_new`` history record: its ordinal and ``where`` (``rest`` or ``ticker``), never the token."""
        if token and token not in self.seen_tokens:
            self.seen_tokens[token] = None
            self.record("token_new", ordinal=len(self.seen_tokens), where=where)
            for fault in self.faults.active("token_invalidated"):
                if token not in fault.old_tokens:
                    fault.new_token_seen = True

    def stale_token(self, token: Optional[str]) -> bool:
        """True when a token fault refuses ``token`` (it was seen before the fault began)."""
        for fault in self.faults.active("token_invalidated"):
            if token and token in fault.old_tokens:
                fault.hits += 1
                return True
        return False

    def open_sockets(self) -> Set[int]:
        """The ids of the ticker sockets open now."""
        return {sock.sid for sock in self.sockets}

    def cutting(self, *directions: str, instance: Optional[str] = None) -> List[Fault]:
        """The ``partition`` faults that cut one of ``directions`` (``both``, ``requests``, ``replies``) for
        a sender named ``instance`` (a fault limited to an instance cuts only its REST calls; None: a
        ticker socket or an unnamed sender, which only unlimited partitions cut)."""
        return [f for f in self.faults.active("partition") if f.params["direction"] in directions
                and (not f.params.get("instance") or f.params["instance"] == instance)]

    def cut(self, *directions: str, instance: Optional[str] = None) -> bool:
        """True while a partition cuts one of ``directions`` for ``instance`` (:meth:`cutting`)."""
        return bool(self.cutting(*directions, instance=instance))

    async def _hold(self, request: web.Request, faults: List[Fault], holding: Callable[[], bool]) -> bool:
        """Hold ``request`` while ``holding()`` (its ``faults`` count it in :attr:`holding`, which a clear waits
        on); True when it may go on (the hold ended, its client still waiting), False when the client is gone."""
        for fault in faults:
            self.holding[fault.id] = self.holding.get(fault.id, 0) + 1
        try:
            while holding():
                if request.transport is None or request.transport.is_closing():
                    return False
                try:  # woken at once by a clear (see cleared), else the lease's end is polled
                    await asyncio.wait_for(asyncio.shield(self._changed.wait()), 0.05)
                except asyncio.TimeoutError:
                    pass
            return request.transport is not None and not request.transport.is_closing()
        finally:
            for fault in faults:
                left = self.holding.get(fault.id, 1) - 1
                if left > 0:
                    self.holding[fault.id] = left
                else:
                    self.holding.pop(fault.id, None)

    async def held(self, request: web.Request, *directions: str, order: bool = False) -> bool:
        """Hold ``request`` while a partition cuts one of ``directions`` for its sender (the blackhole:
        nothing moves; each fault counts the order placements it held in ``hits``); True when it may go on
        (healed, its client still waiting), False when the client gave up."""
        instance = request.headers.get(INSTANCE_HEADER)
        cutting = self.cutting(*directions, instance=instance)
        for fault in cutting:
            fault.hits += 1 if order else 0
        return await self._hold(request, cutting, lambda: self.cut(*directions, instance=instance))

    async def held_reply(self, request: web.Request, fault: Fault) -> bool:
        """Hold a placement's reply while ``fault`` (a ``hold_reply``) is active; True when it may go on (the
        fault cleared or expired, its client still waiting), False when the client is gone (killed, or it gave
        up): the broker holds the order and its sender never heard."""
        return await self._hold(request, [fault], lambda: any(f is fault for f in self.faults.active("hold_reply")))

    async def cleared(self, fault: Fault) -> None:
        """A cleared partition or held reply lets what it held go on before the DELETE is answered (so a drill
        that releases a frozen instance's held order knows it left before the instance is thawed, and a crash
        drill that lets a reply go knows it went); at most ~1 s."""
        self._changed.set()
        self._changed = asyncio.Event()
        for _ in range(100):
            if not self.holding.get(fault.id):
                break
            await asyncio.sleep(0.01)

    # ---- the control API's hooks ------------------------------------------------------------
    def fault_context(self) -> Dict[str, Any]:
        """A new fault knows the tokens seen so far (a token fault refuses them) and the open sockets."""
        return {"old_tokens": list(self.seen_tokens), "sockets": sorted(self.open_sockets())}

    async def applied(self, fault: Fault) -> Dict[str, Any]:
        """An instant kind acts on every open ticker socket now: how many it touched."""
        if fault.kind not in INSTANT:
            return {}
        return {"sockets": await self.apply_instant(fault.kind, fault.params)}

    async def apply_instant(self, kind: str, params: Dict[str, Any]) -> int:
        """Apply an instant fault to every open ticker socket; how many it touched."""
        touched = 0
        for sock in list(self.sockets):
            touched += 1
            if kind == "ws_close":
                self.stats["ws_closed_by_fault"] += 1
                if params["code"] == 1006:  # no close frame: the connection just drops
                    if sock.request.transport is not None:
                        sock.request.transport.abort()
                    await sock.upstream.close()
                else:
                    await sock.client.close(code=params["code"], message=b"closed by the broker fault proxy")
            elif kind == "ws_drop_subscriptions" and sock.subscriptions:
                await sock.upstream.send_str(json.dumps({"a": "unsubscribe", "v": sorted(sock.subscriptions)}))
                sock.subscriptions.clear()
                sock.ticked.clear()
        return touched

    def fault_fields(self, fault: Fault) -> Dict[str, Any]:
        """A fault's history record names what the open sockets had subscribed (to check resubscribes)."""
        return {"subscribed": sorted(set().union(*(sock.subscriptions for sock in self.sockets)))}

    def counters(self) -> Dict[str, Any]:
        """The request, order and socket counts."""
        return {**self.stats, "open_sockets": len(self.sockets)}
