"""The broker simulator's settings (:meth:`BrokerSettings.from_env`).

``BROKER_HOST``/``BROKER_PORT`` (``127.0.0.1``/``8001``), ``BROKER_RATE_LIMIT`` orders per second
(10, beyond: 429), ``BROKER_TOKEN_TTL`` access-token lifetime in seconds (3600),
``BROKER_API_KEY`` (``lab``), ``BROKER_API_SECRET`` (secret; empty = any secret is accepted),
``BROKER_TICK_INTERVAL`` seconds between ticks (0.2), ``BROKER_FILL_DELAY`` seconds before an
order fills (0.1).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the simulator needs; the secret is kept out of ``repr``."""

    host: str = "127.0.0.1"
    port: int = 8001
    rate_limit: int = 10
    token_ttl: float = 3600.0
    api_key: str = "lab"
    api_secret: str = field(default="", repr=False)
    tick_interval: float = 0.2
    fill_delay: float = 0.1

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "BrokerSettings":
        """Settings from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        get = env.get
        return cls(
            host=get("BROKER_HOST", "127.0.0.1"),
            port=int(get("BROKER_PORT", "8001")),
            rate_limit=int(get("BROKER_RATE_LIMIT", "10")),
            token_ttl=float(get("BROKER_TOKEN_TTL", "3600")),
            api_key=get("BROKER_API_KEY", "lab"),
            api_secret=get("BROKER_API_SECRET", ""),
            tick_interval=float(get("BROKER_TICK_INTERVAL", "0.2")),
            fill_delay=float(get("BROKER_FILL_DELAY", "0.1")),
        )
