"""Fixtures for the report tests (helpers live in report_fixtures.py)."""
import pytest
from report_fixtures import fast_limits

from chaosaitrapp.checks import Limits


@pytest.fixture
def limits() -> Limits:
    """The lab's fast timing profile: detect 3.1 s, recover 7.6 s."""
    return fast_limits()
