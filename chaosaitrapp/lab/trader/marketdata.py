"""Market data through the official ``KiteTicker``, as AITRAPP streams it.

``KiteTicker(api_key, access_token, root=...)`` runs on Twisted's reactor, in a thread of its own (the
reactor can run once per process, so a restart makes a new ticker on the same reactor). The library
does the reconnecting: ``reconnect=True``, Twisted's backoff (about 1, 2.7, 7.4, 20... s, capped at
``reconnect_max_delay``, which the library will not let below 5 s), ``reconnect_max_tries``; after a
reconnect it resubscribes the instruments it knows by itself. Twisted's timers read the wall clock: a retry
pending while the clock steps back waits for the length of the step, so the trader keeps a watchdog of its own on
the monotonic clock (``Trader._market_watchdog``; the defect ``reconnects_on_wall_clock`` has none).
``on_connect`` subscribes the instruments in full mode and sets ``connected``; ``on_close``/``on_noreconnect`` clear it. The
market-data heartbeat beats on ticks only (the library drops Kite's 1-byte heartbeats before
``on_ticks``), so a stalled socket shows as a growing heartbeat age, not as a disconnect.

A ticker's URL carries the access token it was made with: after a token refresh the ticker must be
made again (:meth:`MarketData.restart`), or every reconnect is refused with 403.

Defects: ``ws_never_reconnects`` (the retry is stopped in ``on_close``: kiteconnect 5.x accepts
``reconnect=False`` and ignores it, its factory always reconnects), ``ws_no_resubscribe`` (after a
reconnect nothing is subscribed again: the socket is up, no tick comes).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, List, Sequence, Tuple

log = logging.getLogger("chaosaitrapp.lab.trader.marketdata")
_REACTOR_LOCK = threading.Lock()


def _reactor():
    from twisted.internet import reactor  # noqa: PLC0415 - Twisted's reactor is installed by KiteTicker's own thread, only when the feed starts

    return reactor


class MarketData:
    """One ticker subscription that survives restarts; callbacks run on the reactor's thread."""

    def __init__(self, api_key: str, root: str, tokens: Sequence[int], on_tick: Callable[[List[Dict[str, Any]]], None],
                 *, reconnect_max_delay: float = 60.0, reconnect_max_tries: int = 50, connect_timeout: float = 30.0,
                 defects: FrozenSet[str] = frozenset()) -> None:
        self.api_key = api_key
        self.root = root.rstrip("/")
        self.tokens = list(tokens)
        self.on_tick = on_tick
        self.reconnect_max_delay = reconnect_max_delay
        self.reconnect_max_tries = reconnect_max_tries
        self.connect_timeout = connect_timeout
        self.defects = defects
        self.connected = False
        self.ticking = False  # a tick came on the socket connected now (connected is not yet streaming)
        self.connects = 0
        self.closes = 0
        self.last_prices: Dict[int, float] = {}
        self._ticker: Any = None
        self._generation = 0

    def _make(self, access_token: str, generation: int, reconnect: bool) -> Any:
        from kiteconnect import KiteTicker  # noqa: PLC0415 - Twisted's reactor is installed by KiteTicker's own thread, only when the feed starts

        ticker = KiteTicker(self.api_key, access_token, root=self.root,
                            reconnect_max_tries=self.reconnect_max_tries,
                            reconnect_max_delay=self.reconnect_max_delay, connect_timeout=self.connect_timeout)

        subscribed = {"once": reconnect}  # a reconnect of the same feed: ws_no_resubscribe subscribes nothing

        def current() -> bool:
            return generation == self._generation

        def on_connect(ws: Any, response: Any) -> None:
            if not current():
                return
            self.connects += 1
            self.ticking = False
            self.connected = True
            if not subscribed["once"] or "ws_no_resubscribe" not in self.defects:
                ws.subscribe(self.tokens)
                ws.set_mode(ws.MODE_FULL, self.tokens)
                subscribed["once"] = True

        def on_close(ws: Any, code: Any, reason: Any) -> None:
            if not current():
                return
            self.connected = self.ticking = False
            self.closes += 1
            if "ws_never_reconnects" in self.defects:
                ticker.stop_retry()  # the only way: KiteTicker ignores its own reconnect=False
            if "ws_no_resubscribe" in self.defects:
                ticker.subscribed_tokens.clear()  # nor may the library resubscribe by itself

        def on_noreconnect(ws: Any) -> None:
            if current():
                self.connected = self.ticking = False

        def on_ticks(ws: Any, ticks: List[Dict[str, Any]]) -> None:
            if not current() or not ticks:
                return
            for tick in ticks:
                self.last_prices[int(tick["instrument_token"])] = float(tick["last_price"])
            self.ticking = self.connected
            self.on_tick(ticks)

        ticker.on_connect, ticker.on_close, ticker.on_noreconnect, ticker.on_ticks = (
            on_connect, on_close, on_noreconnect, on_ticks)
        return ticker

    def start(self, access_token: str, reconnect: bool = False) -> None:
        """Connect a new ticker with ``access_token`` (the first call starts the reactor's thread); ``reconnect``:
        it takes over a feed that went down (the trader's watchdog), which ``ws_no_resubscribe`` does not
        subscribe again."""
        reactor = _reactor()
        self._generation += 1
        ticker = self._make(access_token, self._generation, reconnect)
        old, self._ticker = self._ticker, ticker
        with _REACTOR_LOCK:
            if not reactor.running:
                ticker.connect(threaded=True)
            else:
                if old is not None:
                    reactor.callFromThread(self._close, old)
                reactor.callFromThread(ticker.connect)

    @staticmethod
    def _close(ticker: Any) -> None:
        try:
            ticker.stop_retry()
            if ticker.ws is not None:
                ticker.ws.sendClose(1000, "ticker restart")
        except Exception:  # the old socket may be gone already
            pass

    def stop(self) -> None:
        """Close the ticker for good (no reconnect)."""
        self._generation += 1
        self.connected = self.ticking = False
        if self._ticker is not None and _reactor().running:
            _reactor().callFromThread(self._close, self._ticker)

    async def restart(self, access_token: str, pause: float, wait: float) -> Tuple[bool, float]:
        """``POST /market-data/restart`` as AITRAPP does it: stop, ``pause`` seconds, start with the
        (re)loaded token, poll ``is_connected`` up to ``wait`` s; ``(connected, waited_seconds)``."""
        began = time.monotonic()
        self.stop()
        await asyncio.sleep(pause)  # the service's own pause before reconnecting
        before = self.connects
        self.start(access_token)
        while time.monotonic() - began < pause + wait and not (self.connected and self.connects > before):
            await asyncio.sleep(0.05)  # the service polls is_connected
        return self.connected and self.connects > before, time.monotonic() - began

    def shutdown(self) -> None:
        """Stop the ticker and the reactor (at the trader's exit)."""
        self.stop()
        reactor = _reactor()
        if reactor.running:
            reactor.callFromThread(reactor.stop)
