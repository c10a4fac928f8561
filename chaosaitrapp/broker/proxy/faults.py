"""The broker faults the proxy knows, as data: what each kind does, its parameters, its lease.

A fault lives in the proxy's memory only, for at most its lease: it expires by itself there (a proxy
that is restarted, or killed and started again, has no fault at all), and the extension's fault
ledger undoes it from outside (DELETE) when the drill ends or dies.

=========================  ==========================================================================
kind                       what the target sees while it is active
=========================  ==========================================================================
``token_invalidated``      every REST call and ticker handshake with a token seen before the fault
                           gets 403 ``TokenException``; a token the target obtains afterwards (a
                           refresh through the proxy) passes, the old one stays refused
``rate_limit``             every order placement gets 429 ``NetworkException`` "Too many requests"
                           with ``Retry-After`` (``retry_after`` s, default 1)
``server_error``           calls whose path starts with ``path`` (default ``/orders``) get
                           ``status`` (default 503) ``NetworkException``
``latency``                every REST answer is held back ``delay_ms`` (default 500)
``drop_reply``             an order placement reaches the broker (the order exists there) but its
                           reply never comes: the connection is held ``hold_s`` (default 10, above
                           KiteConnect's 7 s timeout) then closed; for ``count`` placements (default
                           1; -1: every one while the fault is active)
``ws_stall``               ticker sockets stay open but nothing flows to the target: no ticks, no
                           heartbeats (a blackhole); ``scope`` ``existing`` (default: the sockets
                           open at injection, a dead connection that a reconnect escapes) or ``all``
``ws_refuse``              new ticker handshakes get HTTP 403
``ws_close``               (instant) every open ticker socket is closed with ``code`` (1000, 1011;
                           1006: the connection is dropped without a close frame)
``ws_drop_subscriptions``  (instant) the broker forgets the sockets' subscriptions (the proxy
                           unsubscribes them upstream); a resubscribe brings the ticks back
=========================  ==========================================================================
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Set

HELD = ("token_invalidated", "rate_limit", "server_error", "latency", "drop_reply", "ws_stall", "ws_refuse")
INSTANT = ("ws_close", "ws_drop_subscriptions")
KINDS = HELD + INSTANT
CLOSE_CODES = (1000, 1006, 1011)
MAX_LEASE_S = 3600.0

_PARAMS: Dict[str, Dict[str, tuple]] = {
    "rate_limit": {"retry_after": (float, 1.0, 0.0, 60.0)},
    "server_error": {"status": (int, 503, 500, 599), "path": (str, "/orders", None, None)},
    "latency": {"delay_ms": (float, 500.0, 0.0, 60000.0)},
    "drop_reply": {"hold_s": (float, 10.0, 0.0, 120.0), "count": (int, 1, -1, 100000)},
    "ws_close": {"code": (int, 1006, None, None)},
    "ws_stall": {"scope": (str, "existing", None, None)},
}
_IDS = itertools.count(1)
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FaultError(ValueError):
    """A fault request the proxy refuses: unknown kind, bad parameter, bad lease (the message names it)."""


def validate(kind: str, params: Optional[Mapping[str, Any]], lease_s: Any) -> Dict[str, Any]:
    """The fault's parameters with defaults filled in; FaultError naming what is wrong."""
    if kind not in KINDS:
        raise FaultError(f"unknown broker fault {kind!r}; known: {', '.join(KINDS)}")
    try:
        lease = float(lease_s)
    except (TypeError, ValueError):
        raise FaultError(f"lease_s must be a number of seconds, got {lease_s!r}") from None
    if not 0 < lease <= MAX_LEASE_S and kind in HELD:
        raise FaultError(f"lease_s must be above 0 and at most {MAX_LEASE_S:g}, got {lease_s!r}")
    spec = _PARAMS.get(kind, {})
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
        if low is not None and (value < low or value > high):
            raise FaultError(f"{kind}: {name} must be between {low:g} and {high:g}, got {value!r}")
        out[name] = value
    if kind == "drop_reply" and out["count"] == 0:
        raise FaultError("drop_reply: count must be at least 1 (how many replies to drop) or -1 (every one)")
    if kind == "ws_close" and out["code"] not in CLOSE_CODES:
        raise FaultError(f"ws_close: code must be one of {CLOSE_CODES}, got {out['code']}")
    if kind == "ws_stall" and out["scope"] not in ("existing", "all"):
        raise FaultError(f"ws_stall: scope must be 'existing' (the sockets open now: a dead connection a "
                         f"reconnect escapes) or 'all', got {out['scope']!r}")
    return out


