"""Split brain, Jepsen-style: what an order history says about how many instances traded at once.

A history is a list of placements as the broker saw them (the broker fault proxy's ``order`` records
of a drill): ``t`` (receive time), ``instance`` (the sending instance's id, when it said), ``fence``
(its fencing token, when it sent one), ``tag`` (Kite's, one per ``client_order_id``), ``status``
(200: the broker accepted it) and ``dropped`` (its answer never reached the sender). Pure functions,
no I/O: :func:`analyse` returns every finding, the checkers turn them into results.

- **overlap**: at most one instance places orders at any time. With fencing tokens: no accepted order
  from an instance under grant ``g`` after another instance's first accepted order under a newer grant
  ``g' > g``. Without tokens (AITRAPP as published) the successive leaders are read from the order of
  the instances' first placements: no earlier leader places after a later one began, while that later
  one could still hold its lease (``lease_s`` after its last placement). Each such order is reported
  with its time and the window's length (from the later leader's first placement).
- **stale fence**: the tokens of accepted orders never go backwards in receive order.
- **duplicate**: no tag accepted twice (two broker order ids for one ``client_order_id``).
- **lost** / **indeterminate**: an acknowledged order (the target's API said accepted) with no accepted
  placement at the broker is lost, unless one of its placements lost its answer: then its fate was
  unknown to the sender, and it is counted as indeterminate, never as lost or ok.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Dict, Iterable, List, Mapping, Optional, Sequence


@dataclass
class Finding:
    """One thing wrong in a history: ``kind`` (overlap, stale_fence, duplicate, lost), when, which."""

    kind: str
    t: float
    tag: str = ""
    instance: str = ""
    detail: str = ""
    window_s: float = 0.0


@dataclass
class Analysis:
    """Everything :func:`analyse` found, and what it counted."""

    findings: List[Finding] = field(default_factory=list)
    accepted: int = 0
    instances: List[str] = field(default_factory=list)
    fenced: bool = False
    indeterminate: List[str] = field(default_factory=list)

    def of(self, kind: str) -> List[Finding]:
        """The findings of one kind."""
        return [f for f in self.findings if f.kind == kind]


def placed_at(placement: Mapping[str, Any]) -> float:
    """A history record's time (``t``): the sort key of every history."""
    return float(placement["t"])


