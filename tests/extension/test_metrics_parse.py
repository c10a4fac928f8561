"""/metrics parsing: prometheus_client's parser, numeric values, clear errors on bad input."""
import pytest
from chaoslib.exceptions import ActivityFailed
from hypothesis import given, settings
from hypothesis import strategies as st

from chaosaitrapp.api.metrics import metric_value, parse_metrics
from chaosaitrapp.api.readiness import interpret_ready
from chaosaitrapp.errors import MetricsError

TEXT = """# HELP trader_is_leader 1 when leader
# TYPE trader_is_leader gauge
trader_is_leader{instance_id="a1"} 1.0
# TYPE trader_throttle_queue_depth gauge
trader_throttle_queue_depth{type="order_placement"} 3.0
# TYPE trader_kill_switch_total counter
trader_kill_switch_total{reason="leader_lock_lost"} 2.0
trader_kill_switch_total{reason="manual"} 1.0
"""


def test_values_are_floats_compared_numerically():
    samples = parse_metrics(TEXT)
    assert metric_value(samples, "trader_is_leader", aggregate="max") == 1
    assert metric_value(samples, "trader_throttle_queue_depth", {"type": "order_placement"}) == 3.0
    assert metric_value(samples, "trader_kill_switch_total", {"reason": "leader_lock_lost"}) == 2.0
    assert metric_value(samples, "trader_kill_switch_total", aggregate="sum") == 3.0


def test_missing_metric_names_what_is_there():
    with pytest.raises(MetricsError, match=r"trader_scan_heartbeat_seconds is missing"):
        metric_value(parse_metrics(TEXT), "trader_scan_heartbeat_seconds")


def test_ambiguous_metric_is_an_error():
    with pytest.raises(MetricsError, match="2 samples"):
        metric_value(parse_metrics(TEXT), "trader_kill_switch_total")


@pytest.mark.parametrize("bad", ["trader_is_leader{instance_id=\"a\" 1.0", "trader_is_leader one",
                                 "<html>502 Bad Gateway</html>", "{\"detail\": \"x\"}"])
def test_malformed_text_is_a_clear_error(bad):
    with pytest.raises(MetricsError, match="malformed Prometheus text"):
        parse_metrics(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_samples_or_activity_failed(text):
    try:
        samples = parse_metrics(text)
    except ActivityFailed as exc:
        assert str(exc)
        return
    try:
        metric_value(samples, "trader_is_leader", aggregate="max")
    except ActivityFailed as exc:
        assert str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([200, 503, 500, 401, 404]), json_values)
def test_any_ready_body_gives_a_reading_or_activity_failed(code, body):
    try:
        reading = interpret_ready(code, body)
    except ActivityFailed as exc:
        assert str(exc)
        return
    assert reading["ready"] in (True, False)
    assert reading["status"] in ("ready", "not_ready")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["status", "ready", "leader", "detail", "ok"]), json_values, max_size=5))
def test_ready_bodies_with_contract_keys(body):
    for code in (200, 503):
        try:
            reading = interpret_ready(code, body)
        except ActivityFailed:
            continue
        if code == 503:
            assert reading["ready"] is False
