"""KiteTicker's binary wire format, encoded (big-endian, prices in paise).

A message is ``int16 packet count`` then, per packet, ``int16 length`` and the packet. Packet layouts,
by length: 8 LTP (token, last price); 28 index quote (token, ltp, high, low, open, close, change) and
32 index full (+ exchange timestamp); 44 quote (token, ltp, last qty, average price, volume, buy qty,
sell qty, open, high, low, close) and 184 full (+ last trade time, OI, OI day high, OI day low,
exchange timestamp, then 10 depth entries of int32 quantity, int32 price, int16 orders, 2 padding).
A heartbeat is a single byte. :mod:`kiteconnect.ticker` parses exactly this.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, List

HEARTBEAT = b"\x00"
MODES = ("ltp", "quote", "full")


@dataclass
class Quote:
    """What a tick says about one instrument (prices in rupees)."""

    token: int
    last_price: float
    open: float
    high: float
    low: float
    close: float
    volume: int
    last_quantity: int
    average_price: float
    buy_quantity: int
    sell_quantity: int
    timestamp: int  # Unix seconds
    is_index: bool


def _p(price: float) -> int:
    return int(round(price * 100))


def packet(quote: Quote, mode: str) -> bytes:
    """One instrument's packet in ``mode`` (``ltp``, ``quote`` or ``full``)."""
    if mode not in MODES:
        raise ValueError(f"unknown tick mode {mode!r}")
    if mode == "ltp":
        return struct.pack(">II", quote.token, _p(quote.last_price))
    if quote.is_index:
        body = struct.pack(">IIIIIIi", quote.token, _p(quote.last_price), _p(quote.high), _p(quote.low),
                           _p(quote.open), _p(quote.close), _p(quote.last_price - quote.close))
        return body + (struct.pack(">I", quote.timestamp) if mode == "full" else b"")
    body = struct.pack(">IIIIIIIIIII", quote.token, _p(quote.last_price), quote.last_quantity,
                       _p(quote.average_price), quote.volume, quote.buy_quantity, quote.sell_quantity,
                       _p(quote.open), _p(quote.high), _p(quote.low), _p(quote.close))
    if mode == "quote":
        return body
    body += struct.pack(">IIIII", quote.timestamp, 0, 0, 0, quote.timestamp)
    depth = b""
    for side in (1, -1):  # five bids below the last price, then five asks above it
        for level in range(5):
            price = quote.last_price - side * 0.05 * (level + 1)
            depth += struct.pack(">IIHxx", 25 * (level + 1), _p(price), level + 1)
    return body + depth


def message(packets: Iterable[bytes]) -> bytes:
    """A binary ticker message holding ``packets``."""
    items: List[bytes] = list(packets)
    out = struct.pack(">H", len(items))
    for item in items:
        out += struct.pack(">H", len(item)) + item
    return out
