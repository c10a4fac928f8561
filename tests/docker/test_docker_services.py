"""The lab's docker services: start_redis / start_postgres / remove_services on the real engine.

Each test uses its own container names and compose project, so a lab that is up meanwhile
(containers ``redis`` / ``postgres``, project ``aitrapp-lab``) is never touched.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict

import psycopg
import pytest
import redis

from chaosaitrapp.errors import TargetError
from chaosaitrapp.lab.runtime import docker_services as ds
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.docker_client import COMPOSE_PROJECT, COMPOSE_SERVICE
from chaosaitrapp.targets.labstate import LabState, ServiceSpec

pytestmark = pytest.mark.docker


@pytest.fixture
def docker_lab(docker_engine, unique_name, tmp_path):
    """A private project and container names; everything of that project is removed after."""
    project = unique_name("lab")
    names = {"redis": f"{project}-redis", "postgres": f"{project}-postgres"}
    yield {"dir": tmp_path, "project": project, "names": names, "client": docker_engine}
    for container in docker_engine.containers.list(all=True, filters={"label": f"{COMPOSE_PROJECT}={project}"}):
        container.remove(force=True, v=True)
    for volume in docker_engine.volumes.list(filters={"label": f"{COMPOSE_PROJECT}={project}"}):
        volume.remove(force=True)


def _state(*specs: ServiceSpec) -> LabState:
    return LabState(runtime="docker", profile="fast", api="http://127.0.0.1:8000",
                    redis_url="redis://127.0.0.1/0", database_url="postgresql://trader@127.0.0.1/aitrapp",
                    services={s.name: s for s in specs})


def test_start_redis_and_postgres_then_remove(docker_lab, timings, port_factory):
    free_port = port_factory
    client = docker_lab["client"]
    redis_port, pg_port = free_port(), free_port()
    password = secrets.token_hex(12)

    started = time.monotonic()
    redis_spec = ds.start_redis(docker_lab["dir"], redis_port, ds.REDIS_IMAGE, name=docker_lab["names"]["redis"],
                                project=docker_lab["project"])
    timings("start_redis (create + until PING)", time.monotonic() - started)
    started = time.monotonic()
    pg_spec = ds.start_postgres(docker_lab["dir"], pg_port, ds.POSTGRES_IMAGE, "trader", password, "aitrapp",
                                name=docker_lab["names"]["postgres"], project=docker_lab["project"])
    timings("start_postgres (create + initdb + until login)", time.monotonic() - started)

    assert redis_spec == ServiceSpec(name="redis", kind="docker", host="127.0.0.1", port=redis_port,
                                     check="redis", container=docker_lab["names"]["redis"])
    assert pg_spec == ServiceSpec(name="postgres", kind="docker", host="127.0.0.1", port=pg_port,
                                  check="postgres", container=docker_lab["names"]["postgres"])
    assert password not in json.dumps(asdict(pg_spec)) and password not in _state(redis_spec, pg_spec).to_json()

    for spec in (redis_spec, pg_spec):
        container = client.containers.get(spec.container)
        assert container.status == "running"
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.labels[COMPOSE_SERVICE] == spec.name
        assert container.labels[COMPOSE_PROJECT] == docker_lab["project"]
        assert [m["Type"] for m in container.attrs["Mounts"]] == ["volume"]

    r = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=2)
    r.set("trader:leader", "instance-1")
    r.close()
    with psycopg.connect(host="127.0.0.1", port=pg_port, user="trader", password=password, dbname="aitrapp",
                         connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == ("trader", "aitrapp")
        conn.execute("CREATE TABLE orders (client_order_id text UNIQUE)")
        conn.execute("INSERT INTO orders VALUES ('a')")

    # The lab's drills stop and start them through the driver: keys and rows survive.
    for spec in (redis_spec, pg_spec):
        driver = DockerDriver(spec.container, check=spec.check, port=spec.port)
        driver.stop(timeout=30)
        assert not driver.is_running()
        driver.start(timeout=60)
    r = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=2)
    assert r.get("trader:leader") == b"instance-1"  # the persisted-lock quirk of the real deployment
    r.close()
    with psycopg.connect(host="127.0.0.1", port=pg_port, user="trader", password=password, dbname="aitrapp",
                         connect_timeout=5) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1,)

    started = time.monotonic()
    ds.remove_services(_state(redis_spec, pg_spec))
    timings("remove_services (2 containers)", time.monotonic() - started)
    assert client.containers.list(all=True, filters={"label": f"{COMPOSE_PROJECT}={docker_lab['project']}"}) == []
    assert client.volumes.list(filters={"label": f"{COMPOSE_PROJECT}={docker_lab['project']}"}) == []
    ds.remove_services(_state(redis_spec, pg_spec))  # idempotent


def test_start_redis_replaces_an_earlier_lab_container(docker_lab, port_factory):
    free_port = port_factory
    name = docker_lab["names"]["redis"]
    first = ds.start_redis(docker_lab["dir"], free_port(), ds.REDIS_IMAGE, name=name, project=docker_lab["project"])
    first_id = docker_lab["client"].containers.get(name).id
    r = redis.Redis(host="127.0.0.1", port=first.port, socket_timeout=2)
    r.set("stale", "1")
    r.close()

    second = ds.start_redis(docker_lab["dir"], free_port(), ds.REDIS_IMAGE, name=name, project=docker_lab["project"])
    assert docker_lab["client"].containers.get(name).id != first_id
    r = redis.Redis(host="127.0.0.1", port=second.port, socket_timeout=2)
    assert r.get("stale") is None  # a new lab starts with empty data
    r.close()


def test_refuses_to_replace_a_container_that_is_not_the_labs(docker_lab, make_container, port_factory):
    free_port = port_factory
    foreign = make_container("redis", name=docker_lab["names"]["redis"], start=False)
    with pytest.raises(TargetError) as err:
        ds.start_redis(docker_lab["dir"], free_port(), ds.REDIS_IMAGE, name=docker_lab["names"]["redis"], project=docker_lab["project"])
    assert "not created by the lab" in str(err.value) and docker_lab["names"]["redis"] in str(err.value)
    assert docker_lab["client"].containers.get(foreign.container.id).name == docker_lab["names"]["redis"]

    spec = ServiceSpec(name="redis", kind="docker", host="127.0.0.1", port=1, check="redis",
                       container=docker_lab["names"]["redis"])
    with pytest.raises(TargetError) as err:
        ds.remove_services(_state(spec))
    assert docker_lab["names"]["redis"] in str(err.value)
    assert docker_lab["client"].containers.get(foreign.container.id).status == "created"


def test_missing_image_and_busy_port(docker_lab, port_factory):
    free_port = port_factory
    with pytest.raises(TargetError) as err:
        ds.start_redis(docker_lab["dir"], free_port(), "chaosaitrapp/does-not-exist:0", name=docker_lab["names"]["redis"],
                       project=docker_lab["project"])
    assert "does-not-exist" in str(err.value) and "build-images.sh" in str(err.value)

    busy = ds.start_redis(docker_lab["dir"], free_port(), ds.REDIS_IMAGE, name=docker_lab["names"]["redis"],
                          project=docker_lab["project"])
    password = "S3cret-" + secrets.token_hex(6)
    with pytest.raises(TargetError) as err:
        ds.start_postgres(docker_lab["dir"], busy.port, ds.POSTGRES_IMAGE, "trader", password, "aitrapp",
                          name=docker_lab["names"]["postgres"], project=docker_lab["project"])
    assert "already in use" in str(err.value) and password not in str(err.value)
