"""Run by test_lab_broker.py in a process of its own (Twisted's reactor runs once per process): the
official KiteTicker against the simulator. Argv: ROOT API_KEY ACCESS_TOKEN BAD_TOKEN. Prints one JSON
line: the ticks seen per mode, and what happened to a ticker with a bad token."""
import json
import sys
import threading
import time

from kiteconnect import KiteTicker

root, api_key, token, bad = sys.argv[1:5]
LTP, QUOTE, FULL = 256265, 738561, 12335874  # NIFTY 50 (index), RELIANCE, NIFTY futures
seen = {}
done = threading.Event()
refused = {"closed": None, "connected": False}


def on_connect(ws, response):
    ws.subscribe([LTP, QUOTE, FULL])
    ws.set_mode(ws.MODE_LTP, [LTP])
    ws.set_mode(ws.MODE_QUOTE, [QUOTE])
    ws.set_mode(ws.MODE_FULL, [FULL])


def on_ticks(ws, ticks):
    for tick in ticks:
        seen.setdefault(f"{tick['instrument_token']}:{tick['mode']}", tick)
    if {f"{LTP}:ltp", f"{QUOTE}:quote", f"{FULL}:full"} <= set(seen):
        done.set()


good = KiteTicker(api_key, token, root=root, reconnect_max_delay=5)
good.on_connect, good.on_ticks = on_connect, on_ticks
good.connect(threaded=True)
held = done.wait(15)


def bad_close(ws, code, reason):
    refused["closed"] = f"{code} {reason}"
    ws.stop_retry()


def bad_connect(ws, response):
    refused["connected"] = True


stale = KiteTicker(api_key, bad, root=root, reconnect_max_delay=5)
stale.on_close, stale.on_connect = bad_close, bad_connect
from twisted.internet import reactor  # noqa: E402

reactor.callFromThread(stale.connect)
deadline = time.monotonic() + 10
while refused["closed"] is None and time.monotonic() < deadline:
    time.sleep(0.05)  # polling for the refusal, bounded
ticks = {k: {key: v for key, v in tick.items() if key in ("instrument_token", "mode", "tradable", "last_price",
                                                              "ohlc", "depth", "volume_traded", "oi", "change")}
         for k, tick in seen.items()}
print(json.dumps({"held": held, "ticks": ticks, "refused": refused}, default=str))
sys.stdout.flush()
reactor.callFromThread(reactor.stop)
