"""The process: driver on a real redis-server: start detached, answer, stop, undo recipe, and no
secret handed down to the restarted process."""
import shutil
from pathlib import Path

import pytest

from chaosaitrapp.registry import driver_from_undo
from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.process import ProcessDriver, pid_alive
from chaosaitrapp.testing.lab import free_port


@pytest.fixture
def redis_driver(tmp_path):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (apt-get install redis-server)"
    port = free_port()
    driver = ProcessDriver(str(tmp_path / "redis.pid"), argv=[binary, "--bind", "127.0.0.1", "--port", str(port),
                                                             "--save", "", "--dir", str(tmp_path)],
                           log=str(tmp_path / "redis.log"), check="redis", port=port)
    yield driver
    driver.stop(10)


def test_start_stop_round_trip_and_undo(redis_driver, monkeypatch):
    monkeypatch.setenv("API_KEY", "never-hand-this-down")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw-never@127.0.0.1/db")
    redis_driver.start(20)
    assert redis_driver.is_running() and redis_driver.answers() and redis_answers("127.0.0.1", redis_driver.port)
    pid = redis_driver.pid()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"never-hand-this-down" not in environ and b"pw-never" not in environ
    redis_driver.start(20)  # idempotent: still the same process
    assert redis_driver.pid() == pid
    redis_driver.stop(10)
    assert not pid_alive(pid) and not redis_driver.answers()
    redis_driver.stop(10)  # idempotent
    clone = driver_from_undo(redis_driver.undo())
    clone.start(20)
    assert redis_driver.answers() and redis_driver.pid() != pid


def test_missing_start_command_is_named(tmp_path):
    driver = ProcessDriver(str(tmp_path / "x.pid"), argv=["/nonexistent/redis-server"], check="redis", port=free_port())
    with pytest.raises(Exception, match="start command '/nonexistent/redis-server' not found"):
        driver.start(2)
