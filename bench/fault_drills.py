"""Benchmark: time to detect and to recover for each broker fault and network partition, under both lab
timing profiles, and the margin between "trading stopped" and "lease could have expired".

    .venv/bin/python bench/fault_drills.py [--rounds 3] [--profiles fast aitrapp] [--faults token close ...]

For each profile a healthy lab comes up; each fault is drilled ``--rounds`` times with a real
``chaos run`` (``broker_token_expiry``; ``websocket_reconnect`` with ``WS_FAULT=close|stall|restart``;
``network_partition_redis`` blackhole and reject; ``network_partition_postgres``;
``network_partition_broker``; the gray failures: ``redis_stall`` of the lease, ``redis_stall_brief``,
``postgres_hang`` (a table lock; ``disk_full``: the lab's Postgres on a 128 MiB volume of its own, the time to
fill it until a write of the drill's own fails); the clock: ``clock_jump`` back 300 s, forward 3600 s and drifting at x0.25, and
``clock_token_expiry``, the lab's traders with the wall-clock shim) and the figures are read from the checks the evidence control recorded:

- detect: ``time_to_detect_ready`` (fault event to the first 503; the market-data heartbeat passing
  ``HEARTBEAT_MAX``), and for ``close`` ``md_disconnect_seen`` (to ``marketdata_connected`` false);
- recover: ``time_to_recover_ready`` (restore to ``/ready`` 200 for good), and ``feed_resubscribed``
  (restore to the last subscribed instrument ticking again);
- token: the refreshes counted (``token_refresh_bounded``) and the recovery;
- stopped: ``trading_stopped_before_lease_expiry`` (partition start to the pause), with the instant
  the lease could expire as its limit: the margin is limit minus figure;
- slowest: ``api_answered_during_hang`` (the slowest API answer while Postgres writes hung);
- clock: the step seen in the trader's ``Date`` header (``landed_s`` of the jump's ``fault_injected``: detect; for a
  drift, the trader's clock 2 s behind), the refreshes across 06:00 IST (``token_refresh_bounded``), and the
  clock seen true again (of its ``restored``: recover), the oldest heartbeat age read (``heartbeat_ages_sane``).

Prints median and max per profile and fault, with the limits the checkers held them to; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from drills.kit import run_drill, start_lab  # noqa: E402

FAULTS = {"token": ("broker_token_expiry", {}), "close": ("websocket_reconnect", {"WS_FAULT": "close"}),
          "stall": ("websocket_reconnect", {"WS_FAULT": "stall"}),
          "restart": ("websocket_reconnect", {"WS_FAULT": "restart"}),
          "redis": ("network_partition_redis", {}), "redis_reject": ("network_partition_redis", {"PARTITION_KIND": "reject"}),
          "postgres": ("network_partition_postgres", {}), "broker": ("network_partition_broker", {}),
          "stall_lease": ("redis_stall", {}), "stall_brief": ("redis_stall_brief", {}),
          "pg_hang": ("postgres_hang", {}), "clock_back": ("clock_jump", {"CLOCK_JUMP": "-300"}),
          "clock_fwd": ("clock_jump", {"CLOCK_JUMP": "+3600"}),
          "clock_drift": ("clock_jump", {"CLOCK_JUMP": "x0.25"}), "clock_expiry": ("clock_token_expiry", {}),
          "disk_full": ("postgres_hang", {"POSTGRES_FAULT": "disk_full", "HANG_SECONDS": "8", "BROKER_ORDERS": "20"})}
FIGURES = ("time_to_detect_ready", "md_disconnect_seen", "time_to_recover_ready", "feed_resubscribed",
           "token_refresh_bounded", "trading_stopped_before_lease_expiry", "api_answered_during_hang",
           "heartbeat_ages_sane", "clock_landed", "clock_back", "disk_full_seen")
DEADLINES = {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90", "PARTITION_SECONDS": "6"}


def _fmt(values) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", default=["fast", "aitrapp"])
    parser.add_argument("--faults", nargs="+", default=list(FAULTS), choices=list(FAULTS))
    args = parser.parse_args()
    rows = []
    for profile in args.profiles:
        lab = start_lab(profile=profile, fake_clock=True, pg_volume_mb=128)  # the disk-full drill fills that volume
        try:
            for fault in args.faults:
                drill, extra = FAULTS[fault]
                seen = {name: [] for name in FIGURES}
                limits, verdicts = {}, []
                for round_no in range(args.rounds):
                    work = Path(tempfile.mkdtemp(prefix="bench-broker-"))
                    try:
                        run = run_drill(drill, lab, work, {**DEADLINES, **extra})
                        verdicts.append(run.extension.get("verdict", "FAIL"))
                        if verdicts[-1] != "PASS":
                            print(json.dumps({"profile": profile, "fault": fault, "round": round_no,
                                              "reasons": run.extension.get("reasons")}), flush=True)
                        for check in run.extension.get("checks", []):
                            if check["name"] in seen and check.get("value") is not None:
                                seen[check["name"]].append(float(check["value"]))
                                limits[check["name"]] = check.get("limit")
                        events = run.timeline_events()
                        filling = next((e for e in events if e.get("event") == "fault"
                                        and e.get("fault_name") == "disk_full"), None)
                        full = next((e for e in events if e.get("event") == "fault_injected"
                                     and e.get("fault_name") == "disk_full"), None)
                        if filling and full:  # the balloon inflated until a write of the drill's own failed
                            seen["disk_full_seen"].append(float(full["t"]) - float(filling["t"]))
                        for event in events:
                            if str(event.get("target") or "").startswith("clock:") and "landed_s" in event:
                                key = "clock_landed" if event.get("event") == "fault_injected" else "clock_back"
                                seen[key].append(float(event["landed_s"]))
                    finally:
                        shutil.rmtree(work, ignore_errors=True)
                rows.append((profile, fault, seen, limits, verdicts))
                print(json.dumps({"profile": profile, "fault": fault, "verdicts": verdicts,
                                  **{k: v for k, v in seen.items() if v}}), flush=True)
        finally:
            lab.down()
    print()
    print(f"{'profile':<8} {'fault':<12} {'detect 503':>15} {'disconnected':>14} {'ready again':>15} "
          f"{'all ticking':>14} {'refreshes':>10} {'stopped':>13} {'margin':>7} {'slowest':>13} {'clock seen':>13} "
          f"{'clock back':>13} {'oldest hb':>13} {'disk full':>13}  verdicts   "
          "(median / max s; limits)")
    for profile, fault, seen, limits, verdicts in rows:
        limit_text = ", ".join(f"{k.split('_')[2]} <= {v:g}" for k, v in limits.items()
                               if k.startswith("time_to") and isinstance(v, (int, float)))
        stopped = seen["trading_stopped_before_lease_expiry"]
        lease = limits.get("trading_stopped_before_lease_expiry")
        margin = f"{lease - max(stopped):.2f}" if stopped and isinstance(lease, (int, float)) else "-"
        print(f"{profile:<8} {fault:<12} {_fmt(seen['time_to_detect_ready']):>15} {_fmt(seen['md_disconnect_seen']):>14} "
              f"{_fmt(seen['time_to_recover_ready']):>15} {_fmt(seen['feed_resubscribed']):>14} "
              f"{_fmt(seen['token_refresh_bounded']):>10} {_fmt(stopped):>13} {margin:>7} "
              f"{_fmt(seen['api_answered_during_hang']):>13} {_fmt(seen['clock_landed']):>13} "
              f"{_fmt(seen['clock_back']):>13} {_fmt(seen['heartbeat_ages_sane']):>13} {_fmt(seen['disk_full_seen']):>13}  "
              f"{','.join(v[0] for v in verdicts):<9} ({limit_text})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
