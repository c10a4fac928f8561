"""A drill's timeline loaded from ``<drill>_<timestamp>.timeline.jsonl`` (format: docs/internals.md).

The sampler streams one JSON object per line: a ``meta`` record, ``sample`` records (what the
target said, ``t`` seconds after the sampler started), ``event`` records (fault, restore,
phase) and, when the run ended cleanly, an ``end`` record. A drill that injected broker faults
gets, after the end, ``broker`` records (what the broker fault proxy saw: order placements, ticker
sockets, subscriptions, first ticks, faults; ``t`` on the sampler's clock) and one ``orders``
record (the target's ``/orders`` at the end, and the SQL counts when a database was reachable).
A run killed mid-write leaves a truncated last line: :func:`load_timeline` drops it and sets
``Timeline.truncated``.

Checkers read a :class:`Timeline` only through its plain attributes and the small helpers
below, so a test can build one from hand-written records with :meth:`Timeline.from_records`.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

FAULT_EVENTS = ("fault", "fault_injected")
RESTORE_EVENTS = ("restore", "restored")


class TimelineError(ValueError):
    """A timeline file is malformed somewhere other than a truncated last line."""


def number(value: Any) -> Optional[float]:
    """``value`` as a float when it is a real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass
class Timeline:
    """A drill's recorded timeline.

    ``meta`` is the ``meta`` record (drill, interval, heartbeat_max, limits, ...), ``samples``
    and ``events`` are their records sorted by ``t``, ``end`` the ``end`` record or None when
    the run did not finish, ``truncated`` True when the file's last line was cut off; ``broker``
    the broker fault proxy's records sorted by ``t`` (None: not collected, the drill injected no
    broker fault or the proxy could not be read), ``orders`` the ``orders`` record or None; ``derived``
    what checks computed from the records and share (an analysis of the whole history), by key.
    """

    meta: Dict[str, Any] = field(default_factory=dict)
    samples: List[Dict[str, Any]] = field(default_factory=list)
    events: List[Dict[str, Any]] = field(default_factory=list)
    end: Optional[Dict[str, Any]] = None
    truncated: bool = False
    broker: Optional[List[Dict[str, Any]]] = None
    orders: Optional[Dict[str, Any]] = None
    derived: Dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_records(cls, records: Iterable[Dict[str, Any]]) -> "Timeline":
        """Build a timeline from parsed records (any order; unknown kinds are ignored).

        Raises :class:`TimelineError` when a sample or event has no numeric ``t``.
        """
        timeline = cls()
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise TimelineError(f"record {index} is {type(record).__name__}, not an object")
            kind = record.get("kind")
            if kind == "meta":
                timeline.meta.update(record)
            elif kind in ("sample", "event"):
                if number(record.get("t")) is None:
                    raise TimelineError(f"{kind} record {index} has no numeric 't': {record.get('t')!r}")
                (timeline.samples if kind == "sample" else timeline.events).append(record)
            elif kind == "end":
                timeline.end = record
            elif kind == "broker":
                if number(record.get("t")) is None:
                    raise TimelineError(f"broker record {index} has no numeric 't': {record.get('t')!r}")
                if timeline.broker is None:
                    timeline.broker = []
                timeline.broker.append(record)
            elif kind == "orders":
                timeline.orders = record
        timeline.samples.sort(key=lambda r: float(r["t"]))
        timeline.events.sort(key=lambda r: float(r["t"]))
        if timeline.broker is not None:
            timeline.broker.sort(key=lambda r: float(r["t"]))
        return timeline

    def to_records(self) -> List[Dict[str, Any]]:
        """The records in file order: meta, then samples and events by ``t``, then end."""
        body = sorted(self.samples + self.events, key=lambda r: float(r["t"]))
        records: List[Dict[str, Any]] = [{**self.meta, "kind": "meta"}] if self.meta else []
        records.extend(body)
        if self.end is not None:
            records.append(self.end)
        records.extend({**r, "kind": "broker"} for r in self.broker or [])
        if self.orders is not None:
            records.append({**self.orders, "kind": "orders"})
        return records

    def dump(self, path: Union[str, Path]) -> Path:
        """Write the timeline as JSON lines to ``path`` (for fixtures and re-exports)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            for record in self.to_records():
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        return path

    # ---- what the checkers ask -------------------------------------------------------------

    @property
    def drill(self) -> Optional[str]:
        """The drill name from the meta record, if any."""
        drill = self.meta.get("drill")
        return drill if isinstance(drill, str) else None

    @property
    def interval(self) -> Optional[float]:
        """The sampler's configured interval in seconds, if recorded."""
        return number(self.meta.get("interval"))

    @property
    def start_t(self) -> float:
        """The first instant observed: the first sample's ``t`` (0.0 without samples)."""
        return float(self.samples[0]["t"]) if self.samples else 0.0

    @property
    def end_t(self) -> float:
        """The last instant covered: the ``end`` record's ``t``, else the last sample or event."""
        candidates = [float(r["t"]) for r in (self.samples[-1:] + self.events[-1:])]
        if self.end is not None and number(self.end.get("t")) is not None:
            candidates.append(float(self.end["t"]))
        return max(candidates) if candidates else 0.0

    @property
    def duration(self) -> float:
        """``end_t`` minus ``start_t`` (0.0 for an empty timeline)."""
        return max(0.0, self.end_t - self.start_t)

    def series(self, name: str) -> List[Tuple[float, Any]]:
        """``(t, value)`` for every sample whose field ``name`` is not null, in time order."""
        return [(float(s["t"]), s[name]) for s in self.samples if s.get(name) is not None]

    def series_around(self, name: str, ref: float) -> List[Tuple[float, Any]]:
        """Like :meth:`series`, but a sample that began before ``ref`` and got its last answer at or after it
        (``t + latency_ms``) is placed at that answer: what it read may already be the state after ``ref``,
        so it is no evidence of the state before (nor of a time earlier than its answer). In time order."""
        placed = []
        for sample in self.samples:
            value = sample.get(name)
            if value is None:
                continue
            t = float(sample["t"])
            latency = number(sample.get("latency_ms"))
            if t < ref and latency is not None and t + latency / 1000.0 >= ref:
                t = t + latency / 1000.0
            placed.append((t, value))
        return sorted(placed, key=lambda pair: pair[0])

    def broker_records(self, *names: str) -> List[Dict[str, Any]]:
        """The broker records whose ``what`` is one of ``names`` (all when none given), in time order; picked
        once per timeline and names (shared: do not change the list)."""
        key = ("broker_records", names)
        if key not in self.derived:
            self.derived[key] = [r for r in self.broker or [] if not names or r.get("what") in names]
        return self.derived[key]

    def events_named(self, *names: str) -> List[Dict[str, Any]]:
        """The events whose ``event`` is one of ``names``, in time order."""
        return [e for e in self.events if e.get("event") in names]

    def first_event(self, *names: str, after: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The earliest event named one of ``names`` (at or after ``after`` when given)."""
        for event in self.events_named(*names):
            if after is None or float(event["t"]) >= after:
                return event
        return None

    def fault_windows(self) -> List[Tuple[float, Optional[float], Dict[str, Any]]]:
        """Each fault as ``(start, end, opening_event)``.

        A window opens at the first ``fault``/``fault_injected`` event while none is open and
        closes at the next ``restored`` event (or, when none follows, at the last ``restore``
        event after it). ``end`` is None for a fault never restored, e.g. a burst.
        """
        windows: List[Tuple[float, Optional[float], Dict[str, Any]]] = []
        opened: Optional[Dict[str, Any]] = None
        restore_seen: Optional[float] = None
        for event in self.events:
            name = event.get("event")
            t = float(event["t"])
            if name in FAULT_EVENTS and opened is None:
                opened, restore_seen = event, None
            elif name == "restore" and opened is not None:
                restore_seen = t
            elif name == "restored" and opened is not None:
                windows.append((float(opened["t"]), t, opened))
                opened, restore_seen = None, None
        if opened is not None:
            windows.append((float(opened["t"]), restore_seen, opened))
        return windows


    def frozen_windows(self) -> List[Tuple[float, float]]:
        """``(start, end)`` of each stretch in which the drill froze the sampled target itself (a pause of
        the replica the sampler read, ``meta["sampled_replica"]``, default ``r0``, the drill's ``API``: a
        split-brain pause) or killed it (the crash drill's trader, until it was started again): from its
        ``fault`` event to its ``restored`` event (to the end of the timeline when none came). A frozen or
        killed process answers nothing: these stretches are the fault, not holes in the evidence."""
        out: List[Tuple[float, float]] = []
        began: Optional[float] = None
        sampled = self.meta.get("sampled_replica", "r0")
        for event in self.events:
            paused = event.get("replica") == sampled and str(event.get("target") or "").startswith("pause:")
            killed = event.get("dependency") == "trader" and (event.get("fault_name") == "crash"
                                                               or event.get("event") == "restored")
            if not (paused or killed):
                continue
            if event.get("event") == "fault" and began is None:
                began = float(event["t"])
            elif event.get("event") == "restored" and began is not None:
                out.append((began, float(event["t"])))
                began = None
        if began is not None:
            out.append((began, self.end_t))
        return out

    def frozen_at(self, t: float) -> bool:
        """True when a sample begun at ``t`` may have read the frozen target: ``t`` in one of
        :meth:`frozen_windows`, or within 0.6 s before one began or after it ended (reads in flight then
        wait out their 0.5 s timeout)."""
        return any(start - 0.6 <= t <= end + 0.6 for start, end in self.frozen_windows())


def _shared_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    """A decoded object whose keys are interned: the same few keys on tens of thousands of records are kept once."""
    return {sys.intern(key): value for key, value in pairs}


def load_timeline(path: Union[str, Path]) -> Timeline:
    """Load a timeline JSON-lines file.

    A last line that is not valid JSON (a run killed mid-write) is dropped and
    ``truncated`` is set; an invalid line anywhere else raises :class:`TimelineError`
    naming the file and line. Blank lines are ignored. ``FileNotFoundError`` propagates.
    """
    path = Path(path)
    records: List[Dict[str, Any]] = []
    broken: Optional[Tuple[int, str]] = None  # the last invalid line so far: fatal unless it is the last one
    with open(path, "rb") as handle:  # line by line, keys shared: a long timeline costs one copy of itself
        for number, raw in enumerate(handle, start=1):
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            if broken is not None:
                raise TimelineError(f"{path}:{broken[0]}: not a timeline record ({broken[1]})")
            try:
                record = json.loads(line, object_pairs_hook=_shared_keys)
                if not isinstance(record, dict):
                    raise ValueError(f"a JSON {type(record).__name__}, not an object")
            except ValueError as exc:
                broken = (number, str(exc))
                continue
            records.append(record)
    truncated = broken is not None
    try:
        timeline = Timeline.from_records(records)
    except TimelineError as exc:
        raise TimelineError(f"{path}: {exc}") from None
    timeline.truncated = truncated
    return timeline
