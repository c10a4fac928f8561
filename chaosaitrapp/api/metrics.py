"""Parse Prometheus text with prometheus_client's parser and pick samples by name and labels.

Values are floats (the service prints ``1.0``): callers compare numerically.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

from prometheus_client.parser import text_string_to_metric_families

from chaosaitrapp.errors import MetricsError


@dataclass(frozen=True)
class Sample:
    """One sample: full sample name (``_total`` etc. included), labels, value."""

    name: str
    labels: Mapping[str, str]
    value: float


def parse_metrics(text: str, source: str = "/metrics") -> List[Sample]:
    """Every sample in Prometheus exposition ``text``; MetricsError naming ``source`` if malformed."""
    if not isinstance(text, str):
        raise MetricsError(f"{source}: expected Prometheus text, got {type(text).__name__}")
    try:
        return [
            Sample(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except Exception as exc:  # the parser raises ValueError, TypeError, IndexError... on bad input
        first = next((line for line in text.splitlines() if line.strip()), "")[:80]
        raise MetricsError(f"{source}: malformed Prometheus text ({type(exc).__name__}: {exc}); "
                           f"first line {first!r}", source=source)


def select(samples: List[Sample], name: str, labels: Optional[Mapping[str, str]] = None) -> List[Sample]:
    """Samples named ``name`` whose labels include every pair in ``labels``."""
    wanted = dict(labels or {})
    return [s for s in samples if s.name == name and all(s.labels.get(k) == str(v) for k, v in wanted.items())]


def metric_value(
    samples: List[Sample],
    name: str,
    labels: Optional[Mapping[str, str]] = None,
    aggregate: str = "single",
    source: str = "/metrics",
) -> float:
    """The value of metric ``name`` (with ``labels``).

    ``aggregate``: ``single`` (exactly one sample must match), ``sum`` or ``max`` over matches.
    MetricsError when nothing matches (listing similar names) or the match is ambiguous.
    """
    matches = select(samples, name, labels)
    if not matches:
        similar = sorted({s.name for s in samples if s.name.split("_")[:2] == name.split("_")[:2]})[:8]
        have = f"; present: {', '.join(similar)}" if similar else f"; {len(samples)} samples present"
        label_text = f" with labels {dict(labels)}" if labels else ""
        raise MetricsError(f"{source}: metric {name}{label_text} is missing{have}", metric=name)
    values = [m.value for m in matches]
    if any(math.isnan(v) for v in values):
        raise MetricsError(f"{source}: metric {name} is NaN", metric=name)
    if aggregate == "sum":
        return float(sum(values))
    if aggregate == "max":
        return float(max(values))
    if aggregate != "single":
        raise MetricsError(f"aggregate must be single, sum or max, got {aggregate!r}")
    if len(matches) > 1:
        raise MetricsError(
            f"{source}: {len(matches)} samples of {name} match {dict(labels or {})}: "
            f"{[dict(m.labels) for m in matches][:4]}; give labels or aggregate='sum'|'max'", metric=name)
    return values[0]


HEARTBEATS: Dict[str, str] = {
    "marketdata": "trader_marketdata_heartbeat_seconds",
    "order_stream": "trader_order_stream_heartbeat_seconds",
    "scan": "trader_scan_heartbeat_seconds",
}


def histogram(samples: List[Sample], name: str) -> Optional[Dict[str, object]]:
    """Histogram ``name`` summed over its label sets: ``{"buckets": [[le, cumulative count], ...] (le
    ascending, ``+Inf`` as ``inf``), "count", "sum"}``, or None when the target has no such histogram."""
    buckets: Dict[float, float] = {}
    for s in select(samples, f"{name}_bucket"):
        le = s.labels.get("le")
        if le is None:
            continue
        bound = math.inf if le in ("+Inf", "Inf", "inf") else float(le)
        buckets[bound] = buckets.get(bound, 0.0) + s.value
    if not buckets:
        return None
    count = sum(s.value for s in select(samples, f"{name}_count"))
    total = sum(s.value for s in select(samples, f"{name}_sum"))
    return {"buckets": [[le, buckets[le]] for le in sorted(buckets)], "count": count, "sum": total}

