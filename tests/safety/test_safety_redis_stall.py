"""The Redis stall's ledger driver against a real redis-server: a stall answers nothing until its length has
passed and then carries on by itself; undoing it waits that out (it cannot be cut short); the record rebuilds
the driver in another process (the watchdog's), a password only through the REDIS_URL secret; bad lengths
are refused before anything is stalled."""
from __future__ import annotations

import time

import pytest

from chaosaitrapp import registry
from chaosaitrapp.deployment.lock import LockReader
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.gray.actions import access_of, stall_length
from chaosaitrapp.gray.stall import SECRET_ACCESS, RedisStallDriver
from chaosaitrapp.targets.process import ProcessDriver


def stall_of(redis_proc: ProcessDriver, seconds: float) -> RedisStallDriver:
    url = f"redis://127.0.0.1:{redis_proc.port}/0"
    return RedisStallDriver(LockReader(url, url=url), url, seconds)


def test_a_stall_answers_nothing_until_its_length_has_passed(redis_proc):
    driver = stall_of(redis_proc, 1.5)
    assert driver.answers()
    began = time.monotonic()
    driver.stop()
    assert not driver.answers(), "a stalled Redis answers no PING"
    assert redis_proc.is_running(), "the process runs on: a gray failure, not an outage"
    driver.start(timeout=10)
    waited = time.monotonic() - began
    assert driver.answers() and 1.4 <= waited < 10, f"answered again {waited:.2f}s after the stall began"


def test_the_record_rebuilds_the_driver_without_a_secret(redis_proc, monkeypatch):
    driver = stall_of(redis_proc, 2)
    driver.until_wall = time.time() + 2
    undo = driver.undo()
    assert undo["driver"] == "chaosaitrapp.gray.stall:RedisStallDriver" and "password" not in str(undo)
    again = registry.driver_from_undo(undo)
    assert isinstance(again, RedisStallDriver) and again.reader.url == driver.reader.url and again.seconds == 2
    secret = {**undo, "access": SECRET_ACCESS}
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(TargetError, match="REDIS_URL secret, which this process does not have"):
        RedisStallDriver.from_undo(secret)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{redis_proc.port}/0")
    assert RedisStallDriver.from_undo(secret).answers()


def test_the_access_never_carries_a_password():
    assert access_of(LockReader("the REDIS_URL secret", url="redis://:pw@127.0.0.1:1/0")) == SECRET_ACCESS
    assert access_of(LockReader("docker:redis", container="redis")) == "docker:redis"
    assert access_of(LockReader("x", url="redis://127.0.0.1:6379/0")) == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("seconds,needle", [(-1, "between 0 and 600"), (601, "between 0 and 600"),
                                            ("soon", "must be a number"), (float("nan"), "between 0 and 600")])
def test_bad_lengths_are_refused(seconds, needle):
    with pytest.raises(ConfigError, match=needle):
        stall_length(seconds)


def test_a_stall_of_the_lease_needs_the_lease():
    assert stall_length(4) == 4, "with the timing unknown a given length is taken as it is"
    assert stall_length(0, {"lock_ttl": 3, "lock_refresh": 0.5}) == 4.5
    with pytest.raises(ConfigError, match="needs the target's lock TTL and refresh"):
        stall_length(0, {"api": "http://127.0.0.1:1"})


def test_a_stall_is_held_against_the_lease_window():
    """TTL 3 s, refresh 0.5 s: the lease could run out 2.5 s without a refresh. A stall that threatens the
    lease must outlast that; a brief one must end within it (0: half of it)."""
    timing = {"lock_ttl": 3, "lock_refresh": 0.5}
    assert stall_length(2.6, timing) == 2.6 and stall_length(0, timing, brief=True) == 1.25
    assert stall_length(2.4, timing, brief=True) == 2.4
    with pytest.raises(ConfigError, match=r"a stall of 2.5s cannot make the lease run out .* 2.5s without a refresh"):
        stall_length(2.5, timing)
    with pytest.raises(ConfigError, match=r"a brief stall must end before the lease could run out: 2.5s is not shorter"):
        stall_length(2.5, timing, brief=True)
