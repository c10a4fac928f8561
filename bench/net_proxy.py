"""Benchmark: what the TCP fault proxy adds to each exchange, with no fault active.

    .venv/bin/python bench/net_proxy.py [--requests 2000] [--rounds 3]

Starts a redis-server and the TCP fault proxy in front of it (real processes on loopback ports) and
times ``--requests`` round trips of each kind, straight to Redis and through the proxy, interleaved
so both see the same machine load: ``PING``, ``SET`` of 64 bytes, ``GET`` of 16 KiB (several TCP
segments). Prints p50/p99 of each path and the added latency (proxy minus direct, per percentile) per
kind and round; asserts nothing.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from chaosaitrapp.checks.measure import percentile  # noqa: E402
from chaosaitrapp.testing.lab import free_ports  # noqa: E402
from chaosaitrapp.testing.waits import wait_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    redis_port, listen, control = free_ports(3)
    workdir = tempfile.mkdtemp(prefix="bench-net-")
    procs = [subprocess.Popen([shutil.which("redis-server"), "--port", str(redis_port), "--save", "", "--dir", workdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([sys.executable, "-m", "chaosaitrapp.network.proxy", "--route",
                               f"redis={listen}:127.0.0.1:{redis_port}", "--control", f"127.0.0.1:{control}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        clients = {"direct": redis.Redis(port=redis_port), "proxy": redis.Redis(port=listen)}
        for name, conn in clients.items():
            wait_for(lambda conn=conn: conn.ping(), 20, f"redis {name}")
        clients["direct"].set("big", b"x" * 16384)
        calls = {"PING": lambda c: c.ping(), "SET 64 B": lambda c: c.set("k", b"v" * 64),
                 "GET 16 KiB": lambda c: c.get("big")}
        print(f"{'round':>5} {'call':>11} {'direct p50':>11} {'direct p99':>11} {'proxy p50':>10} {'proxy p99':>10} "
              f"{'added p50':>10} {'added p99':>10}  (ms)")
        for round_no in range(1, args.rounds + 1):
            for name, call in calls.items():
                times = {"direct": [], "proxy": []}
                for n in range(args.requests):
                    for path in ("direct", "proxy") if n % 2 == 0 else ("proxy", "direct"):
                        began = time.perf_counter()
                        call(clients[path])
                        times[path].append((time.perf_counter() - began) * 1000)
                d50, d99 = percentile(times["direct"], 0.5), percentile(times["direct"], 0.99)
                p50, p99 = percentile(times["proxy"], 0.5), percentile(times["proxy"], 0.99)
                print(f"{round_no:>5} {name:>11} {d50:>11.3f} {d99:>11.3f} {p50:>10.3f} {p99:>10.3f} "
                      f"{p50 - d50:>10.3f} {p99 - d99:>10.3f}", flush=True)
        print(f"({args.requests} round trips per path and kind per round, interleaved)")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
