"""The trader's settings: one typed object, read from the environment by :meth:`TraderSettings.from_env`.

Environment (all optional):

==========================  =====================================================  =========================
variable                    meaning                                                default
==========================  =====================================================  =========================
``TRADER_HOST``/``_PORT``   where uvicorn listens (loopback only)                  ``127.0.0.1`` / ``8000``
``REDIS_URL``               the leader lock's Redis                                ``redis://127.0.0.1:6379/0``
``DATABASE_URL``            Postgres (may carry the password; never logged)        ``postgresql://trader@127.0.0.1:5432/aitrapp``
``KITE_ROOT``               Kite's REST root (``KiteConnect(root=)``)              ``http://127.0.0.1:8001``
``KITE_TICKER_ROOT``        Kite's ticker root (``KiteTicker(root=)``)             ``ws://127.0.0.1:8001``
``KITE_API_KEY``            the Kite app's api key                                 ``aitrapplab``
``KITE_API_SECRET``         its api secret, for new sessions (secret)              ``aitrapp-lab-secret``
``TRADER_MODE``             ``PAPER`` or ``LIVE``                                  ``PAPER``
``HEARTBEAT_MAX``           readiness limit on heartbeat ages, seconds             ``5``
``API_SECRET_KEY``          when set, ``X-API-Key``/``?api_key=`` required (secret) unset
``AITRAPP_LAB_DEFECTS``     comma list of defects (:mod:`chaosaitrapp.lab.defects`) empty
``AITRAPP_LAB_PROFILE``     timing profile (:mod:`chaosaitrapp.lab.profiles`)       ``fast``
``AITRAPP_LAB_LOCK_TTL``    the profile's lock TTL, replaced (seconds)             the profile's
``AITRAPP_LAB_LOCK_REFRESH`` the profile's lock refresh period, replaced           the profile's
``AITRAPP_LAB_REDIS_TIMEOUT`` the profile's Redis socket timeout, replaced         the profile's
``TRADER_INSTANCE_ID``      leader-lock value                                      a new uuid4
``THROTTLE_RATE``/``_BURST`` order throttle: orders per second / bucket size        ``10`` / ``20``
``AITRAPP_LAB_ORDER_SPOOL`` the ``spool`` order intake's directory: no ``POST      unset (``POST /orders``)
                            /orders``; orders from the injector or ``POST /plans``
==========================  =====================================================  =========================
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field, replace
from typing import FrozenSet, Mapping, Optional

from chaosaitrapp.lab.defects import ENV_VAR as DEFECTS_ENV
from chaosaitrapp.lab.defects import parse_defects, refuse_in_live
from chaosaitrapp.lab.profiles import DEFAULT_PROFILE, HEARTBEAT_MAX, Profile, get_profile

MODES = ("PAPER", "LIVE")


@dataclass(frozen=True)
class TraderSettings:
    """Everything the trader needs; secrets are excluded from ``repr``."""

    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = field(default="postgresql://trader@127.0.0.1:5432/aitrapp", repr=False)
    kite_root: str = "http://127.0.0.1:8001"
    kite_ticker_root: str = "ws://127.0.0.1:8001"
    kite_api_key: str = "aitrapplab"
    kite_api_secret: str = field(default="aitrapp-lab-secret", repr=False)
    mode: str = "PAPER"
    heartbeat_max: float = HEARTBEAT_MAX
    api_key: Optional[str] = field(default=None, repr=False)
    defects: FrozenSet[str] = frozenset()
    profile: Profile = field(default_factory=lambda: get_profile(DEFAULT_PROFILE))
    instance_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    lock_key: str = "trader:leader"
    throttle_rate: float = 10.0
    throttle_burst: int = 20
    order_spool: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"TRADER_MODE must be PAPER or LIVE, got {self.mode!r}")
        refuse_in_live(self.mode, self.defects)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TraderSettings":
        """Settings from ``env`` (default ``os.environ``); ValueError/ConfigError on bad values."""
        env = os.environ if env is None else env
        get = env.get
        return cls(
            host=get("TRADER_HOST", "127.0.0.1"),
            port=int(get("TRADER_PORT", "8000")),
            redis_url=get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            database_url=get("DATABASE_URL", "postgresql://trader@127.0.0.1:5432/aitrapp"),
            kite_root=get("KITE_ROOT", "http://127.0.0.1:8001").rstrip("/"),
            kite_ticker_root=get("KITE_TICKER_ROOT", "ws://127.0.0.1:8001").rstrip("/"),
            kite_api_key=get("KITE_API_KEY") or "aitrapplab",
            kite_api_secret=get("KITE_API_SECRET") or "aitrapp-lab-secret",
            mode=get("TRADER_MODE", "PAPER").upper(),
            heartbeat_max=float(get("HEARTBEAT_MAX", str(HEARTBEAT_MAX))),
            api_key=get("API_SECRET_KEY") or None,
            defects=parse_defects(get(DEFECTS_ENV, "")),
            profile=_timed(get_profile(get("AITRAPP_LAB_PROFILE", DEFAULT_PROFILE)), env),
            instance_id=get("TRADER_INSTANCE_ID") or str(uuid.uuid4()),
            throttle_rate=float(get("THROTTLE_RATE", "10")),
            throttle_burst=int(get("THROTTLE_BURST", "20")),
            order_spool=get("AITRAPP_LAB_ORDER_SPOOL", ""),
        )


#: Environment variables that replace one timing of the profile (a target with timing of its own).
TIMING_OVERRIDES = {"AITRAPP_LAB_LOCK_TTL": "lock_ttl", "AITRAPP_LAB_LOCK_REFRESH": "lock_refresh",
                    "AITRAPP_LAB_REDIS_TIMEOUT": "redis_socket_timeout"}


def _timed(profile: Profile, env: Mapping[str, str]) -> Profile:
    """``profile`` with the timings :data:`TIMING_OVERRIDES` replaces; ValueError for a non-number."""
    changes = {field: float(env[name]) for name, field in TIMING_OVERRIDES.items() if env.get(name)}
    return replace(profile, **changes) if changes else profile
