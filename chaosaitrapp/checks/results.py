"""What a checker answers: :class:`CheckResult`, and how several answers combine into one.

A checker never passes on missing evidence: ``unknown`` means "could not tell" and, for a
verdict, counts against the drill (:func:`chaosaitrapp.verdict.judge` passes a drill only when
every check passed).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, List, Optional

STATUSES = ("pass", "fail", "unknown")


@dataclass(frozen=True)
class CheckResult:
    """One checker's answer.

    ``status`` is ``"pass"``, ``"fail"`` or ``"unknown"``; ``reason`` is one sentence naming
    the measured value against the limit; ``value`` is the measured figure (seconds, count,
    age) when there is one; ``limit`` the figure it was held to; ``figures`` more named figures the
    evidence log records (e.g. the split-brain overlap's ``overlap_orders`` and ``overlap_s``).
    """

    name: str
    status: str
    reason: str
    value: Optional[float] = None
    limit: Optional[float] = None
    figures: Optional[Dict[str, float]] = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"CheckResult status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict with the fields (``figures`` only when there are some)."""
        out = asdict(self)
        if not self.figures:
            out.pop("figures")
        return out

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "CheckResult":
        """Rebuild from :meth:`to_dict` output; a missing or bad status becomes ``unknown``."""
        status = data.get("status")
        value, limit = data.get("value"), data.get("limit")
        return cls(
            name=str(data.get("name", "?")),
            status=status if status in STATUSES else "unknown",
            reason=str(data.get("reason", "")),
            value=float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None,
            limit=float(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) else None,
            figures={str(k): float(v) for k, v in data["figures"].items() if isinstance(v, (int, float))}
            if isinstance(data.get("figures"), dict) else None,
        )

    @property
    def passed(self) -> bool:
        """True only for ``status == "pass"``."""
        return self.status == "pass"


def combine(results: Iterable[CheckResult]) -> str:
    """``"fail"`` if any failed, else ``"unknown"`` if any is unknown (or there are none), else ``"pass"``."""
    statuses = [r.status for r in results]
    if "fail" in statuses:
        return "fail"
    if not statuses or "unknown" in statuses:
        return "unknown"
    return "pass"


def not_passed(results: Iterable[CheckResult]) -> List[CheckResult]:
    """The results that did not pass, failures first, in their original order otherwise."""
    results = list(results)
    return [r for r in results if r.status == "fail"] + [r for r in results if r.status == "unknown"]


def reasons_of(results: Iterable[CheckResult]) -> List[str]:
    """``"<name>: <reason>"`` for each result that did not pass (failures first)."""
    return [f"{r.name}: {r.reason}" if r.status == "fail" else f"{r.name} (unknown): {r.reason}"
            for r in not_passed(results)]
