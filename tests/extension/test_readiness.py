"""/ready in both of the real service's forms, and the leader-999 quirk."""
import pytest

from chaosaitrapp.api.readiness import interpret_ready
from chaosaitrapp.errors import ApiError

READY = {"ok": True, "ready": True, "status": "ready", "mode": "PAPER", "leader": 1,
         "marketdata_heartbeat": 0.2, "order_stream_heartbeat": 0.5, "scan_heartbeat": 1.1}
NOT_READY = {"ok": False, "ready": False, "status": "not_ready", "mode": "PAPER", "leader": 0,
             "marketdata_heartbeat": 0.2, "order_stream_heartbeat": 0.5, "scan_heartbeat": 1.1, "heartbeat_max": 5}


def test_200_ready():
    r = interpret_ready(200, READY)
    assert r["ready"] is True and r["status"] == "ready" and r["leader"] == 1


def test_503_plain():
    r = interpret_ready(503, NOT_READY)
    assert r["ready"] is False and r["status"] == "not_ready" and r["leader"] == 0


def test_503_wrapped_by_older_build():
    body = {"detail": "Readiness check error: 503: " + str(NOT_READY)}
    r = interpret_ready(503, body)
    assert r["ready"] is False and r["leader"] == 0


def test_leader_999_means_never_taken():
    r = interpret_ready(503, {**NOT_READY, "leader": 999})
    assert r["leader_never_taken"] is True and r["ready"] is False


def test_200_that_says_not_ready_is_not_ready():
    assert interpret_ready(200, {**READY, "status": "not_ready"})["ready"] is False


def test_other_codes_are_errors():
    with pytest.raises(ApiError, match="expected HTTP 200 or 503, got 500"):
        interpret_ready(500, READY)
