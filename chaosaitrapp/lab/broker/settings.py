"""The broker simulator's settings (:meth:`BrokerSettings.from_env`).

=================================  ===========================================================  ==================
variable                           meaning                                                      default
=================================  ===========================================================  ==================
``BROKER_HOST``/``BROKER_PORT``    where it listens (loopback only)                             ``127.0.0.1``/``8001``
``AITRAPP_LAB_KITE_API_KEY``       the lab app's Kite api key                                   ``aitrapplab``
``AITRAPP_LAB_KITE_API_SECRET``    its api secret (the session checksum's; a secret)           ``aitrapp-lab-secret``
``BROKER_RATE_LIMIT``              orders per second before 429 (Kite: 10)                      ``10``
``BROKER_RATE_LIMIT_MINUTE``       orders per minute before 429 (Kite: about 200-400)           ``300``
``BROKER_TOKEN_TTL``               access-token lifetime in seconds (Kite: until ~6 AM IST)     ``3600``
``BROKER_TICK_INTERVAL``           seconds between tick packets on the ticker                   ``0.25``
``BROKER_HEARTBEAT_INTERVAL``      seconds between the ticker's 1-byte heartbeats               ``1.0``
``BROKER_FILL_DELAY``              seconds before an order is COMPLETE                          ``0.1``
=================================  ===========================================================  ==================
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

DEFAULT_API_KEY = "aitrapplab"
DEFAULT_API_SECRET = "aitrapp-lab-secret"  # documented lab default; scrubbed like any secret


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the simulator needs; the secret is kept out of ``repr``."""

    host: str = "127.0.0.1"
    port: int = 8001
    api_key: str = DEFAULT_API_KEY
    api_secret: str = field(default=DEFAULT_API_SECRET, repr=False)
    rate_limit: int = 10
    rate_limit_minute: int = 300
    token_ttl: float = 3600.0
    tick_interval: float = 0.25
    heartbeat_interval: float = 1.0
    fill_delay: float = 0.1

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "BrokerSettings":
        """Settings from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        get = env.get
        return cls(
            host=get("BROKER_HOST", "127.0.0.1"),
            port=int(get("BROKER_PORT", "8001")),
            api_key=get("AITRAPP_LAB_KITE_API_KEY") or DEFAULT_API_KEY,
            api_secret=get("AITRAPP_LAB_KITE_API_SECRET") or DEFAULT_API_SECRET,
            rate_limit=int(get("BROKER_RATE_LIMIT", "10")),
            rate_limit_minute=int(get("BROKER_RATE_LIMIT_MINUTE", "300")),
            token_ttl=float(get("BROKER_TOKEN_TTL", "3600")),
            tick_interval=float(get("BROKER_TICK_INTERVAL", "0.25")),
            heartbeat_interval=float(get("BROKER_HEARTBEAT_INTERVAL", "1.0")),
            fill_delay=float(get("BROKER_FILL_DELAY", "0.1")),
        )
