"""Benchmark: the timeline sampler's rate against the target's latency, before and after, side by side.

    .venv/bin/python bench/sampler_rate.py [--seconds 4] [--latencies 0 10 45 100 150]

A deliberately slow fake AITRAPP API (a real HTTP/1.1 keep-alive server on loopback whose every
answer is held back by the given latency) is sampled for ``--seconds`` by:

- ``sequential``: what the sampler did before (one sample at a time, its four reads in series);
- ``parallel``: the sampler now (its four reads at once, several samples in flight).

Prints samples/s, the sample's own latency and skew (median), and dropped ticks per latency;
asserts nothing. The goal: >= 10 samples/s up to 100 ms per endpoint, >= 20/s for a fast target.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaosaitrapp.api.client import TraderClient  # noqa: E402
from chaosaitrapp.config import Settings  # noqa: E402
from chaosaitrapp.evidence.observe import ParallelObserver, observe  # noqa: E402
from chaosaitrapp.evidence.sampler import MAX_IN_FLIGHT, Sampler  # noqa: E402

METRICS = ("trader_is_leader{instance_id=\"a\"} 1.0\ntrader_marketdata_heartbeat_seconds 0.2\n"
           "trader_order_stream_heartbeat_seconds 0.3\ntrader_scan_heartbeat_seconds 0.1\n"
           "trader_throttle_queue_depth{type=\"order_placement\"} 0.0\n")
BODIES = {"/ready": {"ok": True, "ready": True, "status": "ready", "leader": 1, "marketdata_heartbeat": 0.2,
                     "order_stream_heartbeat": 0.3, "scan_heartbeat": 0.1},
          "/state": {"is_paused": False, "mode": "PAPER"}, "/health": {"status": "healthy", "mode": "PAPER"}}


class SlowApi:
    """A keep-alive HTTP server answering the four sampled endpoints after ``delay`` seconds each."""

    def __init__(self, delay: float) -> None:
        slow = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body leave as two packets: +40 ms delayed ACK

            def do_GET(self) -> None:  # noqa: N802
                time.sleep(slow.delay)  # the target's own latency: what this benchmark varies
                path = self.path.split("?")[0]
                raw = (METRICS if path == "/metrics" else json.dumps(BODIES.get(path, {}))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if path == "/metrics" else "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.delay = delay
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def measure(url: str, mode: str, seconds: float) -> dict:
    client = TraderClient(Settings(api=url, http_timeout=2.0))
    if mode == "sequential":
        sequential = client.fork(http_timeout=0.5)
        observer, in_flight = (lambda: observe(sequential, parallel=False)), 1
    else:
        observer, in_flight = ParallelObserver(client, max_in_flight=MAX_IN_FLIGHT), MAX_IN_FLIGHT
    path = Path(tempfile.mkdtemp(prefix="bench-sampler-")) / "t.jsonl"
    sampler = Sampler(path, observer, interval=0.05, max_in_flight=in_flight).start()
    time.sleep(seconds)  # the measuring window itself, not a wait for a state
    summary = sampler.stop()
    samples = [json.loads(line) for line in path.read_text().splitlines()]
    samples = [s for s in samples if s.get("kind") == "sample"]
    latency = statistics.median(s["latency_ms"] for s in samples if s.get("latency_ms") is not None)
    skews = [s["skew_ms"] for s in samples if s.get("skew_ms") is not None]
    return {"rate": summary["rate_hz"], "latency_ms": latency, "skew_ms": statistics.median(skews) if skews else 0.0,
            "dropped": summary["dropped"], "errors": summary["errors"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--latencies", type=float, nargs="+", default=[0, 10, 45, 100, 150])
    args = parser.parse_args()
    print(f"{'endpoint ms':>11} | {'sequential /s':>13} {'sample ms':>9} | {'parallel /s':>11} {'sample ms':>9} "
          f"{'skew ms':>7} {'dropped':>7} {'errors':>6}")
    for latency in args.latencies:
        api = SlowApi(latency / 1000.0)
        try:
            old = measure(api.url, "sequential", args.seconds)
            new = measure(api.url, "parallel", args.seconds)
        finally:
            api.close()
        print(f"{latency:11.0f} | {old['rate']:13.1f} {old['latency_ms']:9.1f} | {new['rate']:11.1f} "
              f"{new['latency_ms']:9.1f} {new['skew_ms']:7.1f} {new['dropped']:7d} {new['errors']:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
