"""Evidence people can look at: the drill report (HTML), the suite index, JUnit XML, a JSON summary.

All pages are single self-contained files (inline CSS and SVG, no script, no external
reference) scrubbed of secrets. A *run* dict, shared by the index and CI outputs, is
``{"drill", "verdict", "reasons", "duration", "report", "journal", "log"}``
(:mod:`chaosaitrapp.suite` makes them).
"""
from chaosaitrapp.report.html import assess, render_drill_report, write_drill_report
from chaosaitrapp.report.junit import summary, write_junit, write_summary_json
from chaosaitrapp.report.suite import render_suite_index

__all__ = ["assess", "render_drill_report", "render_suite_index", "summary", "write_drill_report", "write_junit",
           "write_summary_json"]
