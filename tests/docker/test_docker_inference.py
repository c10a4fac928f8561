"""What DockerDriver infers from ``docker inspect`` data: the check and the host port.
Pure functions: these need no engine."""
from __future__ import annotations

import pytest

from chaosaitrapp.targets.docker_infer import infer_check, infer_port


@pytest.mark.parametrize("image, service, name, expected", [
    ("redis:7", None, "x", "redis"),
    ("chaosaitrapp/redis:7-local", None, "x", "redis"),
    ("postgres:16-alpine", None, "x", "postgres"),
    ("localhost:5000/postgis/postgis:16", None, "x", "postgres"),
    ("sha256:0123abcd", "redis", "aitrapp-cache-1", "redis"),
    ("mycorp/db:1", None, "aitrapp-postgres", "postgres"),
    ("nginx:redis", None, "web", None),
])
def test_infer_check(image, service, name, expected):
    assert infer_check(image, service, name) == expected


def attrs(args, network="host", env=(), bindings=None, live=None):
    return {"Path": "docker-entrypoint.sh", "Args": list(args), "Config": {"Env": list(env)},
            "HostConfig": {"NetworkMode": network, "PortBindings": bindings or {}},
            "NetworkSettings": {"Ports": live or {}}}


@pytest.mark.parametrize("data, check, expected", [
    (attrs(["redis-server", "--port", "7001"]), "redis", 7001),
    (attrs(["redis-server"]), "redis", 6379),
    (attrs(["postgres", "-c", "listen_addresses=127.0.0.1", "-c", "port=7002"]), "postgres", 7002),
    (attrs(["postgres", "-p", "7003"]), "postgres", 7003),
    (attrs(["postgres", "-p7004"]), "postgres", 7004),
    (attrs(["postgres", "--port=7005"]), "postgres", 7005),
    (attrs(["postgres"], env=["PGPORT=7006"]), "postgres", 7006),
    (attrs(["postgres"]), "postgres", 5432),
    (attrs(["redis-server"], network="aitrapp_default",
           bindings={"6379/tcp": [{"HostIp": "127.0.0.1", "HostPort": "16379"}]}), "redis", 16379),
    (attrs(["redis-server"], network="bridge", live={"6379/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}]}),
     "redis", 32768),
    (attrs(["redis-server"], network="bridge"), "redis", None),
    (attrs(["nginx"]), None, None),
])
def test_infer_port(data, check, expected):
    assert infer_port(data, check) == expected
