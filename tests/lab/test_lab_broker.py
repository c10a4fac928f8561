"""The lab's broker simulator speaks Kite Connect v3 as the official ``kiteconnect`` client expects it:
login redirect, session checksum, orders with tags, history, quotes, the instrument dump, rate limits,
token expiry and invalidation, and the ticker (parsed ticks in every mode, 403 for a bad token)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.testing.waits import wait_for

API_KEY, API_SECRET = "labkey", "lab-secret-for-tests"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def broker():
    """The simulator as a process (``python -m chaosaitrapp.lab.broker``) on a free port."""
    port = free_port()
    env = {**os.environ, "BROKER_PORT": str(port), "AITRAPP_LAB_KITE_API_KEY": API_KEY,
           "AITRAPP_LAB_KITE_API_SECRET": API_SECRET, "BROKER_TICK_INTERVAL": "0.1", "BROKER_FILL_DELAY": "0.05"}
    proc = subprocess.Popen([sys.executable, "-m", "chaosaitrapp.lab.broker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(root + "/health", timeout=1).ok, 15, "the simulator to answer")
        yield root
    finally:
        proc.terminate()
        proc.wait(10)


def login(root: str, secret: str = API_SECRET) -> KiteConnect:
    """Kite's login flow with the official client: redirect, request token, ``generate_session``."""
    answer = requests.get(f"{root}/connect/login", params={"v": 3, "api_key": API_KEY}, allow_redirects=False,
                          timeout=5)
    assert answer.status_code == 302
    request_token = parse_qs(urlsplit(answer.headers["location"]).query)["request_token"][0]
    kite = KiteConnect(API_KEY, root=root)
    session = kite.generate_session(request_token, secret)
    kite.set_access_token(session["access_token"])
    return kite


def order(kite: KiteConnect, tag: str, **extra):
    args = dict(variety="regular", exchange="NFO", tradingsymbol="NIFTY", transaction_type="BUY", quantity=50,
                product="MIS", order_type="LIMIT", price=100.0, tag=tag)
    args.update(extra)
    return kite.place_order(**args)


def test_login_session_and_profile(broker):
    kite = login(broker)
    assert kite.profile()["user_id"] == "LAB001"
    with pytest.raises(kite_errors.TokenException):
        login(broker, secret="wrong")  # the checksum is sha256(api_key + request_token + api_secret)
    answer = requests.get(f"{broker}/connect/login", params={"v": 3, "api_key": API_KEY}, allow_redirects=False)
    request_token = parse_qs(urlsplit(answer.headers["location"]).query)["request_token"][0]
    checksum = hashlib.sha256((API_KEY + request_token + API_SECRET).encode()).hexdigest()
    raw = requests.post(f"{broker}/session/token", data={"api_key": API_KEY, "request_token": request_token,
                                                         "checksum": checksum}, headers={"X-Kite-Version": "3"})
    assert raw.json()["status"] == "success" and raw.json()["data"]["access_token"]
    bare = requests.get(f"{broker}/user/profile", headers={"X-Kite-Version": "3"})
    assert bare.status_code == 403 and bare.json()["error_type"] == "TokenException"


def test_orders_by_tag_history_and_validation(broker):
    kite = login(broker)
    order_id = order(kite, "drillorder0001")
    book = wait_for(lambda: [o for o in kite.orders() if o["order_id"] == order_id and o["status"] == "COMPLETE"],
                    5, "the fill")
    assert book[0]["tag"] == "drillorder0001" and book[0]["filled_quantity"] == 50
    assert [h["status"] for h in kite.order_history(order_id)][-1] == "COMPLETE"
    again = order(kite, "drillorder0001")  # Kite has no idempotency key: the same tag is a second order
    assert again != order_id
    with pytest.raises(kite_errors.InputException):
        order(kite, "x" * 21)  # a tag is at most 20 characters
    with pytest.raises(kite_errors.InputException):
        order(kite, "badqty", quantity=0)
    with pytest.raises(kite_errors.InputException):
        kite.order_history("no-such-order")


def test_quotes_and_the_instrument_dump(broker):
    kite = login(broker)
    ltp = kite.ltp(["NSE:NIFTY 50", "NSE:RELIANCE"])
    assert ltp["NSE:NIFTY 50"]["instrument_token"] == 256265 and ltp["NSE:NIFTY 50"]["last_price"] > 0
    instruments = {(i["exchange"], i["tradingsymbol"]): i for i in kite.instruments()}
    assert instruments[("NSE", "NIFTY 50")]["instrument_token"] == 256265
    assert instruments[("NFO", "NIFTY")]["instrument_token"] == 12335874
    assert instruments[("NFO", "BANKNIFTY")]["instrument_token"] == 12336130
    assert {i["exchange"] for i in kite.instruments("NFO")} == {"NFO"}


def test_rate_limit_is_kites_429(broker):
    kite = login(broker)
    codes = []
    for n in range(14):
        try:
            order(kite, f"burst{n}")
            codes.append(200)
        except kite_errors.NetworkException as exc:
            codes.append(exc.code)
    first = codes.index(429)  # Kite: 10 orders per second (the earlier tests' orders may share the window)
    assert 1 <= first <= 10 and set(codes[:first]) == {200}, codes
    raw = requests.post(f"{broker}/orders/regular", data={"tradingsymbol": "NIFTY", "exchange": "NFO",
                                                          "transaction_type": "BUY", "quantity": 50, "product": "MIS",
                                                          "order_type": "MARKET"},
                        headers={"X-Kite-Version": "3", "Authorization": f"token {API_KEY}:{kite.access_token}"})
    assert raw.status_code == 429 and raw.json()["error_type"] == "NetworkException"
    assert float(raw.headers["Retry-After"]) > 0


def test_invalidated_and_expired_tokens_are_refused(broker):
    kite = login(broker)
    kite.invalidate_access_token()
    with pytest.raises(kite_errors.TokenException):
        kite.orders()
    other = login(broker)
    assert requests.post(f"{broker}/lab/expire-tokens").json()["expired"] >= 1
    with pytest.raises(kite_errors.TokenException) as refused:
        other.orders()
    assert "token" in str(refused.value).lower()  # what AITRAPP's refresh path matches on


def test_the_official_ticker_parses_every_mode_and_is_refused_a_bad_token(broker):
    kite = login(broker)
    ws_root = broker.replace("http://", "ws://")
    out = subprocess.run([sys.executable, str(HERE / "kite_ticker_probe.py"), ws_root, API_KEY, kite.access_token,
                          "not-a-token"], capture_output=True, text=True, timeout=60)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["held"], report
    ticks = report["ticks"]
    assert set(ticks["256265:ltp"]) == {"instrument_token", "mode", "tradable", "last_price"}
    assert ticks["256265:ltp"]["tradable"] is False  # an index
    assert ticks["738561:quote"]["ohlc"]["open"] > 0 and "depth" not in ticks["738561:quote"]
    full = ticks["12335874:full"]
    assert len(full["depth"]["buy"]) == 5 and len(full["depth"]["sell"]) == 5 and full["oi"] >= 0
    assert full["last_price"] > 0 and abs(full["last_price"] * 100 - round(full["last_price"] * 100)) < 1e-6
    assert report["refused"]["connected"] is False
    assert "403" in (report["refused"]["closed"] or ""), report["refused"]
