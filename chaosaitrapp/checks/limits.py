"""The limits the checkers hold a drill to, and how their defaults follow from the service's timing.

Derivation (:meth:`Limits.defaults`), for a service whose leader lock has TTL ``lock_ttl``,
is refreshed every ``refresh`` seconds and re-acquired with backoff capped at ``backoff_max``
(jitter included), sampled every ``interval`` seconds:

- ``detect_s = refresh + 2*interval + margin``. After the dependency stops, the service notices
  at its next lock refresh, at most ``refresh`` later; the sampler sees it at most one interval
  after that (two to be safe); ``margin`` (default 2 s) covers the driver's stop itself, since
  detection is timed from the ``fault`` event, before the stop is issued.
- ``recover_s = min(wait_ready_timeout, lock_ttl + backoff_max + 2*interval + margin)``.
  After the dependency answers again, the next acquire attempt comes within one backoff step
  (at most ``backoff_max``); if Redis kept the old key across the restart (the
  AITRAPP stale-key quirk) acquire fails until the key's TTL runs out, at most ``lock_ttl``
  more. The seed's own recovery window, ``WAIT_READY_TIMEOUT``, caps it.
- ``unavailability_s = outage_s + recover_s`` when the drill's outage length is known, else
  None: the checker then derives it from the timeline as the time the fault was held (fault
  event to ``restored`` event, summed over fault windows) plus ``recover_s``.
- ``heartbeat_max`` is the seed's ``HEARTBEAT_MAX`` (5 s); ``max_flaps = 0`` (readiness may
  drop once per fault, never more); ``queue_drain_s = 30`` (the seed's rate-limit window);
  ``max_sample_gap_s = max(1.0, 10*interval)``: a longer hole in the samples makes a
  measurement that depends on it ``unknown``; ``min_sample_rate_hz = 10``: below it the timeline
  is too coarse to judge the drill by.

With AITRAPP's own timing (TTL 30, refresh 10, backoff 30 + 0.5 jitter, WAIT_READY_TIMEOUT 90,
20 Hz): detect 12.1 s, recover 62.6 s.

A broker fault is noticed and recovered on the market-data feed's timing instead
(:meth:`Limits.feed`), for a ticker that reconnects with delays capped at ``ticker_max_delay``
(KiteTicker's ``reconnect_max_delay``, 60 s by default, never below 5 s):

- ``detect_s = heartbeat_max + 2*interval + margin``: after the last tick the market-data heartbeat
  passes ``HEARTBEAT_MAX`` and ``/ready`` answers 503;
- ``recover_s = min(wait_ready_timeout, ticker_max_delay * (1 + TICKER_JITTER) + TICK_PERIOD_S +
  2*interval + margin)``: after the restore the ticker's next attempt comes within one backoff step
  (at most the cap, plus Twisted's jitter), then the first tick (Kite streams every instrument at
  least once a second while the market is open);
- ``max_token_refreshes = 3``: a token expiry is refreshed once per session (the REST client and the
  ticker may each notice it, a retry may race a refresh); more is a refresh storm.

``lock_ttl`` and ``lock_refresh`` are the target's lock timing itself: a partition from Redis must stop
trading before the lease can have run out, at the earliest ``lock_ttl - lock_refresh`` after the
partition began (the last refresh was at most one period before it).

With AITRAPP's timing (KiteTicker defaults): detect 7.1 s, recover 70.3 s. A drill that injects both
kinds of fault gets the larger of each limit (:meth:`Limits.widest`).

A fault family's own figures are its **budgets** (:attr:`Limits.budgets`): declared with their defaults by
the family (the stress drills' ``heartbeat_recover_s``, ``ready_p99_ms``, ``order_p99_ms``,
``memory_growth_mb``: :mod:`chaosaitrapp.stress.family`), overridden like every limit, read by its
checkers with :meth:`Limits.budget`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Dict, Optional

from chaosaitrapp import aitrapp
from chaosaitrapp.checks.results import CheckResult

MIN_SAMPLE_RATE_HZ = 10.0
#: Twisted's ReconnectingClientFactory jitter (KiteTicker's backoff): a delay may run this much longer.
TICKER_JITTER = 0.12
#: The longest wait for a tick once the ticker is connected and subscribed.
TICK_PERIOD_S = 1.0
INT_FIELDS = ("max_flaps", "max_token_refreshes")
NULLABLE_FIELDS = ("unavailability_s",)
#: Limits that follow from the target's timing: None when it is not known.
TIMING_FIELDS = ("detect_s", "lock_ttl", "lock_refresh")
UNKNOWN_LOCK_TIMING = ("the target's lock {} is unknown: give lock_ttl and lock_refresh (the deployment description), "
                       "or let the drill learn them from the lock key (lock_redis or the REDIS_URL secret)")


class MissingBudget(KeyError):
    """A checker asked for a budget its drill's limits do not have (a family's default was not applied)."""


@dataclass(frozen=True)
class Limits:
    """The figures checkers compare against (seconds unless said otherwise)."""

    detect_s: Optional[float]
    recover_s: float
    unavailability_s: Optional[float] = None
    heartbeat_max: float = 5.0
    max_flaps: int = 0
    queue_drain_s: float = 30.0
    max_sample_gap_s: float = 1.0
    min_sample_rate_hz: float = MIN_SAMPLE_RATE_HZ
    max_token_refreshes: int = 3
    lock_ttl: Optional[float] = 30.0
    lock_refresh: Optional[float] = 10.0
    budgets: Dict[str, Optional[float]] = field(default_factory=dict)
    unknown: Dict[str, str] = field(default_factory=dict)

    def missing(self, name: str, *limits: str) -> Optional[CheckResult]:
        """An ``unknown`` result for checker ``name`` when one of ``limits`` (field names) is unknown (the
        target's timing was neither given nor learned), naming why; None when all are known."""
        for limit in limits:
            if getattr(self, limit, None) is None:
                why = self.unknown.get(limit) or f"the limit {limit} is unknown"
                return CheckResult(name, "unknown", f"cannot judge: {why}")
        return None

    def budget(self, name: str) -> Optional[float]:
        """A fault family's budget (None is a value: "no allowance", as the family defines it); MissingBudget
        when these limits have none of that name."""
        if name not in self.budgets:
            raise MissingBudget(f"no budget {name!r} in the drill's limits (known: {', '.join(self.budgets) or 'none'})")
        return self.budgets[name]

    @classmethod
    def defaults(
        cls,
        lock_ttl: Optional[float],
        refresh: Optional[float],
        backoff_max: Optional[float],
        wait_ready_timeout: float,
        heartbeat_max: float,
        *,
        interval: float = 0.05,
        margin: float = 2.0,
        outage_s: Optional[float] = None,
        queue_drain_s: float = 30.0,
    ) -> "Limits":
        """Limits derived from the service's lock timing (see the module docstring). A figure not known (None)
        leaves what follows from it unknown (:attr:`unknown` says why; the checks that need it say unknown),
        except recovery, which is then held to ``wait_ready_timeout``, the deadline the drill was given."""
        sampling = 2 * interval
        recover = float(wait_ready_timeout) if lock_ttl is None or backoff_max is None else \
            min(float(wait_ready_timeout), lock_ttl + backoff_max + sampling + margin)
        unknown = {}
        if refresh is None:
            unknown["detect_s"] = unknown["lock_refresh"] = UNKNOWN_LOCK_TIMING.format("refresh period")
        if lock_ttl is None:
            unknown["lock_ttl"] = UNKNOWN_LOCK_TIMING.format("TTL")
        return cls(
            detect_s=None if refresh is None else round(refresh + sampling + margin, 3),
            recover_s=round(recover, 3),
            lock_ttl=None if lock_ttl is None else float(lock_ttl),
            lock_refresh=None if refresh is None else float(refresh),
            unknown=unknown,
            unavailability_s=None if outage_s is None else round(outage_s + recover, 3),
            heartbeat_max=float(heartbeat_max),
            max_flaps=0,
            queue_drain_s=float(queue_drain_s),
            max_sample_gap_s=round(max(1.0, 10 * interval), 3),
        )

    @classmethod
    def feed(
        cls,
        ticker_max_delay: Optional[float],
        wait_ready_timeout: float,
        heartbeat_max: float,
        *,
        interval: float = 0.05,
        margin: float = 2.0,
        queue_drain_s: float = 30.0,
    ) -> "Limits":
        """Limits for broker faults, from the market-data feed's timing (see the module docstring); with the
        ticker's delay cap unknown (None), recovery is held to ``wait_ready_timeout``."""
        sampling = 2 * interval
        recover = float(wait_ready_timeout) if ticker_max_delay is None else min(
            float(wait_ready_timeout),
            max(5.0, ticker_max_delay) * (1 + TICKER_JITTER) + TICK_PERIOD_S + sampling + margin)
        return cls(
            detect_s=round(heartbeat_max + sampling + margin, 3),
            recover_s=round(recover, 3),
            heartbeat_max=float(heartbeat_max),
            queue_drain_s=float(queue_drain_s),
            max_sample_gap_s=round(max(1.0, 10 * interval), 3),
        )

    def widest(self, other: "Limits") -> "Limits":
        """These limits with ``detect_s`` and ``recover_s`` the larger of the two (a drill injecting faults
        of both families)."""
        detect = None if self.detect_s is None or other.detect_s is None else max(self.detect_s, other.detect_s)
        return replace(self, detect_s=detect, recover_s=max(self.recover_s, other.recover_s),
                       unknown={**other.unknown, **self.unknown})

    @classmethod
    def aitrapp(cls) -> "Limits":
        """Defaults for AITRAPP's production timing (:mod:`chaosaitrapp.aitrapp`)."""
        return cls.defaults(**aitrapp.lock_timings(), wait_ready_timeout=aitrapp.WAIT_READY_TIMEOUT_S,
                            heartbeat_max=aitrapp.HEARTBEAT_MAX_S)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready flat dict (what the sampler stores as the timeline meta's ``limits``): the fields and
        the budgets side by side."""
        out = asdict(self)
        out.update(out.pop("budgets"))
        return out

    @classmethod
    def from_dict(cls, data: Optional[Dict[str, Any]], base: Optional["Limits"] = None) -> "Limits":
        """``base`` (default :meth:`aitrapp`) with the numeric keys of ``data`` applied: a field's name sets the
        field, any other name a budget (the caller validated the names: :mod:`chaosaitrapp.controls.limits`).

        Non-numeric values are ignored; ``unavailability_s`` and budgets may be null.
        """
        result = base or cls.aitrapp()
        changes: Dict[str, Any] = {}
        budgets = dict(result.budgets)
        names = {f.name for f in fields(cls)} - {"budgets", "unknown"}
        for key, value in (data or {}).items():
            if key == "unknown":
                if isinstance(value, dict):
                    changes["unknown"] = {str(k): str(v) for k, v in value.items()}
                continue
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key in names:
                if value is None and key in NULLABLE_FIELDS + TIMING_FIELDS:
                    changes[key] = None
                elif number:
                    changes[key] = int(value) if key in INT_FIELDS else float(value)
            elif key != "budgets" and (value is None or number):
                budgets[key] = None if value is None else float(value)
        return replace(result, budgets=budgets, **changes)

    @classmethod
    def from_meta(cls, meta: Dict[str, Any], base: Optional["Limits"] = None) -> "Limits":
        """Limits for a recorded timeline: its meta ``limits``, and its ``heartbeat_max`` when
        ``limits`` does not give one; the rest from ``base`` (default :meth:`aitrapp`)."""
        limits = meta.get("limits") if isinstance(meta.get("limits"), dict) else {}
        merged = dict(limits)
        if "heartbeat_max" not in merged and isinstance(meta.get("heartbeat_max"), (int, float)):
            merged["heartbeat_max"] = meta["heartbeat_max"]
        return cls.from_dict(merged, base)
