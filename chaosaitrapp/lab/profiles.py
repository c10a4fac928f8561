"""Timing profiles of the lab trader: how fast the leader lock and the loops move.

``aitrapp`` reproduces the real service (lock TTL 30 s, refresh every 10 s, re-acquire
backoff 1, 2, 4, 8, 15, 30 s plus 0-0.5 s jitter); ``fast`` (the default) keeps the same
shape ten times quicker, for demos and CI. In both, the loops beat far more often than
``HEARTBEAT_MAX`` (5 s), so a heartbeat above it always means a stuck or dead loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from chaosaitrapp import aitrapp

DEFAULT_PROFILE = "fast"
HEARTBEAT_MAX = aitrapp.HEARTBEAT_MAX_S


@dataclass(frozen=True)
class Profile:
    """Every timing knob of the trader, in seconds.

    ``lock_ttl``/``lock_refresh``: the Redis leader lock's TTL and refresh period.
    ``backoff`` + ``jitter``: re-acquire delays (the last one repeats), plus ``random() * jitter``.
    ``redis_socket_timeout``: connect and read timeout of the Redis client (a stopped Redis is
    seen at the next refresh). ``scan_period``/``order_stream_period``: loop periods.
    ``ticker_max_delay``/``ticker_connect_timeout``: KiteTicker's ``reconnect_max_delay`` (the library's
    floor is 5 s) and ``connect_timeout``. ``md_restart_pause``/``md_restart_wait``: what ``POST
    /market-data/restart`` pauses before reconnecting and how long it polls for the connection.
    ``pg_connect_timeout``: Postgres connect timeout (whole seconds, libpq). ``broker_token_ttl``:
    lifetime the lab gives the broker's access tokens. ``broker_timeout``: HTTP timeout towards the
    broker (KiteConnect's ``timeout``). ``min_refresh_interval``: the shortest time between two
    session refreshes (a bound against refresh storms).
    """

    name: str
    lock_ttl: float
    lock_refresh: float
    backoff: Tuple[float, ...]
    jitter: float
    redis_socket_timeout: float
    scan_period: float
    order_stream_period: float
    ticker_max_delay: float
    ticker_connect_timeout: float
    md_restart_pause: float
    md_restart_wait: float
    pg_connect_timeout: int
    broker_token_ttl: float
    broker_timeout: float
    min_refresh_interval: float

    @property
    def md_watchdog_s(self) -> float:
        """How long the ticker may stay down (on the monotonic clock) before the trader starts it again itself: a
        second past KiteTicker's longest reconnect delay, since the library's own retries wait on Twisted's
        timers, which read the wall clock (a step back while a retry is pending delays it by the step)."""
        return max(5.0, self.ticker_max_delay) + 1.0

    @property
    def backoff_max(self) -> float:
        """The longest re-acquire delay, jitter included."""
        return max(self.backoff) + self.jitter

    def timings(self, heartbeat_max: float = HEARTBEAT_MAX) -> Dict[str, float]:
        """The figures recorded in ``LabState.timings``."""
        return {
            "lock_ttl": self.lock_ttl,
            "refresh": self.lock_refresh,
            "backoff_max": self.backoff_max,
            "heartbeat_max": heartbeat_max,
            "ticker_max_delay": max(5.0, self.ticker_max_delay),
        }


PROFILES: Dict[str, Profile] = {
    "aitrapp": Profile(
        name="aitrapp",
        lock_ttl=aitrapp.LOCK_TTL_S,
        lock_refresh=aitrapp.LOCK_REFRESH_S,
        backoff=aitrapp.LOCK_BACKOFF_S,
        jitter=aitrapp.LOCK_JITTER_S,
        redis_socket_timeout=2.0,
        scan_period=1.0,
        order_stream_period=1.0,
        ticker_max_delay=aitrapp.TICKER_RECONNECT_MAX_DELAY_S,
        ticker_connect_timeout=aitrapp.TICKER_CONNECT_TIMEOUT_S,
        md_restart_pause=2.0,
        md_restart_wait=20.0,
        pg_connect_timeout=3,
        broker_token_ttl=600.0,
        broker_timeout=3.0,
        min_refresh_interval=5.0,
    ),
    "fast": Profile(
        name="fast",
        lock_ttl=3.0,
        lock_refresh=0.5,
        backoff=(0.2, 0.4, 0.8, 1.6, 2.0),
        jitter=0.1,
        redis_socket_timeout=0.5,
        scan_period=0.25,
        order_stream_period=0.25,
        ticker_max_delay=5.0,
        ticker_connect_timeout=5.0,
        md_restart_pause=0.5,
        md_restart_wait=10.0,
        pg_connect_timeout=2,
        broker_token_ttl=120.0,
        broker_timeout=2.0,
        min_refresh_interval=1.0,
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ValueError listing the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown lab profile {name!r}; known profiles: {', '.join(sorted(PROFILES))}") from None