def _accepted(history: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    accepted = [p for p in history if p.get("status") == 200]
    accepted.sort(key=placed_at)
    return accepted


def _fence(placement: Mapping[str, Any]) -> Optional[int]:
    value = placement.get("fence")
    if value is None or value.__class__ is int:
        return value
    try:
        return int(value) if value != "" else None
    except (TypeError, ValueError):
        return None


def _overlaps_fenced(accepted: Sequence[Mapping[str, Any]], fences: Sequence[Optional[int]]) -> List[Finding]:
    """Orders under a grant older than one another instance already traded under (``fences``: each one's token)."""
    out: List[Finding] = []
    newest: Dict[str, tuple] = {}  # instance -> (fence, first t) of its newest grant seen so far
    top: Optional[int] = None  # the newest grant seen so far, of any instance
    for p, fence in zip(accepted, fences):
        if fence is None:
            continue
        instance, t = str(p.get("instance") or "?"), float(p["t"])
        if instance not in newest or fence > newest[instance][0]:
            newest[instance] = (fence, t)
        if top is None or fence > top:
            top = fence
        if fence >= top:
            continue  # no grant newer than this one yet: none of another instance either
        newer = [(f, first, other) for other, (f, first) in newest.items() if other != instance and f > fence]
        if newer:
            f, first, other = min(newer, key=lambda x: x[1])
            out.append(Finding("overlap", t, str(p.get("tag") or ""), instance,
                               f"placed under grant {fence} after {other} traded under grant {f} (from t={first:.3f})",
                               round(t - first, 4)))
    return out


def _overlaps_unfenced(accepted: Sequence[Mapping[str, Any]], lease_s: float) -> List[Finding]:
    """Without tokens the grants are read from the history itself: the instances in the order of their
    first placement are the successive leaders. A placement by an earlier leader after a later one began
    trading, while that later one could still hold its lease (up to ``lease_s`` after its last
    placement), is an overlap."""
    first: Dict[str, float] = {}
    last: Dict[str, float] = {}
    for p in accepted:
        instance, t = str(p.get("instance") or "?"), float(p["t"])
        first.setdefault(instance, t)
        last[instance] = t
    out: List[Finding] = []
    leaders = sorted(first, key=lambda o: (first[o], o))  # in the order they began: (first, name)
    position = {o: k for k, o in enumerate(leaders)}
    for p in accepted:
        instance, t = str(p.get("instance") or "?"), float(p["t"])
        k = position[instance] + 1  # only leaders after this one can have begun after it
        while k < len(leaders) and first[leaders[k]] < t:  # the earliest that began before t and may still lead
            other = leaders[k]
            if first[instance] < first[other] and t <= last[other] + lease_s:
                began = first[other]
                out.append(Finding("overlap", t, str(p.get("tag") or ""), instance,
                                   f"placed after {other} began trading at t={began:.3f} (it placed until "
                                   f"t={last[other]:.3f})", round(t - began, 4)))
                break
            k += 1
    return out


def analyse(history: Iterable[Mapping[str, Any]], acknowledged: Iterable[str] = (),
            tags_of: Optional[Mapping[str, Collection[str]]] = None, lease_s: float = float("inf")) -> Analysis:
    """Every finding in ``history`` (module docstring). ``acknowledged``: the ``client_order_id`` values
    the target's API accepted (lost and indeterminate ones are reported in id order); ``tags_of``: the tags each may carry (default: the id itself); ``lease_s``:
    the lock's TTL (without tokens, how long after its last placement a later leader may still hold it)."""
    history = list(history)
    accepted = _accepted(history)
    result = Analysis(accepted=len(accepted))
    result.instances = sorted({str(p.get("instance") or "?") for p in accepted})
    fences = [_fence(p) for p in accepted]
    result.fenced = fences.count(None) < len(fences)
    result.findings += _overlaps_fenced(accepted, fences) if result.fenced else _overlaps_unfenced(accepted, lease_s)
    highest: Optional[int] = None
    for p, fence in zip(accepted, fences) if result.fenced else ():
        if fence is None:
            continue
        if highest is not None and fence < highest:
            result.findings.append(Finding("stale_fence", float(p["t"]), str(p.get("tag") or ""),
                                           str(p.get("instance") or "?"),
                                           f"token {fence} accepted after token {highest}"))
        highest = fence if highest is None else max(highest, fence)
    first: Dict[str, Mapping[str, Any]] = {}  # tag -> its first accepted placement
    again: Dict[str, List[Mapping[str, Any]]] = {}  # tag -> all its accepted placements, when more than one
    for p in accepted:
        tag = p.get("tag") or ""
        tag = tag if tag.__class__ is str else str(tag)
        prior = first.setdefault(tag, p)
        if prior is not p:
            again.setdefault(tag, [prior]).append(p)
    for tag, placed in again.items():
        ids = {str(p.get("order_id")) for p in placed}
        if len(ids) > 1:
            result.findings.append(Finding("duplicate", float(placed[1]["t"]), tag, str(placed[1].get("instance") or "?"),
                                           f"accepted {len(placed)} times (by {sorted({str(p.get('instance')) for p in placed})})"))
    dropped_tags = {str(p.get("tag") or "") for p in history if p.get("dropped")}
    lost: List[str] = []
    own_tags = {} if tags_of is None or getattr(tags_of, "identity", False) else tags_of  # identity: the id itself
    if not own_tags:  # each id its own only tag: those not accepted are found by a set difference
        acknowledged = (acknowledged if isinstance(acknowledged, (set, frozenset)) else set(acknowledged)).difference(first)
    for client_order_id in acknowledged:
        tags = own_tags.get(client_order_id, (client_order_id,))
        if (tags[0] in first) if tags.__class__ is tuple and len(tags) == 1 else any(tag in first for tag in tags):
            continue
        if any(tag in dropped_tags for tag in tags):
            result.indeterminate.append(client_order_id)
        else:
            lost.append(client_order_id)
    result.indeterminate.sort()
    result.findings += [Finding("lost", 0.0, client_order_id, "", "acknowledged but never accepted at the broker")
                        for client_order_id in sorted(lost)]
    return result
