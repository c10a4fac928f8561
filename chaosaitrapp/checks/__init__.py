"""Pure checkers over a drill's recorded timeline: pass / fail / unknown, never pass on missing evidence.

Load a timeline (:func:`load_timeline`), pick limits (:class:`Limits`), choose checkers (by name
from :data:`CHECKS`, or inferred from an experiment's faults with
:func:`chaosaitrapp.controls.inference.checks_of`), run them (:func:`run_checks`) and fold the results
(:func:`combine`). Formats: docs/internals.md.
"""
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.recovery import recovery_marks
from chaosaitrapp.checks.registry import BASELINE_CHECKS, CHECKS, FAULT_CHECKS, checks_for_faults, run_checks
from chaosaitrapp.checks.results import CheckResult, combine, not_passed, reasons_of
from chaosaitrapp.checks.timeline import Timeline, TimelineError, load_timeline

__all__ = [
    "BASELINE_CHECKS", "CHECKS", "FAULT_CHECKS", "CheckResult", "Limits", "Timeline", "TimelineError",
    "checks_for_faults", "combine", "load_timeline", "not_passed", "reasons_of", "recovery_marks", "run_checks",
]
