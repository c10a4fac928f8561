"""A campaign's schedule: which faults, when, for how long, drawn from a seed (pure; no I/O but the file's
text). The same seed, families, minutes and rate give the same schedule, byte for byte
(:func:`schedule_text`), and a schedule file runs again as it is (:func:`load_schedule`).

Drawing (:func:`make_schedule`): from ``LEAD_S`` after the start until ``TAIL_S`` before the end, one fault at a
time, its kind drawn among the families' faults (:mod:`chaosaitrapp.campaign.catalogue`), its length between
the kind's bounds; the next fault starts either inside this one (an overlap, with probability ``overlap``) or
after it, past a gap of ``GAP_S``. A fault never starts while another holds one of its resources (it waits
for the resource and ``SETTLE_S`` more: never two faults on one dependency at once).
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from chaosaitrapp.campaign.catalogue import BY_NAME, campaign_families, faults_of
from chaosaitrapp.errors import ConfigError

FORMAT = 1
LEAD_S = 2.0
TAIL_S = 2.0
SETTLE_S = 2.0
GAP_S = (1.0, 6.0)
MAX_MINUTES = 240.0
MAX_RATE = 50.0
#: The most orders a campaign offers (30 minutes at Kite's 10 orders/s, with room): every one is followed to the end.
MAX_ORDERS = 20_000
#: The most orders a campaign offers without the target's database: ``GET /orders`` may list its newest orders only
#: (the lab's: 1000), so more are followed in the ``orders`` table (:mod:`chaosaitrapp.campaign.preflight`).
LISTED_ORDERS = 1000


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: ``id``, ``kind`` (a catalogue name), ``start`` (seconds after the campaign began)
    and ``seconds`` (how long it stays)."""

    id: str
    kind: str
    start: float
    seconds: float

    @property
    def end(self) -> float:
        """When it is due to end."""
        return round(self.start + self.seconds, 3)


@dataclass(frozen=True)
class Schedule:
    """A whole campaign: how it was drawn (``seed``, ``families``, ``minutes``, ``rate`` orders/s, ``overlap``)
    and its ``faults`` in start order; ``length_s`` the campaign's whole length (the order flow's)."""

    seed: int
    families: Tuple[str, ...]
    minutes: float
    rate: float
    overlap: float
    length_s: float
    faults: Tuple[Fault, ...] = field(default_factory=tuple)
    origin: str = "drawn"

    def with_faults(self, faults: Sequence[Fault], origin: str) -> "Schedule":
        """This schedule with other ``faults`` (a shrink's candidate), its length cut to fit them."""
        ordered = tuple(sorted(faults, key=lambda f: (f.start, f.id)))
        end = max((f.end for f in ordered), default=0.0)
        return replace(self, faults=ordered, length_s=round(min(self.length_s, end + TAIL_S), 3), origin=origin)


def _check(seed: Any, minutes: Any, families: Sequence[str], rate: Any, overlap: Any) -> Tuple[int, float, float, float]:
    try:
        seed_i = int(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"--seed must be a whole number, got {seed!r}", key="seed") from None
    try:
        minutes_f, rate_f, overlap_f = float(minutes), float(rate), float(overlap)
    except (TypeError, ValueError):
        raise ConfigError(f"minutes, rate and overlap must be numbers, got {minutes!r}, {rate!r}, {overlap!r}") from None
    if not 0 < minutes_f <= MAX_MINUTES:
        raise ConfigError(f"--minutes must be above 0 and at most {MAX_MINUTES:g}, got {minutes!r}", key="minutes")
    if not 0 < rate_f <= MAX_RATE:
        raise ConfigError(f"--rate must be above 0 and at most {MAX_RATE:g} orders/s, got {rate!r}", key="rate")
    if rate_f * minutes_f * 60 > MAX_ORDERS:
        raise ConfigError(f"--rate {rate_f:g} over --minutes {minutes_f:g} offers {rate_f * minutes_f * 60:.0f} orders; a "
                          f"campaign offers at most {MAX_ORDERS}: lower --rate or --minutes", key="rate")
    if not 0 <= overlap_f <= 1:
        raise ConfigError(f"--overlap must be between 0 and 1, got {overlap!r}", key="overlap")
    known = campaign_families()
    unknown = [f for f in families if f not in known]
    if unknown or not families:
        raise ConfigError(f"unknown campaign famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown) or '(none)'}; "
                          f"campaigns draw from: {', '.join(known)}", key="families")
    return seed_i, minutes_f, rate_f, overlap_f


