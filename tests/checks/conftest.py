"""Shared fixtures for the checker tests: limits for the lab's fast timing profile."""
import pytest

from chaosaitrapp.checks import Limits


@pytest.fixture
def limits() -> Limits:
    """TTL 3 s, refresh 1 s, backoff 2 s: detect 3.1 s, recover 7.6 s, max gap 1 s, heartbeat_max 5 s."""
    return Limits.defaults(lock_ttl=3, refresh=1, backoff_max=2.5, wait_ready_timeout=90, heartbeat_max=5)
