"""Synthetic drill timelines, for tests, demos and report previews (never for a verdict).

:class:`Scenario` describes what the target did (when readiness dropped and came back, when it
paused, lost leadership, when heartbeats went stale, when the sampler missed samples or the API
was unreachable) and :meth:`Scenario.records` renders it as the sampler would have written it:
samples at ``hz`` with a little jitter, realistic heartbeat sawtooths and events. The three
factories give the drills' nominal shapes; override any field to make a variant::

    leader_lock()                       # Redis stopped at 2, 503+paused at 2.7, back at 6.5
    leader_lock(detect_at=None)         # never noticed the fault
    leader_lock(flaps=[(7.5, 7.9)])     # dropped again after recovery
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from chaosaitrapp.checks.timeline import Timeline

Span = Tuple[float, float]
WALL0 = 1764070000.0


def _inside(t: float, spans: Sequence[Span]) -> bool:
    return any(a <= t < b for a, b in spans)


@dataclass
class Scenario:
    """A drill's behaviour over time; ``None`` for an instant means "never happened"."""

    drill: str = "leader_lock"
    target: str = "lab:redis"
    hz: float = 20.0
    duration: float = 9.0
    fault_at: Optional[float] = 2.0
    fault_detail: str = "stop"
    injected_after: float = 0.05
    restore_at: Optional[float] = 5.0
    restored_after: float = 0.2
    detect_at: Optional[float] = 2.7          # /ready 503 from here ...
    recover_at: Optional[float] = 6.5         # ... until here
    pause_at: Optional[float] = 2.7
    resume_at: Optional[float] = 6.5
    leader_lost_at: Optional[float] = 2.7    # leader gauge 0 from here ...
    leader_back_at: Optional[float] = 6.5    # ... until here
    flaps: List[Span] = field(default_factory=list)          # extra not-ready spans
    stale: List[Tuple[float, float, str]] = field(default_factory=list)  # (start, end, hb field) growing age
    stale_ready: bool = False                # a stale heartbeat leaves /ready ready (the bug to catch)
    missing: List[Span] = field(default_factory=list)        # no samples at all
    unreachable: List[Span] = field(default_factory=list)    # samples with nothing read and an error
    unhealthy: List[Span] = field(default_factory=list)      # /health answers "degraded"
    null_fields: List[Tuple[float, float, str]] = field(default_factory=list)  # (start, end, field) null
    queue_burst_at: Optional[float] = None   # queue rises after this ...
    queue_peak: float = 40.0
    queue_rise_s: float = 0.5
    queue_drain_rate: float = 10.0           # ... and drains at this many orders/s
    queue_stuck: bool = False                # the queue never drains
    heartbeat_max: float = 5.0
    limits: Optional[Dict[str, Any]] = None
    end_record: bool = True
    seed: int = 7

    def with_(self, **changes: Any) -> "Scenario":
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    # ---- state at an instant ------------------------------------------------------------------

    def _down(self, start: Optional[float], stop: Optional[float], t: float) -> bool:
        return start is not None and t >= start and (stop is None or t < stop)

    def _queue(self, t: float) -> float:
        if self.queue_burst_at is None or t < self.queue_burst_at:
            return 0.0
        since = t - self.queue_burst_at
        if since < self.queue_rise_s:
            return round(self.queue_peak * since / self.queue_rise_s)
        if self.queue_stuck:
            return self.queue_peak
        return max(0.0, round(self.queue_peak - (since - self.queue_rise_s) * self.queue_drain_rate))

    def sample(self, t: float, rng: random.Random) -> Dict[str, Any]:
        """The sample the sampler would have recorded at ``t``."""
        wall = WALL0 + t
        if _inside(t, self.unreachable):
            return {"kind": "sample", "t": round(t, 4), "wall": wall, "ready": None, "ready_code": None,
                    "leader": None, "paused": None, "md_hb": None, "order_hb": None, "scan_hb": None,
                    "queue": None, "health": None, "mode": None, "latency_ms": 2000.0,
                    "error": "GET /ready: ConnectionError: [Errno 111] Connection refused"}
        not_ready = self._down(self.detect_at, self.recover_at, t) or _inside(t, self.flaps)
        hb = {"md_hb": round((t + 0.13) % 0.5 + rng.uniform(0, 0.02), 3),
              "order_hb": round((t + 0.41) % 1.0 + rng.uniform(0, 0.02), 3),
              "scan_hb": round((t + 0.9) % 2.0 + rng.uniform(0, 0.02), 3)}
        for start, end, name in self.stale:
            if start <= t < end:
                hb[name] = round(0.5 + (t - start), 3)  # the loop stopped beating: its age grows
                not_ready = not_ready or not self.stale_ready
        sample: Dict[str, Any] = {
            "kind": "sample", "t": round(t, 4), "wall": round(wall, 4),
            "ready": not not_ready, "ready_code": 503 if not_ready else 200,
            "leader": 0.0 if self._down(self.leader_lost_at, self.leader_back_at, t) else 1.0,
            "paused": self._down(self.pause_at, self.resume_at, t),
            **hb,
            "queue": float(self._queue(t)),
            "health": "degraded" if _inside(t, self.unhealthy) else "healthy",
            "mode": "PAPER",
            "latency_ms": round(rng.uniform(4.0, 12.0), 2),
            "error": None,
        }
        for start, end, name in self.null_fields:
            if start <= t < end:
                sample[name] = None
                sample["error"] = f"{name}: could not be read"
        return sample

    # ---- the file -----------------------------------------------------------------------------

    def events(self) -> List[Dict[str, Any]]:
        """Phase and fault events, in time order."""
        out: List[Dict[str, Any]] = [self._event(0.0, "phase", None, "steady_state_before")]
        if self.fault_at is not None:
            out.append(self._event(max(0.0, self.fault_at - 0.1), "phase", None, "method"))
            out.append(self._event(self.fault_at, "fault", self.target, self.fault_detail))
            out.append(self._event(self.fault_at + self.injected_after, "fault_injected", self.target,
                                   "burst" if self.fault_detail == "burst" else "stopped"))
        if self.restore_at is not None:
            out.append(self._event(self.restore_at, "restore", self.target, "start"))
            out.append(self._event(self.restore_at + self.restored_after, "restored", self.target, "answers"))
        out.append(self._event(max(0.0, self.duration - 1.5), "phase", None, "steady_state_after"))
        out.append(self._event(max(0.0, self.duration - 0.5), "phase", None, "rollbacks"))
        return sorted(out, key=lambda e: e["t"])

    def _event(self, t: float, name: str, target: Optional[str], detail: str) -> Dict[str, Any]:
        return {"kind": "event", "t": round(t, 4), "wall": round(WALL0 + t, 4), "event": name,
                "target": target, "detail": detail}

    def records(self) -> List[Dict[str, Any]]:
        """Every record of the timeline file: meta, samples and events by time, end."""
        rng = random.Random(self.seed)
        interval = 1.0 / self.hz
        meta = {"kind": "meta", "drill": self.drill, "started_wall": WALL0, "interval": interval,
                "api": "http://127.0.0.1:8000", "heartbeat_max": self.heartbeat_max}
        if self.limits is not None:
            meta["limits"] = dict(self.limits)
        samples = []
        i = 1
        while True:
            t = i * interval + rng.uniform(0.0, 0.004)
            if t > self.duration:
                break
            if not _inside(t, self.missing):
                samples.append(self.sample(t, rng))
            i += 1
        body = sorted(samples + self.events(), key=lambda r: r["t"])
        out = [meta] + body
        if self.end_record:
            out.append({"kind": "end", "t": round(self.duration, 4), "wall": WALL0 + self.duration,
                        "samples": len(samples), "errors": 0, "dropped": 0})
        return out

    def timeline(self) -> Timeline:
        """The scenario as a :class:`Timeline`."""
        return Timeline.from_records(self.records())


def leader_lock(**changes: Any) -> Scenario:
    """Redis stopped at t=2; /ready 503 and paused at 2.7; restarted at 5; ready and resumed at 6.5."""
    return Scenario(**changes)


def postgres_blip(**changes: Any) -> Scenario:
    """Postgres stopped at t=2 and restarted at 5; the API stays healthy and ready throughout."""
    base = dict(drill="postgres_blip", target="lab:postgres", detect_at=None, recover_at=None, pause_at=None,
                resume_at=None, leader_lost_at=None, leader_back_at=None)
    base.update(changes)
    return Scenario(**base)


def rate_limit_spike(**changes: Any) -> Scenario:
    """A 40-order burst at t=2: the throttle queue peaks at 40 by 2.5 and drains at 10/s by 6.5."""
    base = dict(drill="rate_limit_spike", target="lab:trader", fault_detail="burst", restore_at=None,
                detect_at=None, recover_at=None, pause_at=None, resume_at=None, leader_lost_at=None,
                leader_back_at=None, queue_burst_at=2.05, duration=10.0)
    base.update(changes)
    return Scenario(**base)
