"""The broker fault proxy in front of the lab's simulator, driven by the official ``kiteconnect`` client:
each fault does what the target must see, and nothing else; its control API refuses bad input naming
it; it cannot start on a taken port; an unreachable upstream is a Kite NetworkException."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.testing.lab import free_ports
from chaosaitrapp.testing.waits import wait_for
from chaosaitrapp.waiting import wait_until

API_KEY, API_SECRET = "proxykey", "proxy-test-secret"


def _serve(argv, env=None):
    return subprocess.Popen([sys.executable, "-m", *argv], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def path():
    """A simulator and a proxy in front of it: ``(proxy root, control URL, simulator root)``."""
    broker_port, listen, control = free_ports(3)
    broker = _serve(["chaosaitrapp.lab.broker"], {"BROKER_PORT": str(broker_port), "AITRAPP_LAB_KITE_API_KEY": API_KEY,
                                                   "AITRAPP_LAB_KITE_API_SECRET": API_SECRET,
                                                   "BROKER_TICK_INTERVAL": "0.1", "BROKER_RATE_LIMIT": "1000"})
    proxy = _serve(["chaosaitrapp.broker.proxy", "--listen", f"127.0.0.1:{listen}", "--control",
                    f"127.0.0.1:{control}", "--upstream", f"http://127.0.0.1:{broker_port}", "--ticker-upstream",
                    f"ws://127.0.0.1:{broker_port}"])
    roots = (f"http://127.0.0.1:{listen}", f"http://127.0.0.1:{control}", f"http://127.0.0.1:{broker_port}")
    try:
        wait_for(lambda: requests.get(roots[2] + "/health", timeout=1).ok, 15, "the simulator")
        wait_for(lambda: requests.get(roots[1] + "/health", timeout=1).ok, 15, "the proxy")
        yield roots
    finally:
        for proc in (proxy, broker):
            proc.terminate()
            proc.wait(10)


@pytest.fixture
def control(path):
    client = ProxyClient(path[1])
    yield client
    requests.delete(path[1] + "/faults", timeout=3)


def login(root: str, timeout: float = 7) -> KiteConnect:
    answer = requests.get(f"{root}/connect/login", params={"v": 3, "api_key": API_KEY}, allow_redirects=False)
    request_token = parse_qs(urlsplit(answer.headers["location"]).query)["request_token"][0]
    kite = KiteConnect(API_KEY, root=root, timeout=timeout)
    kite.set_access_token(kite.generate_session(request_token, API_SECRET)["access_token"])
    return kite


def place(kite: KiteConnect, tag: str) -> str:
    return kite.place_order(variety="regular", exchange="NFO", tradingsymbol="NIFTY", transaction_type="BUY",
                            quantity=50, product="MIS", order_type="MARKET", tag=tag)


def test_token_fault_refuses_the_old_token_until_a_new_session(path, control):
    kite = login(path[0])
    kite.orders()  # the proxy has seen this token
    control.add("token_invalidated", {}, 30, "tok-1")
    with pytest.raises(kite_errors.TokenException):
        kite.orders()
    fresh = login(path[0])  # the login and the token exchange pass through
    assert isinstance(fresh.orders(), list)
    with pytest.raises(kite_errors.TokenException):
        kite.orders()  # the old one stays refused
    assert control.clear("tok-1") == {"cleared": True, "biting": True}
    assert isinstance(kite.orders(), list)
    assert [f for f in control.active() if f["id"] == "tok-1"] == []


def test_rate_limit_server_error_and_latency(path, control):
    kite = login(path[0])
    control.add("rate_limit", {"retry_after": 2}, 30, "rl-1")
    with pytest.raises(kite_errors.NetworkException) as limited:
        place(kite, "ratelimited1")
    assert limited.value.code == 429
    raw = requests.post(path[0] + "/orders/regular", data={"tradingsymbol": "NIFTY"},
                        headers={"X-Kite-Version": "3", "Authorization": f"token {API_KEY}:{kite.access_token}"})
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "2"
    control.clear("rl-1")
    control.add("server_error", {"status": 503, "path": "/orders"}, 30, "se-1")
    with pytest.raises(kite_errors.NetworkException) as failed:
        kite.orders()
    assert failed.value.code == 503
    assert kite.profile()["user_id"]  # other paths pass
    control.clear("se-1")
    began = time.perf_counter()
    kite.profile()
    plain = time.perf_counter() - began
    control.add("latency", {"delay_ms": 300}, 30, "lat-1")
    began = time.perf_counter()
    kite.profile()
    assert time.perf_counter() - began >= 0.3 > plain


def test_a_dropped_reply_leaves_the_order_at_the_broker(path, control):
    kite = login(path[0], timeout=1)
    control.add("drop_reply", {"hold_s": 2, "count": 1}, 30, "drop-1")
    with pytest.raises(Exception) as lost:  # requests' ReadTimeout through the client
        place(kite, "droppedreply1")
    assert "timed out" in str(lost.value).lower() or "timeout" in type(lost.value).__name__.lower()
    at_broker = [o for o in requests.get(path[2] + "/lab/orders").json()["orders"] if o["tag"] == "droppedreply1"]
    assert len(at_broker) == 1, "the placement reached the broker although its reply never came"
    assert place(kite, "afterthedrop1")  # count 1: the next reply comes
    history = [h for h in control.history() if h.get("kind") == "order" and h.get("tag") == "droppedreply1"]
    assert history and history[0]["dropped"] is True and history[0]["order_id"] == at_broker[0]["order_id"]


def test_a_held_reply_waits_for_the_clear_and_goes_on_to_a_client_still_waiting(path, control):
    kite = login(path[0], timeout=10)
    control.add("hold_reply", {"count": 1}, 30, "hold-1")
    answer: dict = {}
    worker = threading.Thread(target=lambda: answer.update(order_id=place(kite, "heldreply1")))
    worker.start()
    assert wait_until(lambda: next((f["hits"] for f in control.active() if f["id"] == "hold-1"), 0), lambda h: h == 1,
                      timeout=5, interval=0.01).held, "the placement reached the hold"
    at_broker = [o for o in requests.get(path[2] + "/lab/orders").json()["orders"] if o["tag"] == "heldreply1"]
    assert len(at_broker) == 1 and "order_id" not in answer, "the broker holds it; its sender has not heard"
    assert control.clear("hold-1")["cleared"] is True
    worker.join(5)
    assert answer["order_id"] == at_broker[0]["order_id"], "let go: the reply reaches the client still waiting"
    history = [h for h in control.history() if h.get("tag") == "heldreply1"]
    assert [(h["kind"], h.get("held"), h.get("delivered")) for h in history] == [("order", True, None),
                                                                                 ("reply_released", None, True)]


def test_control_api_refuses_bad_input_naming_it(path, control):
    for body, needle in (({"kind": "unplug"}, "unknown broker fault 'unplug'"),
                         ({"kind": "latency", "params": {"delay_ms": "slow"}}, "delay_ms must be float"),
                         ({"kind": "latency", "lease_s": -2}, "lease_s must be above 0"),
                         ({"kind": "latency", "id": "bad id!"}, "fault id must be")):
        answer = requests.post(path[1] + "/faults", json=body, timeout=3)
        assert answer.status_code == 400 and needle in answer.json()["error"], answer.text
    assert requests.post(path[1] + "/faults", data="not json", timeout=3).status_code == 400
    with pytest.raises(ConfigError) as refused:
        control.add("ws_close", {"code": 4000}, 1)
    assert "code must be one of" in str(refused.value)
    assert control.active() == []
    assert requests.get(path[1] + "/history", params={"since_wall": "yesterday"}).status_code == 400


def test_a_taken_port_and_bad_urls_are_refused_at_start():
    taken, control = free_ports(2)
    with socket.socket() as held:
        held.bind(("127.0.0.1", taken))
        held.listen()
        out = subprocess.run([sys.executable, "-m", "chaosaitrapp.broker.proxy", "--listen", f"127.0.0.1:{taken}",
                              "--control", f"127.0.0.1:{control}", "--upstream", "http://127.0.0.1:1",
                              "--ticker-upstream", "ws://127.0.0.1:1"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and f"cannot listen on 127.0.0.1:{taken}" in out.stderr
    for args, needle in ((["--listen", "10.0.0.1:9000"], "loopback only"),
                         (["--upstream", "ftp://x"], "--upstream must be a http:// or https:// URL")):
        base = {"--listen": f"127.0.0.1:{taken}", "--control": f"127.0.0.1:{control}",
                "--upstream": "http://127.0.0.1:1", "--ticker-upstream": "ws://127.0.0.1:1"}
        base[args[0]] = args[1]
        argv = [item for pair in base.items() for item in pair]
        bad = subprocess.run([sys.executable, "-m", "chaosaitrapp.broker.proxy", *argv], capture_output=True,
                             text=True, timeout=30)
        assert bad.returncode == 2 and needle in bad.stderr, bad.stderr


def test_an_unreachable_upstream_is_a_kite_network_error():
    listen, control, dead = free_ports(3)
    proxy = _serve(["chaosaitrapp.broker.proxy", "--listen", f"127.0.0.1:{listen}", "--control",
                    f"127.0.0.1:{control}", "--upstream", f"http://127.0.0.1:{dead}", "--ticker-upstream",
                    f"ws://127.0.0.1:{dead}"])
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{control}/health", timeout=1).ok, 15, "the proxy")
        kite = KiteConnect(API_KEY, root=f"http://127.0.0.1:{listen}", access_token="t")
        with pytest.raises(kite_errors.NetworkException) as unreachable:
            kite.orders()
        assert unreachable.value.code == 502 and "broker unreachable through the proxy" in str(unreachable.value)
    finally:
        proxy.terminate()
        proxy.wait(10)


def _shown(kite: KiteConnect, order_id: str) -> dict:
    return next(o for o in kite.orders() if o["order_id"] == order_id)


def test_an_order_placed_under_an_order_state_fault_is_shown_as_its_script_says(path, control):
    kite = login(path[0])
    control.add("pending_then_cancelled", {"pending_s": 0.6, "count": 1}, 30, "pend-1")
    order_id = place(kite, "pendcancel1")
    first = _shown(kite, order_id)
    assert (first["status"], first["filled_quantity"], first["pending_quantity"]) == ("OPEN PENDING", 0, 50)
    ended = wait_until(lambda: _shown(kite, order_id), lambda o: o["status"] == "CANCELLED", timeout=5, interval=0.05)
    assert ended.held and ended.value["cancelled_quantity"] == 50 and ended.value["filled_quantity"] == 0
    assert "cancelled by the exchange" in ended.value["status_message"]
    assert [s["status"] for s in kite.order_history(order_id)] == ["OPEN PENDING", "CANCELLED"]
    assert any(o["tag"] == "pendcancel1" for o in requests.get(path[2] + "/lab/orders").json()["orders"]), \
        "the upstream holds the order; the proxy shows the broker's script"
    unscripted = place(kite, "pendcancel2")  # count 1: the second placement is shown as the upstream says
    assert wait_until(lambda: _shown(kite, unscripted)["status"], lambda s: s == "COMPLETE", timeout=5,
                      interval=0.05).held
    control.clear("pend-1")
    assert _shown(kite, order_id)["status"] == "CANCELLED", "the script outlives its fault: cancelled stays cancelled"
    record = next(h for h in control.history() if h.get("tag") == "pendcancel1")
    assert record["script"]["kind"] == "pending_then_cancelled"
    assert [s[1] for s in record["script"]["states"]] == ["OPEN PENDING", "CANCELLED"]
    assert "script" not in next(h for h in control.history() if h.get("tag") == "pendcancel2")


def test_partial_fills_and_a_rejection_after_the_ack_show_kites_fields(path, control):
    kite = login(path[0])
    control.add("partial_fill", {"parts": 3, "interval_s": 0.3, "count": 1}, 30, "part-1")
    partial = place(kite, "partfill1")
    seen = set()
    ended = wait_until(lambda: _shown(kite, partial), lambda o: seen.add((o["status"], o["filled_quantity"])) or
                       o["status"] == "CANCELLED", timeout=5, interval=0.02)
    assert ended.held and (ended.value["filled_quantity"], ended.value["cancelled_quantity"]) == (34, 16)
    assert ("OPEN", 17) in seen and ended.value["average_price"] > 0
    control.clear("part-1")
    control.add("rejected_after_ack", {"after_s": 0.2}, 30, "rej-1")
    rejected = place(kite, "rejack1")  # answered 200 with an order id
    ended = wait_until(lambda: _shown(kite, rejected), lambda o: o["status"] == "REJECTED", timeout=5, interval=0.05)
    assert ended.held and ended.value["filled_quantity"] == 0 and ended.value["status_message"].startswith("RMS:")


def test_a_lost_update_is_missing_from_the_book_while_the_order_history_tells(path, control):
    kite = login(path[0])
    control.add("lost_update", {"after_s": 0.2}, 30, "lost-1")
    order_id = place(kite, "lostupd1")
    asked = wait_until(lambda: kite.order_history(order_id)[-1], lambda s: s["status"] == "COMPLETE", timeout=5,
                       interval=0.05)
    assert asked.held and asked.value["filled_quantity"] == 50
    assert _shown(kite, order_id)["status"] == "OPEN", "the book never heard of the fill while the fault lasts"
    control.clear("lost-1")
    assert _shown(kite, order_id)["status"] == "COMPLETE"
