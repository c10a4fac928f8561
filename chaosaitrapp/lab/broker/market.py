"""Prices of the lab's instruments: a small random walk around each instrument's base price."""
from __future__ import annotations

import random
import time
from typing import Dict

from chaosaitrapp.lab.broker.instruments import BY_TOKEN, INSTRUMENTS
from chaosaitrapp.lab.broker.packets import Quote


class Market:
    """The last price, day OHLC and volume of every instrument; :meth:`step` moves them."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.quotes: Dict[int, Quote] = {}
        now = int(time.time())
        for i in INSTRUMENTS:
            self.quotes[i.token] = Quote(i.token, i.price, i.price, i.price, i.price, i.price * 0.998, 0, 0, i.price,
                                         0, 0, now, i.is_index)

    def step(self) -> None:
        """Move every price a little and trade a little."""
        now = int(time.time())
        for quote in self.quotes.values():
            quote.last_price = round(quote.last_price * (1 + self.rng.uniform(-0.0004, 0.0004)), 2)
            quote.high, quote.low = max(quote.high, quote.last_price), min(quote.low, quote.last_price)
            if not quote.is_index:
                quote.last_quantity = self.rng.randint(1, 50) * 25
                quote.volume += quote.last_quantity
                quote.buy_quantity, quote.sell_quantity = self.rng.randint(1000, 9000), self.rng.randint(1000, 9000)
                quote.average_price = round((quote.average_price * 9 + quote.last_price) / 10, 2)
            quote.timestamp = now

    def last_price(self, token: int) -> float:
        """The last price of ``token``; KeyError for an unknown one."""
        if token not in BY_TOKEN:
            raise KeyError(token)
        return self.quotes[token].last_price
