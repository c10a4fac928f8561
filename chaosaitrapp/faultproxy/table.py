"""A fault proxy's faults as data: each with its kind, checked parameters and lease, expiring by
itself inside the proxy (a proxy that is restarted, or killed and started again, has no fault at all).

A proxy gives :class:`FaultTable` its own ``validate(kind, params, lease_s)`` (which kinds it knows
and their parameters, usually through :func:`check_params` and :func:`check_lease`) and the kinds
that are *instant* (applied once, never kept). Client-given fault ids let a ledger name a fault
before it exists.
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Set, Tuple

MAX_LEASE_S = 3600.0
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IDS = itertools.count(1)

#: A parameter's spec: ``(type, default, low, high)`` (low/high None: no range; type str: a word).
ParamSpec = Tuple[type, Any, Optional[float], Optional[float]]
Validator = Callable[[str, Optional[Mapping[str, Any]], Any], Dict[str, Any]]


class FaultError(ValueError):
    """A fault request the proxy refuses: unknown kind, bad parameter, bad lease (the message names it)."""


def check_lease(lease_s: Any, held: bool) -> float:
    """``lease_s`` as seconds; FaultError unless it is a number, and for a held kind above 0 and at most
    :data:`MAX_LEASE_S`."""
    try:
        lease = float(lease_s)
    except (TypeError, ValueError):
        raise FaultError(f"lease_s must be a number of seconds, got {lease_s!r}") from None
    if held and not 0 < lease <= MAX_LEASE_S:
        raise FaultError(f"lease_s must be above 0 and at most {MAX_LEASE_S:g}, got {lease_s!r}")
    return lease


def check_params(kind: str, spec: Mapping[str, ParamSpec], params: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``params`` checked against ``spec`` with the defaults filled in; FaultError naming an unknown
    parameter, a value of the wrong type or one out of its range."""
    given = dict(params or {})
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise FaultError(f"{kind}: unknown parameter(s) {unknown}; it takes {sorted(spec) or 'none'}")
    out: Dict[str, Any] = {}
    for name, (typ, default, low, high) in spec.items():
        value = given.get(name, default)
        try:
            value = typ(value)
        except (TypeError, ValueError):
            raise FaultError(f"{kind}: {name} must be {typ.__name__}, got {value!r}") from None
        if low is not None and high is not None and (value < low or value > high):
            raise FaultError(f"{kind}: {name} must be between {low:g} and {high:g}, got {value!r}")
        out[name] = value
    return out


def check_choice(kind: str, name: str, value: Any, choices: Collection[Any], why: str = "") -> None:
    """FaultError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise FaultError(f"{kind}: {name} must be one of {', '.join(map(str, choices))}{why}, got {value!r}")


@dataclass
class Fault:
    """One active (or, for an instant kind, applied) fault. ``old_tokens`` and ``sockets`` are context a
    proxy attaches at injection (the tokens seen before it, the sockets open then)."""

    kind: str
    params: Dict[str, Any]
    lease_s: float
    started_mono: float
    started_wall: float
    instant: bool = False
    id: str = field(default_factory=lambda: f"f{next(_IDS)}")
    hits: int = 0
    old_tokens: List[str] = field(default_factory=list)
    new_token_seen: bool = False
    sockets: List[int] = field(default_factory=list)

    def expired(self, now_mono: float) -> bool:
        """True once the lease has run out (an instant fault is over at once)."""
        return self.instant or now_mono >= self.started_mono + self.lease_s

    def biting(self, open_sockets: Set[int]) -> bool:
        """True while the fault can still change what the target sees: a fault scoped to the sockets open
        at injection (``params["scope"] == "existing"``) while one of them is still open; every other
        held fault while it is active."""
        if self.params.get("scope") == "existing":
            return any(sid in open_sockets for sid in self.sockets)
        return not self.instant

    def describe(self, open_sockets: Optional[Set[int]] = None) -> Dict[str, Any]:
        """The fault as the control API shows it (never a token); ``biting`` when ``open_sockets``
        (the ids of the connections open now) is given."""
        data = asdict(self)
        data.pop("old_tokens")
        data["old_token_count"] = len(self.old_tokens)
        data["sockets"] = len(self.sockets)
        if open_sockets is not None:
            data["biting"] = self.biting(open_sockets)
        return data


class FaultTable:
    """A proxy's faults. ``validate`` checks a request (kind, params, lease) and returns the params;
    ``instant`` names the kinds applied once and never kept; ``clock``/``wall`` are injectable."""

    def __init__(self, validate: Validator, instant: Collection[str] = (), clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.validate = validate
        self.instant = frozenset(instant)
        self.clock = clock
        self.wall = wall
        self.faults: Dict[str, Fault] = {}
        self.expired_total = 0

    def add(self, kind: str, params: Optional[Mapping[str, Any]], lease_s: Any, fault_id: Optional[str] = None, *,
            old_tokens: Optional[List[str]] = None, sockets: Optional[List[int]] = None) -> Fault:
        """Validate and start a fault (FaultError when refused); an instant one is returned, not kept.
        ``fault_id``: the caller's id for it (so a ledger can name it before it exists)."""
        checked = self.validate(kind, params, lease_s)
        fault = Fault(kind, checked, float(lease_s), self.clock(), self.wall(), instant=kind in self.instant)
        if fault_id is not None:
            if not ID.match(str(fault_id)) or fault_id in self.faults:
                raise FaultError(f"fault id must be 1-64 letters, digits, '-' or '_' and unused, got {fault_id!r}")
            fault.id = str(fault_id)
        fault.old_tokens = list(old_tokens or [])
        fault.sockets = list(sockets or [])
        if not fault.instant:
            self.faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> Optional[Fault]:
        """Clear one fault; the fault, or None when it is not active (expired, never was)."""
        self.active()  # an expired fault is not "cleared"
        return self.faults.pop(fault_id, None)

    def clear(self) -> int:
        """Clear every fault; how many were active."""
        self.active()
        count = len(self.faults)
        self.faults.clear()
        return count

    def active(self, *kinds: str) -> List[Fault]:
        """The faults still within their lease (of one of ``kinds`` when given); expired ones are dropped."""
        now = self.clock()
        for fault_id in [f.id for f in self.faults.values() if f.expired(now)]:
            self.faults.pop(fault_id)
            self.expired_total += 1
        return [f for f in self.faults.values() if not kinds or f.kind in kinds]