def make_schedule(seed: Any, minutes: Any, families: Optional[Sequence[str]] = None, rate: Any = 1.5,
                  overlap: Any = 0.4) -> Schedule:
    """Draw a schedule (module docstring). ``families``: those to draw from (default: every campaign family).
    ConfigError for a bad value or an unknown family, before anything is drawn."""
    names = tuple(families) if families else campaign_families()
    seed_i, minutes_f, rate_f, overlap_f = _check(seed, minutes, names, rate, overlap)
    names = tuple(sorted(set(names), key=campaign_families().index))
    kinds = faults_of(names)
    rng = random.Random(seed_i)
    length = round(minutes_f * 60, 3)
    free: Dict[str, float] = {}
    faults: List[Fault] = []
    t = LEAD_S
    while True:
        spec = kinds[rng.randrange(len(kinds))]
        seconds = round(rng.uniform(spec.min_s, spec.max_s), 1)
        start = round(max([t] + [free[r] + SETTLE_S for r in spec.resources if r in free]), 1)
        if start + seconds > length - TAIL_S:
            break
        faults.append(Fault(f"f{len(faults) + 1:03d}", spec.name, start, seconds))
        for resource in spec.resources:
            free[resource] = start + seconds
        t = start + rng.uniform(0.2, 0.8) * seconds if rng.random() < overlap_f else \
            start + seconds + rng.uniform(*GAP_S)
    return Schedule(seed_i, names, minutes_f, rate_f, overlap_f, length, tuple(faults))


def schedule_text(schedule: Schedule) -> str:
    """The schedule file's text: canonical JSON (sorted keys, fixed indent, newline at the end)."""
    document = {"format": FORMAT, **asdict(schedule)}
    document["families"] = list(schedule.families)
    document["faults"] = [asdict(f) for f in schedule.faults]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def overlapping(schedule: Schedule) -> List[Tuple[str, str]]:
    """Pairs of fault ids that are on at the same time."""
    pairs = []
    for i, a in enumerate(schedule.faults):
        for b in schedule.faults[i + 1:]:
            if b.start < a.end and a.start < b.end:
                pairs.append((a.id, b.id))
    return pairs


def conflicts(schedule: Schedule) -> List[str]:
    """What makes a schedule unsound: an unknown kind, a bad time, two faults holding one resource at once."""
    problems: List[str] = []
    for fault in schedule.faults:
        spec = BY_NAME.get(fault.kind)
        if spec is None:
            problems.append(f"fault {fault.id}: unknown kind {fault.kind!r}; known: {', '.join(BY_NAME)}")
        elif fault.start < 0 or fault.seconds <= 0 or fault.end > schedule.length_s:
            problems.append(f"fault {fault.id}: start {fault.start:g} s and {fault.seconds:g} s do not fit in the "
                            f"campaign's {schedule.length_s:g} s")
    for a_id, b_id in overlapping(schedule):
        a, b = (next(f for f in schedule.faults if f.id == i) for i in (a_id, b_id))
        if a.kind in BY_NAME and b.kind in BY_NAME:
            shared = set(BY_NAME[a.kind].resources) & set(BY_NAME[b.kind].resources)
            if shared:
                problems.append(f"faults {a.id} ({a.kind}) and {b.id} ({b.kind}) both hold {', '.join(sorted(shared))} "
                                "at once")
    ids = [f.id for f in schedule.faults]
    if len(set(ids)) != len(ids):
        problems.append("fault ids are not unique")
    return problems


def load_schedule(text: str, where: str = "schedule") -> Schedule:
    """A schedule from its file's text; ConfigError naming what is wrong (not JSON, another format, a missing
    or bad field, an unsound schedule)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{where}: not a campaign schedule of format {FORMAT}")
    try:
        faults = tuple(Fault(str(f["id"]), str(f["kind"]), float(f["start"]), float(f["seconds"]))
                       for f in data["faults"])
        schedule = Schedule(int(data["seed"]), tuple(str(f) for f in data["families"]), float(data["minutes"]),
                            float(data["rate"]), float(data["overlap"]), float(data["length_s"]), faults,
                            str(data.get("origin") or "drawn"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: a field is missing or malformed ({type(exc).__name__}: {exc})") from None
    if not 0 < schedule.rate <= MAX_RATE or schedule.rate * schedule.length_s > MAX_ORDERS:
        raise ConfigError(f"{where}: rate must be above 0 and at most {MAX_RATE:g}, and offer at most {MAX_ORDERS} "
                          f"orders over the campaign, got {schedule.rate:g}/s over {schedule.length_s:g}s")
    problems = conflicts(schedule)
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    return schedule
