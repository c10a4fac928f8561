"""Limits and their documented derivation from the service's lock timing."""
import pytest

from chaosaitrapp.checks import Limits


def test_aitrapp_defaults_follow_the_derivation():
    limits = Limits.aitrapp()
    assert limits.detect_s == pytest.approx(10 + 2 * 0.05 + 2.0)            # refresh + 2 intervals + margin
    assert limits.recover_s == pytest.approx(30 + 30.5 + 2 * 0.05 + 2.0)  # ttl + backoff (jitter in) + ...
    assert limits.min_sample_rate_hz == 10.0
    assert limits.heartbeat_max == 5.0 and limits.max_flaps == 0 and limits.queue_drain_s == 30.0
    assert limits.unavailability_s is None and limits.max_sample_gap_s == 1.0


def test_recover_is_capped_by_wait_ready_timeout():
    limits = Limits.defaults(lock_ttl=30, refresh=10, backoff_max=30, wait_ready_timeout=20, heartbeat_max=5)
    assert limits.recover_s == 20


def test_outage_gives_an_unavailability_limit_and_interval_widens_the_gap():
    limits = Limits.defaults(lock_ttl=3, refresh=1, backoff_max=2.5, wait_ready_timeout=90, heartbeat_max=4,
                             interval=0.2, margin=1.0, outage_s=3.0)
    assert limits.detect_s == pytest.approx(1 + 0.4 + 1.0)
    assert limits.recover_s == pytest.approx(3 + 2.5 + 0.4 + 1.0)
    assert limits.unavailability_s == pytest.approx(3.0 + limits.recover_s)
    assert limits.max_sample_gap_s == pytest.approx(2.0)
    assert limits.heartbeat_max == 4.0


def test_from_dict_and_meta():
    base = Limits.aitrapp()
    assert Limits.from_dict(base.to_dict()) == base
    changed = Limits.from_dict({"detect_s": 3, "max_flaps": 2.0, "bogus": 1, "recover_s": "x"}, base)
    assert changed.detect_s == 3.0 and changed.max_flaps == 2 and changed.recover_s == base.recover_s
    from_meta = Limits.from_meta({"heartbeat_max": 7, "limits": {"detect_s": 1.5}})
    assert from_meta.heartbeat_max == 7.0 and from_meta.detect_s == 1.5
    assert Limits.from_meta({"heartbeat_max": 7, "limits": {"heartbeat_max": 4}}).heartbeat_max == 4.0


def test_user_overrides_are_checked_key_by_key():
    from chaosaitrapp.controls.limits import check_limit_overrides
    from chaosaitrapp.errors import ConfigError

    assert check_limit_overrides({"detect_s": 15, "unavailability_s": None}, "x") == {"detect_s": 15,
                                                                                     "unavailability_s": None}
    with pytest.raises(ConfigError, match="unknown checker limit 'detct_s'.*detect_s"):
        check_limit_overrides({"detct_s": 15}, "AITRAPP_CHECK_LIMITS")
    with pytest.raises(ConfigError, match="limit recover_s must be a non-negative number"):
        check_limit_overrides({"recover_s": "soon"}, "AITRAPP_CHECK_LIMITS")
