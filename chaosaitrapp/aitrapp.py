"""AITRAPP's production facts, in one place: what the real service does, as its public source
reads (``shared/design/AITRAPP_CONTRACT.md``).

Everything that assumes the real service's timing (the checkers' default limits, the rollback
settle time, the lab's ``aitrapp`` profile) reads it from here, so a change to the contract is a
change to this module only. Nothing here imports anything: the lab's services use it too.
"""
from __future__ import annotations

from typing import Dict, Tuple

#: The leader lock: key, TTL, refresh period, re-acquire backoff (the last step repeats) and jitter.
LOCK_KEY = "trader:leader"
#: Not AITRAPP's (it sends neither): the headers by which an instance names itself and its lock grant's
#: fencing token on broker calls, as the lab trader does; the broker fault proxy records them (the
#: split-brain history) and the lab's broker refuses a stale token.
INSTANCE_HEADER = "X-AITRAPP-Instance"
FENCE_HEADER = "X-AITRAPP-Fence"
LOCK_TTL_S = 30.0
LOCK_REFRESH_S = 10.0
LOCK_BACKOFF_S: Tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
LOCK_JITTER_S = 0.5

#: ``/ready`` turns 503 when a heartbeat age reaches this (seconds); the seed's ``HEARTBEAT_MAX``.
HEARTBEAT_MAX_S = 5.0

#: The seed's deadlines: recovery (``WAIT_READY_TIMEOUT``) and detection (``DETECT_TIMEOUT``).
WAIT_READY_TIMEOUT_S = 90.0
DETECT_TIMEOUT_S = 30.0

#: Kite Connect's order rate limits (orders per second, per minute) and the service's leaky-bucket burst.
BROKER_ORDERS_PER_S = 10
BROKER_ORDERS_PER_MIN = 300
THROTTLE_BURST = 20

#: The rate-limit drill's window: the throttle queue must drain within this (seconds).
QUEUE_DRAIN_S = 30.0

#: KiteTicker's defaults as AITRAPP constructs it (no arguments): reconnect tries, max delay, connect timeout.
TICKER_RECONNECT_MAX_TRIES = 50
TICKER_RECONNECT_MAX_DELAY_S = 60.0
TICKER_CONNECT_TIMEOUT_S = 30.0


def lock_timings() -> Dict[str, float]:
    """The lock timing the checkers derive their limits from: ``lock_ttl``, ``refresh``,
    ``backoff_max`` (the longest re-acquire delay, jitter included)."""
    return {"lock_ttl": LOCK_TTL_S, "refresh": LOCK_REFRESH_S,
            "backoff_max": max(LOCK_BACKOFF_S) + LOCK_JITTER_S}
