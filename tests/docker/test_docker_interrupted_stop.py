"""A stop interrupted by a signal (the chaos run killed mid-`docker stop`) is finished by the next
start, so a restore never mistakes a container on its way down for a running one."""
import pytest

from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.docker import DockerDriver

pytestmark = pytest.mark.docker


def test_start_finishes_an_interrupted_stop(make_container, tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAPP_CHAOS_STATE", str(tmp_path))
    made = make_container("redis")
    driver = DockerDriver(made.name, check="redis", port=made.port)
    driver.start(30)
    first_start = made.container.attrs["State"]["StartedAt"]
    marker = driver._stopping_marker()
    marker.parent.mkdir(parents=True)
    marker.write_text(made.container.id)  # what a stop leaves behind when the run dies mid-stop
    driver.start(60)
    made.container.reload()
    assert made.container.attrs["State"]["StartedAt"] != first_start, "the half-stopped container was not cycled"
    assert redis_answers("127.0.0.1", made.port) and not marker.exists()


def test_a_completed_stop_leaves_no_marker(make_container, tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAPP_CHAOS_STATE", str(tmp_path))
    made = make_container("redis")
    driver = DockerDriver(made.name, check="redis", port=made.port)
    driver.start(30)
    driver.stop(10)
    assert not driver._stopping_marker().exists() and not driver.is_running()
    driver.start(30)
    assert redis_answers("127.0.0.1", made.port)
