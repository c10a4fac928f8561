"""CheckResult and how results combine: fail wins, then unknown, then pass; nothing is unknown."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaosaitrapp.checks import CheckResult, combine, reasons_of
from chaosaitrapp.checks.results import not_passed


def r(status, name="c", reason="because"):
    return CheckResult(name, status, reason)


def test_combine_semantics():
    assert combine([]) == "unknown"
    assert combine([r("pass")]) == "pass"
    assert combine([r("pass"), r("unknown")]) == "unknown"
    assert combine([r("unknown"), r("fail"), r("pass")]) == "fail"
    assert combine(iter([r("pass"), r("pass")])) == "pass"


@given(st.lists(st.sampled_from(["pass", "fail", "unknown"])))
def test_combine_is_order_free_and_never_passes_on_doubt(statuses):
    results = [r(s) for s in statuses]
    combined = combine(results)
    assert combined == combine(list(reversed(results)))
    if combined == "pass":
        assert statuses and set(statuses) == {"pass"}
    assert ("fail" in statuses) == (combined == "fail")


def test_round_trip_through_dict():
    result = CheckResult("time_to_detect_ready", "fail", "slow", 12.5, 10.0)
    assert CheckResult.from_dict(result.to_dict()) == result
    assert result.to_dict() == {"name": "time_to_detect_ready", "status": "fail", "reason": "slow",
                                "value": 12.5, "limit": 10.0}


def test_from_dict_is_defensive():
    result = CheckResult.from_dict({"name": "x", "status": "green", "value": True, "limit": "3"})
    assert result.status == "unknown" and result.value is None and result.limit is None


def test_bad_status_is_rejected_and_result_is_frozen():
    with pytest.raises(ValueError):
        CheckResult("x", "ok", "")
    result = r("pass")
    with pytest.raises(Exception):
        result.status = "fail"


def test_reasons_list_failures_first():
    results = [r("unknown", "a", "gap"), r("pass", "b"), r("fail", "c", "slow")]
    assert [x.name for x in not_passed(results)] == ["c", "a"]
    assert reasons_of(results) == ["c: slow", "a (unknown): gap"]
