"""The clock checks on synthetic timelines: the lock key held at every read during the jump passes, one read
finding it gone fails; heartbeat ages from the jump on between 0 and heartbeat_max pass, a negative age or
one the size of the step fails, ages before the jump do not count; no jump, no read, no age is unknown. And
the clock file's offsets and the jump's bounds."""
from __future__ import annotations

from datetime import datetime

import pytest

from chaosaitrapp.checks.clock import heartbeat_ages_sane, jump_window, lock_kept_through_jump
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets.wallclock import IST, ClockSetting, check_jump, next_token_expiry, read_clock, write_clock

JUMP = ({"t": 1.0, "event": "fault_injected", "target": "clock:/lab/clock/trader.offset", "dependency": "clock"},
        {"t": 8.0, "event": "restored", "target": "clock:/lab/clock/trader.offset", "dependency": "clock"})


def timeline(*records, end=12.0) -> Timeline:
    body = [{"kind": "meta", "t": 0.0, "drill": "clock_jump"}]
    body += [{"kind": "event", **r} if "event" in r else {"kind": "sample", **r} for r in records]
    body.append({"kind": "end", "t": end})
    return Timeline.from_records(body)


def read(t, held, pttl=2500):
    return {"t": t, "event": "lock_read", "target": "redis", "held": held, "pttl_ms": pttl if held else None}


def sample(t, md=0.1, order=0.2, scan=0.3):
    return {"t": t, "md_hb": md, "order_hb": order, "scan_hb": scan}


def test_the_lock_held_at_every_read_during_the_jump_passes():
    result = lock_kept_through_jump(timeline(*JUMP, read(2, True, 2900), read(5, True, 2400), read(9, False)),
                                    Limits.aitrapp())
    assert result.status == "pass" and "held at all 2 reads" in result.reason and "2400 ms" in result.reason, result
    assert result.figures == {"lock_reads": 2, "jump_s": 7.0}


def test_a_read_finding_the_key_gone_fails_naming_when():
    result = lock_kept_through_jump(timeline(*JUMP, read(2, True), read(4.5, False), read(5, False)), Limits.aitrapp())
    assert result.status == "fail" and result.value == 2.0, result
    assert "gone at t=4.50" in result.reason and "lease ran out while its wall clock was off" in result.reason


def test_without_a_jump_or_a_read_the_lock_check_is_unknown():
    assert lock_kept_through_jump(timeline(read(2, True)), Limits.aitrapp()).status == "unknown"
    assert lock_kept_through_jump(timeline(*JUMP, read(9, True)), Limits.aitrapp()).status == "unknown"
    unreadable = {"t": 2, "event": "lock_read", "target": "redis", "held": None}
    assert lock_kept_through_jump(timeline(*JUMP, unreadable), Limits.aitrapp()).status == "unknown"


def test_sane_ages_pass_and_ages_before_the_jump_do_not_count():
    result = heartbeat_ages_sane(timeline(sample(0.5, md=-7.0), *JUMP, sample(2), sample(9, scan=1.2)), Limits.aitrapp())
    assert result.status == "pass" and result.value == 1.2, result


@pytest.mark.parametrize("age,needle", [(-299.7, "negative"), (300.2, "above heartbeat_max")])
def test_an_age_from_the_wall_clock_fails(age, needle):
    result = heartbeat_ages_sane(timeline(*JUMP, sample(2), sample(8.5, order=age)), Limits.aitrapp())
    assert result.status == "fail" and needle in result.reason and "order_hb read" in result.reason, result
    assert result.value == age


def test_without_a_jump_or_an_age_the_heartbeat_check_is_unknown():
    assert heartbeat_ages_sane(timeline(sample(2)), Limits.aitrapp()).status == "unknown"
    assert heartbeat_ages_sane(timeline(*JUMP, {"t": 2.0}), Limits.aitrapp()).status == "unknown"
    assert jump_window(timeline(JUMP[0], end=5.0)) == (1.0, 5.0)  # never put back: to the end


def test_clock_settings_are_written_whole_and_read_back(tmp_path):
    path = tmp_path / "trader.offset"
    for setting, text in ((ClockSetting(-300), "-300"), (ClockSetting(3600), "+3600"), (ClockSetting(0), "+0"),
                          (ClockSetting(1.5), "+1.5"), (ClockSetting(0, 0.25), "+0 x0.25"), (ClockSetting(-5, 2), "-5 x2")):
        write_clock(path, setting)
        assert path.read_text() == text + "\n" and read_clock(path) == setting
        assert read_clock(path).true is (setting == ClockSetting(0))
    path.write_text("")
    assert read_clock(path).true
    path.write_text("@2026-12-04 00:29:50\n")
    with pytest.raises(ConfigError, match="not an offset"):
        read_clock(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_clock(tmp_path / "missing")


@pytest.mark.parametrize("jump,needle", [("soon", "signed number"), ("0", "non-zero"), ("+86401", "at most 86400s"),
                                         ("nan", "non-zero"), ("x1.02", "at least 5% away"), ("x0", "drift must be"),
                                         ("x20", "drift must be"), ("xfast", "drift must be")])
def test_bad_jumps_are_refused(jump, needle):
    with pytest.raises(ConfigError, match=needle):
        check_jump(jump)
    assert check_jump("-300") == ClockSetting(-300.0) and check_jump("+3600") == ClockSetting(3600.0)
    assert check_jump("x0.25") == ClockSetting(0.0, 0.25) and check_jump("x4") == ClockSetting(0.0, 4.0)


@pytest.mark.parametrize("now_ist,expected_s", [
    ("2026-12-04 14:30:00", 15 * 3600 + 30 * 60 - 10),   # afternoon: to tomorrow's 05:59:50
    ("2026-12-04 05:00:00", 3600 - 10),                   # before dawn: to today's
    ("2026-12-04 05:59:55", 86400 - 5),                   # inside the lead: tomorrow's (never a jump back)
    ("2026-12-04 06:00:00", 86400 - 10),                  # the expiry itself: tomorrow's
])
def test_a_jump_to_the_token_expiry_lands_ten_seconds_before_the_next_0600_ist(now_ist, expected_s):
    now = datetime.strptime(now_ist, "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST).timestamp()
    seconds = check_jump("to_token_expiry", now=now).offset
    assert seconds == pytest.approx(expected_s)
    assert datetime.fromtimestamp(now + seconds, IST).strftime("%H:%M:%S") == "05:59:50"
    assert next_token_expiry(now + seconds) - (now + seconds) == pytest.approx(10.0)
