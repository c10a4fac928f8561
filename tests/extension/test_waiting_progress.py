"""A long wait is not silence: every PROGRESS_EVERY_S seconds it says what it waits for and what it saw."""
import logging

from chaosaitrapp.waiting import PROGRESS_EVERY_S, wait_until


def test_a_long_wait_reports_its_progress(caplog):
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="chaostoolkit"):
        result = wait_until(lambda: 503, lambda code: code == 200, timeout=25, interval=1.0, what="/ready 200",
                            clock=lambda: now[0], wall=lambda: 0.0, sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert not result.held
    lines = [r.getMessage() for r in caplog.records if "still waiting" in r.getMessage()]
    assert len(lines) == int(25 // PROGRESS_EVERY_S), lines
    assert lines[0] == "chaosaitrapp: still waiting for /ready 200: 10 s of 25 s (last value 503)"
