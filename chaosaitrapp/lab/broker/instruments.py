"""The instruments the lab trades, as Kite's instrument dump lists them (``GET /instruments``, CSV).

Instrument tokens carry their segment in the low byte (``token & 0xff``: 1 NSE, 2 NFO, 9 indices),
which is how KiteTicker picks the price divisor and the packet layout; the tokens here are shaped
like real ones (``NSE:NIFTY 50`` is 256265 on Kite too). Indices stream 28/32-byte packets and are
not tradable; the futures and the stock stream 44/184-byte quote and full packets.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Dict, List, Optional

COLUMNS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike",
           "tick_size", "lot_size", "instrument_type", "segment", "exchange")
INDICES_SEGMENT = 9


@dataclass(frozen=True)
class Instrument:
    """One row of the dump."""

    token: int
    tradingsymbol: str
    name: str
    exchange: str
    segment: str
    instrument_type: str
    price: float
    lot_size: int = 1
    expiry: str = ""

    @property
    def key(self) -> str:
        """``EXCHANGE:TRADINGSYMBOL`` as quotes are asked for (``NSE:NIFTY 50``)."""
        return f"{self.exchange}:{self.tradingsymbol}"

    @property
    def is_index(self) -> bool:
        """True for an index (not tradable; 28/32-byte packets)."""
        return self.token & 0xFF == INDICES_SEGMENT


INSTRUMENTS: List[Instrument] = [
    Instrument(256265, "NIFTY 50", "NIFTY 50", "NSE", "INDICES", "EQ", 22000.0),
    Instrument(260105, "NIFTY BANK", "NIFTY BANK", "NSE", "INDICES", "EQ", 48000.0),
    Instrument(12335874, "NIFTY", "NIFTY", "NFO", "NFO-FUT", "FUT", 22010.0, lot_size=25, expiry="2026-12-31"),
    Instrument(12336130, "BANKNIFTY", "BANKNIFTY", "NFO", "NFO-FUT", "FUT", 48030.0, lot_size=15,
               expiry="2026-12-31"),
    Instrument(738561, "RELIANCE", "RELIANCE INDUSTRIES", "NSE", "NSE", "EQ", 2900.0),
]
BY_TOKEN: Dict[int, Instrument] = {i.token: i for i in INSTRUMENTS}
BY_KEY: Dict[str, Instrument] = {i.key: i for i in INSTRUMENTS}


def tradable(exchange: str, tradingsymbol: str) -> Optional[Instrument]:
    """The tradable instrument ``exchange:tradingsymbol``, or None (unknown, or an index)."""
    instrument = BY_KEY.get(f"{exchange}:{tradingsymbol}")
    return None if instrument is None or instrument.is_index else instrument


def dump(exchange: Optional[str] = None) -> str:
    """The instrument dump as Kite serves it (CSV with its header), optionally one exchange's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in INSTRUMENTS:
        if exchange and i.exchange != exchange:
            continue
        writer.writerow([i.token, i.token >> 8, i.tradingsymbol, i.name, 0, i.expiry, 0, 0.05, i.lot_size,
                         i.instrument_type, i.segment, i.exchange])
    return out.getvalue()
