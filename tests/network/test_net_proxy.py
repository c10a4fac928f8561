"""The TCP fault proxy in front of a real redis-server: blackhole (each direction), reject (open and new
connections reset), latency; data sent during a blackhole arrives after the heal (TCP would have
retransmitted it); the control API refuses bad input naming it; a taken port and bad routes are
refused at start."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import redis
import requests

from chaosaitrapp.network.client import NetProxyClient
from chaosaitrapp.testing.lab import free_ports
from chaosaitrapp.testing.waits import wait_for


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """``(route port, control URL, redis port)``: a redis-server and the proxy's ``redis`` route to it."""
    redis_port, listen, control = free_ports(3)
    directory = tmp_path_factory.mktemp("net-proxy")
    server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--dir", str(directory)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([sys.executable, "-m", "chaosaitrapp.network.proxy", "--route",
                              f"redis={listen}:127.0.0.1:{redis_port}", "--control", f"127.0.0.1:{control}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    url = f"http://127.0.0.1:{control}"
    try:
        wait_for(lambda: requests.get(url + "/health", timeout=1).ok, 15, "the TCP proxy")
        yield listen, url, redis_port
    finally:
        proxy.terminate()
        server.terminate()
        proxy.wait(10)
        server.wait(10)


@pytest.fixture
def control(proxied):
    client = NetProxyClient(proxied[1])
    yield client
    requests.delete(proxied[1] + "/faults", timeout=3)


def client(port: int, timeout: float = 0.5) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(port=port, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


def outcome(call) -> str:
    try:
        call()
        return "ok"
    except redis.exceptions.TimeoutError:
        return "hang"
    except redis.exceptions.ConnectionError:
        return "reset"


def test_routes_are_listed_and_traffic_passes(proxied, control):
    assert control.routes() == {"redis": {"listen": f"127.0.0.1:{proxied[0]}", "upstream": f"127.0.0.1:{proxied[2]}"}}
    assert client(proxied[0]).ping()


@pytest.mark.parametrize("direction", ["both", "to_dependency", "from_dependency"])
def test_blackhole_hangs_and_held_data_arrives_after_the_heal(direction, proxied, control):
    open_conn = client(proxied[0], timeout=0.4)
    open_conn.ping()
    control.add("blackhole", {"route": "redis", "direction": direction}, 30, f"bh-{direction}")
    assert outcome(lambda: open_conn.set(f"k-{direction}", "v")) == "hang"
    assert outcome(lambda: client(proxied[0], 0.4).ping()) == "hang", "a new connection is silent too"
    stored_during = client(proxied[2]).get(f"k-{direction}")  # straight to Redis
    assert (stored_during == b"v") == (direction == "from_dependency"), "only the answers were cut"
    assert control.clear(f"bh-{direction}") == {"cleared": True, "biting": True}
    wait_for(lambda: client(proxied[2]).get(f"k-{direction}") == b"v", 5, "the held SET to arrive after the heal")
    assert client(proxied[0]).ping()


def test_reject_resets_open_and_new_connections(proxied, control):
    open_conn = client(proxied[0], timeout=2)
    open_conn.ping()
    answer = control.add("reject", {"route": "redis"}, 30, "rj-1")
    assert answer["reset"] >= 1
    began = time.monotonic()
    assert outcome(open_conn.ping) == "reset" and outcome(lambda: client(proxied[0], 2).ping()) == "reset"
    assert time.monotonic() - began < 1.0, "a reset fails fast, not after the timeout"
    control.clear("rj-1")
    assert client(proxied[0]).ping()


def test_latency_delays_each_exchange(proxied, control):
    conn = client(proxied[0], timeout=3)
    conn.ping()
    began = time.monotonic()
    conn.ping()
    plain = time.monotonic() - began
    control.add("latency", {"route": "redis", "delay_ms": 150, "direction": "to_dependency"}, 30, "lat-1")
    began = time.monotonic()
    conn.ping()
    slowed = time.monotonic() - began
    assert 0.15 <= slowed < 0.15 + plain + 0.2, (plain, slowed)


def test_faults_expire_at_their_lease(proxied, control):
    control.add("blackhole", {"route": "redis"}, 0.5, "short")
    wait_for(lambda: control.active() == [], 5, "the lease to run out")
    assert client(proxied[0]).ping()
    assert control.stats()["expired_faults"] >= 1


@pytest.mark.parametrize("body,needle", [
    ({"kind": "sever", "params": {"route": "redis"}}, "unknown network fault 'sever'"),
    ({"kind": "blackhole", "params": {"route": "postgres"}}, "route must be one of redis"),
    ({"kind": "blackhole", "params": {"route": "redis", "direction": "up"}}, "direction must be one of"),
    ({"kind": "latency", "params": {"route": "redis", "delay_ms": -1}}, "delay_ms must be between"),
    ({"kind": "reject", "params": {"route": "redis"}, "lease_s": 0}, "lease_s must be above 0"),
])
def test_control_api_refuses_bad_input_naming_it(body, needle, proxied, control):
    answer = requests.post(proxied[1] + "/faults", json=body, timeout=3)
    assert answer.status_code == 400 and needle in answer.json()["error"], answer.text
    assert control.active() == []


def test_a_taken_port_and_bad_routes_are_refused_at_start():
    taken, control = free_ports(2)
    with socket.socket() as held:
        held.bind(("127.0.0.1", taken))
        held.listen()
        out = subprocess.run([sys.executable, "-m", "chaosaitrapp.network.proxy", "--route",
                              f"redis={taken}:127.0.0.1:1", "--control", f"127.0.0.1:{control}"],
                             capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "cannot listen" in out.stderr
    for route, needle in (("redis=0:127.0.0.1:6379", "listen port must be 1-65535"),
                          ("redis:6380", "expected NAME=LISTEN_PORT:UPSTREAM_HOST:UPSTREAM_PORT")):
        bad = subprocess.run([sys.executable, "-m", "chaosaitrapp.network.proxy", "--route", route, "--control",
                              f"127.0.0.1:{control}"], capture_output=True, text=True, timeout=30)
        assert bad.returncode == 2 and needle in bad.stderr, bad.stderr
    twice = subprocess.run([sys.executable, "-m", "chaosaitrapp.network.proxy", "--route", f"a={taken}:127.0.0.1:1",
                            "--route", f"a={control}:127.0.0.1:2", "--control", "127.0.0.1:1"],
                           capture_output=True, text=True, timeout=30)
    assert twice.returncode == 2 and "route names must be unique" in twice.stderr
