"""The market-data feed: a WebSocket client to the broker's ``/ws/ticks`` that reconnects by itself.

Every tick calls ``on_tick`` (which beats the market-data heartbeat). When the broker dies or the
stream stalls, no tick arrives and the heartbeat's age shows the dead feed. The client
resubscribes on every connect and reconnects after ``reconnect_delay`` seconds.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from websockets.asyncio.client import ClientConnection, connect

log = logging.getLogger("chaosaitrapp.lab.trader.marketdata")


class MarketDataFeed:
    """One reconnecting WebSocket subscription."""

    def __init__(self, url: str, on_tick: Callable[[Dict[str, Any]], None], *,
                 reconnect_delay: float, symbols: Sequence[str] = ("NIFTY", "BANKNIFTY")) -> None:
        self.url = url
        self.on_tick = on_tick
        self.reconnect_delay = reconnect_delay
        self.symbols = list(symbols)
        self.connected = False
        self.connects = 0
        self.last_prices: Dict[str, float] = {}
        self._ws: Optional[ClientConnection] = None

    async def run(self) -> None:
        """Connect, stream, reconnect, for ever (until cancelled)."""
        while True:
            try:
                async with connect(self.url, open_timeout=2, ping_interval=None, close_timeout=1) as ws:
                    self._ws = ws
                    await ws.send(json.dumps({"a": "subscribe", "v": self.symbols}))
                    self.connected = True
                    self.connects += 1
                    async for message in ws:
                        tick = json.loads(message)
                        if "last_price" in tick and "instrument" in tick:
                            self.last_prices[tick["instrument"]] = float(tick["last_price"])
                        self.on_tick(tick)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("market-data stream ended: %s", type(exc).__name__)
            finally:
                self.connected = False
                self._ws = None
            await asyncio.sleep(self.reconnect_delay)

    async def restart(self, timeout: float = 10.0) -> Tuple[bool, float]:
        """Drop the connection and wait until it is back; ``(connected, waited_seconds)``."""
        start = time.monotonic()
        before = self.connects
        ws = self._ws
        if ws is not None:
            await ws.close()
        while time.monotonic() - start < timeout:
            if self.connected and self.connects > before:
                break
            await asyncio.sleep(0.02)
        return self.connected and self.connects > before, time.monotonic() - start
