"""Pure checkers over a drill's recorded timeline: pass / fail / unknown, never pass on missing evidence.

Load a timeline (:func:`load_timeline`), pick limits (:class:`Limits`), run checkers
(:func:`run_checks` with :data:`DRILL_CHECKS` or your own names) and fold the results
(:func:`combine`, :func:`verdict_of`). Formats: docs/internals.md.
"""
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.recovery import recovery_marks
from chaosaitrapp.checks.registry import CHECKS, DRILL_CHECKS, checks_for, run_checks
from chaosaitrapp.checks.results import CheckResult, combine, not_passed, reasons_of, verdict_of
from chaosaitrapp.checks.timeline import Timeline, TimelineError, load_timeline

__all__ = [
    "CHECKS", "DRILL_CHECKS", "CheckResult", "Limits", "Timeline", "TimelineError", "checks_for", "combine",
    "load_timeline", "not_passed", "reasons_of", "recovery_marks", "run_checks", "verdict_of",
]