@dataclass
class Fault:
    """One active (or, for an instant kind, applied) fault."""

    kind: str
    params: Dict[str, Any]
    lease_s: float
    started_mono: float
    started_wall: float
    id: str = field(default_factory=lambda: f"f{next(_IDS)}")
    hits: int = 0
    old_tokens: List[str] = field(default_factory=list)
    new_token_seen: bool = False
    sockets: List[int] = field(default_factory=list)  # ids of the ticker sockets open at injection

    def expired(self, now_mono: float) -> bool:
        """True once the lease has run out (an instant fault is over at once)."""
        return self.kind in INSTANT or now_mono >= self.started_mono + self.lease_s

    def biting(self, open_sockets: Set[int]) -> bool:
        """True while the fault can still change what the target sees: a stall of the sockets open at
        injection bites while one of them is still open; every other held fault while it is active."""
        if self.kind == "ws_stall" and self.params.get("scope") == "existing":
            return any(sid in open_sockets for sid in self.sockets)
        return self.kind not in INSTANT

    def describe(self, open_sockets: Optional[Set[int]] = None) -> Dict[str, Any]:
        """The fault as the control API shows it (never a token); ``biting`` when ``open_sockets``
        (the ids of the ticker sockets open now) is given."""
        data = asdict(self)
        data.pop("old_tokens")
        data["old_token_count"] = len(self.old_tokens)
        data["sockets"] = len(self.sockets)
        if open_sockets is not None:
            data["biting"] = self.biting(open_sockets)
        return data


class FaultTable:
    """The proxy's faults. ``clock``/``wall`` are injectable (monotonic and Unix seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.wall = wall
        self.faults: Dict[str, Fault] = {}
        self.expired_total = 0

    def add(self, kind: str, params: Optional[Mapping[str, Any]], lease_s: Any,
            seen_tokens: Optional[List[str]] = None, fault_id: Optional[str] = None,
            sockets: Optional[List[int]] = None) -> Fault:
        """Validate and start a fault (FaultError when refused); an instant one is returned, not kept.
        ``fault_id``: the caller's id for it (so a ledger can name it before it exists)."""
        fault = Fault(kind, validate(kind, params, lease_s), float(lease_s), self.clock(), self.wall())
        if fault_id is not None:
            if not ID.match(str(fault_id)) or fault_id in self.faults:
                raise FaultError(f"fault id must be 1-64 letters, digits, '-' or '_' and unused, got {fault_id!r}")
            fault.id = str(fault_id)
        if kind == "token_invalidated":
            fault.old_tokens = list(seen_tokens or [])
        fault.sockets = list(sockets or [])
        if kind in HELD:
            self.faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> Optional[Fault]:
        """Clear one fault; the fault, or None when it is not active (expired, never was)."""
        return self.faults.pop(fault_id, None)

    def clear(self) -> int:
        """Clear every fault; how many were active."""
        count = len(self.faults)
        self.faults.clear()
        return count

    def active(self, kind: Optional[str] = None) -> List[Fault]:
        """The faults still within their lease (of ``kind`` when given); expired ones are dropped."""
        now = self.clock()
        for fault_id in [f.id for f in self.faults.values() if f.expired(now)]:
            self.faults.pop(fault_id)
            self.expired_total += 1
        return [f for f in self.faults.values() if kind is None or f.kind == kind]
