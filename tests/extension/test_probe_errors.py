"""Probes fail with clear ActivityFailed errors: unreachable API, 401, malformed bodies, missing
metrics, bad targets; and the API key is sent but never shown."""

import pytest

from chaosaitrapp.errors import ApiError, ConfigError, GuardRefused, MetricsError, TargetNotFound
from chaosaitrapp.metrics import probes as metrics
from chaosaitrapp.targets.resolve import resolve_target
from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.trader import probes as trader

from .fakeapi import FakeApi


def test_unreachable_api_names_the_url():
    cfg = {"api": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(ApiError, match=r"API unreachable .*is the service running at http://127.0.0.1"):
        trader.readiness(cfg)


def test_401_says_to_set_the_key_and_never_shows_it(monkeypatch):
    monkeypatch.setenv("API_KEY", "s3cr3t-key-value")
    with FakeApi({("GET", "/state"): (401, {"detail": "Invalid or missing API Key"})}) as api:
        with pytest.raises(ApiError) as err:
            trader.is_paused({"api": api.url})
        assert "401" in str(err.value) and "API_KEY" in str(err.value)
        assert "s3cr3t-key-value" not in str(err.value)
        assert api.seen[0][2].get("X-API-Key") == "s3cr3t-key-value"


def test_wait_fails_fast_on_401():
    with FakeApi({("GET", "/ready"): (401, {"detail": "Invalid or missing API Key"})}) as api:
        with pytest.raises(ApiError, match="401"):
            trader.wait_ready(timeout=30, configuration={"api": api.url})


def test_malformed_metrics_is_a_clear_error():
    with FakeApi({("GET", "/metrics"): (200, "trader_is_leader{instance_id=\"a\" 1.0\n")}) as api:
        with pytest.raises(MetricsError, match=r"/metrics: malformed Prometheus text"):
            metrics.leader_status({"api": api.url})


def test_missing_metric_is_a_clear_error():
    with FakeApi({("GET", "/metrics"): (200, "# TYPE other gauge\nother 1.0\n")}) as api:
        with pytest.raises(MetricsError, match="trader_is_leader is missing"):
            metrics.leader_status({"api": api.url})


def test_state_without_is_paused_is_reported():
    with FakeApi({("GET", "/state"): (200, {"paused": True, "mode": "PAPER"})}) as api:
        with pytest.raises(ApiError, match="expected boolean 'is_paused'"):
            trader.is_paused({"api": api.url})


def test_non_json_body_is_reported():
    with FakeApi({("GET", "/health"): (200, "<html>oops</html>")}) as api:
        with pytest.raises(ApiError, match="expected a JSON body"):
            trader.health({"api": api.url})


def test_leader_is_numeric_against_float_text():
    with FakeApi({("GET", "/metrics"): (200, "# TYPE trader_is_leader gauge\ntrader_is_leader{instance_id=\"x\"} 1.0\n")}) as api:
        assert metrics.leader_status({"api": api.url}) == 1


def test_foreign_host_is_refused():
    with pytest.raises(GuardRefused, match="not in the allowed hosts"):
        trader.readiness({"api": "http://trading.example.com:8000"})


@pytest.mark.parametrize("target,message", [
    ("kubernetes:redis", "unknown target scheme 'kubernetes'"),
    ("docker:", "names no docker object"),
    ("", "non-empty string"),
])
def test_bad_target_strings(target, message):
    with pytest.raises(ConfigError, match=message):
        resolve_target(target, "redis")


def test_lab_target_without_a_lab(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAPP_LAB_DIR", str(tmp_path / "nolab"))
    with pytest.raises(TargetNotFound, match="no lab is up"):
        resolve_target("lab:redis", "redis")


def test_bad_configuration_values_are_named():
    with pytest.raises(ConfigError, match="heartbeat_max must be a positive number"):
        trader.wait_ready(configuration={"heartbeat_max": -5})
    with pytest.raises(ConfigError, match="api must be an http"):
        trader.readiness({"api": "localhost:8000"})


def test_probes_over_http_give_only_clear_activity_failures_on_garbage():
    """Property: whatever /metrics, /ready, /state and /health answer, every probe returns a value
    or raises ActivityFailed with a message (never another exception)."""
    from chaoslib.exceptions import ActivityFailed
    from hypothesis import given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(
            st.sampled_from(["status", "is_paused", "ready", "leader", "detail", "mode", "x"]), children, max_size=4),
        max_leaves=12,
    )
    probes = [metrics.leader_status, metrics.heartbeat_ages, metrics.throttle_queue_depth, trader.readiness,
              trader.ready_status, trader.is_paused, trader.health_status, trader.trader_state]
    with FakeApi({}) as api:
        @settings(max_examples=120, deadline=None)
        @given(st.text(max_size=200) | st.sampled_from(["# TYPE trader_is_leader gauge\ntrader_is_leader 1.0\n"]),
               json_values | st.text(max_size=40), st.sampled_from([200, 503, 500, 401, 404]))
        def check(metrics_text, body, code):
            api.routes[("GET", "/metrics")] = (200, metrics_text)
            api.routes[("GET", "/ready")] = (code, body)
            api.routes[("GET", "/state")] = (code if code != 503 else 200, body)
            api.routes[("GET", "/health")] = (200, body)
            for probe in probes:
                try:
                    probe({"api": api.url})
                except ActivityFailed as exc:
                    assert str(exc).strip()

        check()


def test_secrets_come_from_chaos_toolkit_scopes_or_the_environment(monkeypatch):
    from chaosaitrapp.config import api_key, database_url

    monkeypatch.setenv("API_KEY", "from-env")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert api_key({"aitrapp": {"api_key": "from-scope"}}) == "from-scope"
    assert api_key({"api_key": "flat"}) == "flat"
    assert api_key({"other": {"token": "x"}}) == "from-env" and api_key(None) == "from-env"
    assert database_url({"aitrapp": {"api_key": "k"}}) is None
