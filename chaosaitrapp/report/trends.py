"""Repeats and trends of drills, pure: figures over the repeated runs of each drill (``aitrapp-chaos run
--repeat N``) and their comparison with a stored baseline (``--baseline DIR``).

A run is a suite run dict (:mod:`chaosaitrapp.suite`: ``drill``, ``verdict``, ``checks``). For each drill:

- ``runs``, ``verdicts`` (count per verdict), ``fail_rate`` (the share of its runs that did not pass) and
  ``flaky`` (True when some runs passed and some did not: the same drill against the same target decided
  differently);
- ``figures``: for every check that measures seconds (``time_to_*``: detection and recovery; and
  ``total_unavailability``), ``p50``, ``p95`` and ``max`` of its value over the runs that measured it
  (nearest rank: with 10 runs p95 is the largest but none, with fewer it is the largest), and ``n``;
- ``checks``: per check, how many runs it passed, failed or could not decide.

The comparison flags a **regression** when a figure's p95 grew by more than ``share`` of the baseline's
(default 0.2, and at least ``floor_s``, 0.05 s, so a 10 ms jitter of a 20 ms figure is none), or when a check
that passed in every baseline run failed in any run now. A drill or figure the baseline lacks is new, not a
regression; one the runs now lack is reported as missing.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence

#: The format of the trends file (``<tag>.trends.json``).
TRENDS_FORMAT = 1
#: A p95 that grew by more than this share of the baseline's is a regression (``--regression-share``).
DEFAULT_SHARE = 0.2
#: ... and by at least this many seconds.
FLOOR_S = 0.05


def is_figure(check_name: str) -> bool:
    """True for a check whose value is seconds worth a trend: detection, recovery, total unavailability."""
    return check_name.startswith("time_to_") or check_name == "total_unavailability"


def figures_of(run: Mapping[str, Any]) -> Dict[str, float]:
    """The run's figures: the value of each of its checks that measures seconds (:func:`is_figure`)."""
    out = {}
    for check in run.get("checks") or []:
        value = check.get("value") if isinstance(check, Mapping) else None
        if isinstance(check, Mapping) and is_figure(str(check.get("name"))) and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            out[str(check["name"])] = float(value)
    return out


def nearest_rank(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile of ``values`` by nearest rank (the smallest value with at least that share of
    the values at or below it); ValueError when there are none."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def drill_trends(runs: Sequence[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Each drill's figures over its runs (module docstring), by drill name, in the order first seen."""
    grouped: Dict[str, List[Mapping[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(str(run.get("drill") or "?"), []).append(run)
    out: Dict[str, Dict[str, Any]] = {}
    for drill, group in grouped.items():
        verdicts: Dict[str, int] = {}
        values: Dict[str, List[float]] = {}
        checks: Dict[str, Dict[str, int]] = {}
        for run in group:
            verdict = str(run.get("verdict") or "FAIL")
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            for check in run.get("checks") or []:
                if not isinstance(check, Mapping) or not check.get("name"):
                    continue
                tally = checks.setdefault(str(check["name"]), {"pass": 0, "fail": 0, "unknown": 0})
                status = str(check.get("status"))
                tally[status if status in tally else "unknown"] += 1
            for name, value in figures_of(run).items():
                values.setdefault(name, []).append(value)
        passed = verdicts.get("PASS", 0)
        out[drill] = {
            "runs": len(group), "verdicts": verdicts,
            "fail_rate": round((len(group) - passed) / len(group), 3),
            "flaky": 0 < passed < len(group),
            "figures": {name: {"n": len(v), "p50": round(nearest_rank(v, 0.5), 3),
                               "p95": round(nearest_rank(v, 0.95), 3), "max": round(max(v), 3)}
                        for name, v in sorted(values.items())},
            "checks": dict(sorted(checks.items())),
        }
    return out


def compare(now: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]],
            share: float = DEFAULT_SHARE, floor_s: float = FLOOR_S) -> Dict[str, List[str]]:
    """``{"regressions": [...], "notes": [...]}``, one line each, comparing drill trends ``now`` with
    ``baseline`` (module docstring)."""
    regressions: List[str] = []
    notes: List[str] = []
    for drill, then in baseline.items():
        current = now.get(drill)
        if current is None:
            notes.append(f"{drill}: in the baseline, not run now")
            continue
        for name, old in (then.get("figures") or {}).items():
            new = (current.get("figures") or {}).get(name)
            if new is None:
                notes.append(f"{drill}: {name} measured in the baseline, not now")
                continue
            grown = float(new["p95"]) - float(old["p95"])
            if grown > max(share * float(old["p95"]), floor_s):
                regressions.append(f"{drill}: {name} p95 {new['p95']:.3f} s, was {old['p95']:.3f} s "
                                   f"(+{grown:.3f} s, more than {share:.0%})")
        for name, old in (then.get("checks") or {}).items():
            new = (current.get("checks") or {}).get(name)
            if new and old.get("pass", 0) > 0 and not old.get("fail") and not old.get("unknown") and new.get("fail"):
                regressions.append(f"{drill}: {name} failed in {new['fail']} of {current['runs']} run(s); it passed "
                                   f"in all {old['pass']} of the baseline")
    for drill in now:
        if drill not in baseline:
            notes.append(f"{drill}: not in the baseline (new)")
    return {"regressions": regressions, "notes": notes}


def describe(trends: Mapping[str, Mapping[str, Any]]) -> List[str]:
    """Lines for the console: per drill its verdicts, fail rate and flakiness, then a line per figure."""
    lines = []
    for drill, t in trends.items():
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(t["verdicts"].items()))
        lines.append(f"{drill}: {t['runs']} run(s) ({verdicts}); fail rate {t['fail_rate']:.0%}"
                     + ("; FLAKY: the same drill decided differently" if t["flaky"] else ""))
        for name, f in t["figures"].items():
            lines.append(f"  {name}: p50 {f['p50']:.3f} s, p95 {f['p95']:.3f} s, max {f['max']:.3f} s (n {f['n']})")
    return lines


def trends_document(trends: Mapping[str, Mapping[str, Any]], comparison: Optional[Mapping[str, Any]] = None,
                    baseline: Optional[str] = None) -> Dict[str, Any]:
    """The JSON document of a trends file: its format, the drills' trends and, against a baseline, the
    baseline's path and the comparison."""
    document: Dict[str, Any] = {"format": TRENDS_FORMAT, "drills": dict(trends)}
    if comparison is not None:
        document.update(baseline=baseline, comparison=dict(comparison))
    return document


def trends_of_document(document: Any, origin: str) -> Dict[str, Dict[str, Any]]:
    """The drills' trends of a trends file's JSON ``document``; ValueError naming ``origin`` when it is not one."""
    if not isinstance(document, dict) or document.get("format") != TRENDS_FORMAT \
            or not isinstance(document.get("drills"), dict):
        raise ValueError(f"{origin} is not a trends file of format {TRENDS_FORMAT} (written by aitrapp-chaos run "
                         "--repeat)")
    return document["drills"]
