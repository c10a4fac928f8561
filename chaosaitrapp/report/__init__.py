"""Evidence people can look at: the drill report (HTML), the suite index, JUnit XML, a JSON summary.

All pages are single self-contained files (inline CSS and SVG, no script, no external
reference) scrubbed of secrets. A *run* dict, shared by the index and CI outputs, is
``{"drill", "verdict", "reasons", "duration", "report", "journal", "log"}``.
"""
from chaosaitrapp.report.batch import build_reports, find_journals, run_from_journal
from chaosaitrapp.report.html import assess, find_extension, render_drill_report, write_drill_report
from chaosaitrapp.report.junit import summary, write_junit, write_summary_json
from chaosaitrapp.report.scrub import defang_urls, scrub_data, scrub_text
from chaosaitrapp.report.suite import render_suite_index, suite_verdict

__all__ = [
    "build_reports", "find_journals", "run_from_journal", "assess", "defang_urls", "find_extension", "render_drill_report", "render_suite_index", "scrub_data",
    "scrub_text", "suite_verdict", "summary", "write_drill_report", "write_junit", "write_summary_json",
]
