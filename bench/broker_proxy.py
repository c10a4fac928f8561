"""Benchmark: what the broker fault proxy adds to each request, with no fault active.

    .venv/bin/python bench/broker_proxy.py [--requests 400] [--rounds 3]

Starts the lab's Kite simulator and the fault proxy in front of it (real processes on loopback
ports), opens a session with the official ``kiteconnect`` client through the proxy, then times
``--requests`` calls of each kind, straight to the simulator and through the proxy, interleaved so
both see the same machine load: ``kite.ltp`` (a quote), ``kite.orders`` (the order book a trader polls)
and ``kite.place_order``. Prints p50/p99 of each path and the added latency (proxy minus direct, per
percentile) per kind and round, with the size of the order book (each round's placements grow it, and
``orders`` returns all of it); asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from kiteconnect import KiteConnect  # noqa: E402

from chaosaitrapp.checks.measure import percentile  # noqa: E402
from chaosaitrapp.testing.lab import free_ports  # noqa: E402
from chaosaitrapp.testing.waits import wait_for  # noqa: E402

API_KEY, API_SECRET = "benchkey", "bench-secret"



def session(root: str) -> KiteConnect:
    answer = requests.get(f"{root}/connect/login", params={"v": 3, "api_key": API_KEY}, allow_redirects=False)
    request_token = parse_qs(urlsplit(answer.headers["location"]).query)["request_token"][0]
    kite = KiteConnect(API_KEY, root=root)
    kite.set_access_token(kite.generate_session(request_token, API_SECRET)["access_token"])
    return kite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    broker_port, listen, control = free_ports(3)
    env = {**os.environ, "BROKER_PORT": str(broker_port), "AITRAPP_LAB_KITE_API_KEY": API_KEY,
           "AITRAPP_LAB_KITE_API_SECRET": API_SECRET, "BROKER_RATE_LIMIT": "100000",
           "BROKER_RATE_LIMIT_MINUTE": "1000000"}
    procs = [subprocess.Popen([sys.executable, "-m", "chaosaitrapp.lab.broker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([sys.executable, "-m", "chaosaitrapp.broker.proxy", "--listen", f"127.0.0.1:{listen}",
                               "--control", f"127.0.0.1:{control}", "--upstream", f"http://127.0.0.1:{broker_port}",
                               "--ticker-upstream", f"ws://127.0.0.1:{broker_port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        direct_root, proxy_root = f"http://127.0.0.1:{broker_port}", f"http://127.0.0.1:{listen}"
        wait_for(lambda: requests.get(direct_root + "/health", timeout=1).ok, 20, "the simulator")
        wait_for(lambda: requests.get(f"http://127.0.0.1:{control}/health", timeout=1).ok, 20, "the proxy")
        clients = {"direct": session(direct_root), "proxy": session(proxy_root)}
        calls = {
            "ltp": lambda k, n: k.ltp(["NSE:NIFTY 50"]),
            "orders": lambda k, n: k.orders(),
            "place_order": lambda k, n: k.place_order(variety="regular", exchange="NFO", tradingsymbol="NIFTY",
                                                      transaction_type="BUY", quantity=50, product="MIS",
                                                      order_type="MARKET", tag=f"bench{n}"),
        }
        print(f"{'round':>5} {'call':>12} {'direct p50':>11} {'direct p99':>11} {'proxy p50':>10} {'proxy p99':>10} "
              f"{'added p50':>10} {'added p99':>10}  (ms; order book size after)")
        for round_no in range(1, args.rounds + 1):
            for name, call in calls.items():
                times = {"direct": [], "proxy": []}
                for n in range(args.requests):
                    for path in ("direct", "proxy") if n % 2 == 0 else ("proxy", "direct"):
                        began = time.perf_counter()
                        call(clients[path], f"{round_no}x{n}{path[0]}")
                        times[path].append((time.perf_counter() - began) * 1000)
                d50, d99 = percentile(times["direct"], 0.5), percentile(times["direct"], 0.99)
                p50, p99 = percentile(times["proxy"], 0.5), percentile(times["proxy"], 0.99)
                book = len(clients["direct"].orders())
                print(f"{round_no:>5} {name:>12} {d50:>11.2f} {d99:>11.2f} {p50:>10.2f} {p99:>10.2f} "
                      f"{p50 - d50:>10.2f} {p99 - d99:>10.2f}  book {book}")
            sys.stdout.flush()
        print(f"({args.requests} calls per path and kind per round, interleaved)")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
