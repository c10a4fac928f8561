"""Pure checkers over a drill's recorded timeline: pass / fail / unknown, never pass on missing evidence.

Load a timeline (:func:`load_timeline`), pick limits (:class:`Limits`), choose checkers (by name: the
general ones are :data:`GENERAL_CHECKS`, each fault family brings its own and
:func:`chaosaitrapp.registry.checkers` lists them all; or inferred from an experiment's faults with
:func:`chaosaitrapp.controls.inference.checks_of`), run them (:func:`run_checks`) and fold the results
(:func:`combine`). Formats: docs/internals.md.
"""
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.recovery import recovery_marks
from chaosaitrapp.checks.registry import BASELINE_CHECKS, GENERAL_CHECKS, run_checks
from chaosaitrapp.checks.results import CheckResult, combine, not_passed, reasons_of
from chaosaitrapp.checks.timeline import Timeline, TimelineError, load_timeline

__all__ = [
    "BASELINE_CHECKS", "GENERAL_CHECKS", "CheckResult", "Limits", "Timeline", "TimelineError", "combine",
    "load_timeline", "not_passed", "reasons_of", "recovery_marks", "run_checks",
]
