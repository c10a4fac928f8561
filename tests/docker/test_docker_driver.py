"""DockerDriver against the real engine: lookup by name and by compose label, stop/start
round trips that wait for Redis PING / Postgres, persistence, undo, and clear errors."""
from __future__ import annotations

import json
import time

import psycopg
import pytest
import redis

from chaosaitrapp.errors import TargetError, TargetNotFound
from chaosaitrapp.targets.answers import postgres_answers, redis_answers
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.docker_client import COMPOSE_PROJECT, COMPOSE_SERVICE

pytestmark = pytest.mark.docker


@pytest.fixture
def timed(timings):
    """``timed(what, fn, *args, **kwargs)``: call fn and record how long it took."""
    def run(what, fn, *args, **kwargs):
        started = time.monotonic()
        result = fn(*args, **kwargs)
        timings(what, time.monotonic() - started)
        return result
    return run


def test_redis_found_by_name_stop_start_keeps_keys(make_container, timed):
    made = make_container("redis")
    driver = DockerDriver(made.name)
    driver.start(timeout=30)  # already running: returns once PING answers
    assert driver.is_running() and driver.answers()
    client = redis.Redis(host="127.0.0.1", port=made.port, socket_timeout=2)
    client.set("chaosaitrapp:test:kept", "yes")
    client.close()

    timed("redis container stop", driver.stop, timeout=20)
    assert not driver.is_running()
    assert not driver.answers()
    assert not redis_answers("127.0.0.1", made.port)
    driver.stop(timeout=20)  # idempotent

    timed("redis container start (until PING)", driver.start, timeout=30)
    assert driver.is_running()
    client = redis.Redis(host="127.0.0.1", port=made.port, socket_timeout=2)
    try:
        assert client.ping()
        assert client.get("chaosaitrapp:test:kept") == b"yes"  # --save "3600 1": persisted over stop/start
    finally:
        client.close()
    driver.start(timeout=30)  # idempotent


def test_postgres_found_by_compose_label_stop_start(make_container, timed, unique_name):
    project, service = unique_name("proj"), unique_name("db")
    made = make_container("postgres", name=f"{project}-{service}-1",
                          labels={COMPOSE_SERVICE: service, COMPOSE_PROJECT: project})
    driver = DockerDriver(service)  # check and port inferred from image and command
    driver.start(timeout=60)
    undo = driver.undo()
    assert undo == {"driver": "chaosaitrapp.targets.docker:DockerDriver", "name": service, "project": None, "container_id": made.container.id,
                    "check": "postgres", "host": "127.0.0.1", "port": made.port}
    dsn = dict(host="127.0.0.1", port=made.port, user=made.user, password=made.password, dbname=made.database,
               connect_timeout=5)
    with psycopg.connect(**dsn) as conn:
        conn.execute("CREATE TABLE kept (id int primary key)")
        conn.execute("INSERT INTO kept VALUES (1)")

    timed("postgres container stop", driver.stop, timeout=30)
    assert not driver.is_running()
    assert not postgres_answers("127.0.0.1", made.port)

    timed("postgres container start (until accepting connections)", driver.start, timeout=60)
    assert driver.answers()
    with psycopg.connect(**dsn) as conn:
        assert conn.execute("SELECT id FROM kept").fetchall() == [(1,)]

    qualified = DockerDriver(service, project=project)
    assert qualified.is_running()
    assert qualified.describe() == f"docker:{service} (project {project})"


def test_undo_round_trip_and_container_id_fallback(make_container, unique_name):
    made = make_container("redis")
    driver = DockerDriver(made.name)
    driver.start(timeout=30)
    undo = json.loads(json.dumps(driver.undo()))
    assert undo["check"] == "redis" and undo["port"] == made.port
    rebuilt = DockerDriver.from_undo(undo)
    assert rebuilt.describe() == driver.describe()
    assert rebuilt.is_running() and rebuilt.answers()

    # Renamed since the recipe was written: the recorded id still finds it.
    made.container.rename(unique_name("renamed"))
    again = DockerDriver.from_undo(undo)
    again.stop(timeout=20)
    assert not again.is_running()
    again.start(timeout=30)
    assert again.answers()


def test_missing_container_is_a_clear_error(make_container, unique_name):
    running = make_container("redis")
    name = unique_name("missing")
    driver = DockerDriver(name)
    with pytest.raises(TargetNotFound) as err:
        driver.is_running()
    message = str(err.value)
    assert f"docker:{name}" in message
    assert f"com.docker.compose.service={name}" in message
    assert "running containers:" in message and running.name in message
    with pytest.raises(TargetNotFound):
        driver.start(timeout=5)
    with pytest.raises(TargetNotFound):
        driver.stop(timeout=5)
    assert driver.undo()["container_id"] is None


def test_two_containers_with_one_service_label(make_container, unique_name):
    service = unique_name("svc")
    first_project, second_project = unique_name("p1"), unique_name("p2")
    first = make_container("redis", labels={COMPOSE_SERVICE: service, COMPOSE_PROJECT: first_project},
                           start=False)
    second = make_container("redis", labels={COMPOSE_SERVICE: service, COMPOSE_PROJECT: second_project},
                            start=False)
    with pytest.raises(TargetError) as err:
        DockerDriver(service).is_running()
    assert not isinstance(err.value, TargetNotFound)
    message = str(err.value)
    assert f"docker:{service}" in message
    assert first.name in message and second.name in message
    assert "set project" in message and first_project in message and second_project in message

    assert DockerDriver(service, project=second_project).container().id == second.container.id
    assert DockerDriver(service, project=first_project).is_running() is False


def test_container_that_exits_instead_of_answering(make_container):
    made = make_container("redis", command=["redis-server", "--port", "not-a-port"], start=False)
    driver = DockerDriver(made.name, check="redis", port=made.port)
    with pytest.raises(TargetError) as err:
        driver.start(timeout=30)
    assert "exited" in str(err.value) and made.name in str(err.value)


def test_daemon_unreachable(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    driver = DockerDriver("redis")
    for call in (driver.is_running, lambda: driver.stop(timeout=5), lambda: driver.start(timeout=5)):
        with pytest.raises(TargetError) as err:
            call()
        message = str(err.value)
        assert "docker:redis" in message
        assert "unreachable" in message and "unix:///nonexistent.sock" in message
