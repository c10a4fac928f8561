"""The crash check on synthetic timelines: reconciled after the restart with the trader's final orders agreeing with
the broker's passes (its figures: reconciled_s, in-doubt maximum, stale key, leader back, resent); orders still in
doubt at the deadline fail; a final view that disagrees with the broker fails; no crash or no watch is unknown. The
crash window counts as a silent stretch of the sampled target."""
from __future__ import annotations

from chaosaitrapp.checks.crash import orders_reconciled
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline

PREFIX = "chsabc"
TRADER = "process:/srv/trader.pid"
CRASH = ({"kind": "event", "t": 1.0, "event": "fault", "target": TRADER, "dependency": "trader", "fault_name": "crash"},
         {"kind": "event", "t": 1.1, "event": "fault_injected", "target": TRADER, "dependency": "trader",
          "fault_name": "crash", "point": "after_broker_ack"},
         {"kind": "event", "t": 2.0, "event": "restored", "target": TRADER, "dependency": "trader",
          "stale_key_ms": 2400, "lock_held_at_restart": True},
         {"kind": "event", "t": 4.5, "event": "leader_back", "target": TRADER, "leader_back_s": 2.5})


def placed(t, tag, order_id):
    return {"kind": "broker", "what": "order", "t": t, "tag": tag, "status": 200, "order_id": order_id, "by": "upstream"}


def timeline(*records, orders=None, end=10.0) -> Timeline:
    body = [{"kind": "meta", "t": 0.0, "drill": "trader_crash"}, *records]
    body.append({"kind": "orders", "t": end - 0.1, "prefix": PREFIX, "orders": orders, "errors": []})
    body.append({"kind": "end", "t": end})
    return Timeline.from_records(body)


def order(n, status):
    return {"client_order_id": f"{PREFIX}{n}", "status": status}


def reconciled(t=5.0, worst=3):
    return {"kind": "event", "t": t, "event": "reconciled", "target": TRADER, "reconciled_s": t - 2.0,
            "in_doubt_max": worst}


def test_reconciled_with_the_broker_agreeing_at_the_end_passes():
    result = orders_reconciled(timeline(*CRASH, placed(0.9, f"{PREFIX}0", "1"), placed(4.6, f"{PREFIX}1", "2"),
                                        reconciled(), orders=[order(0, "COMPLETE"), order(1, "OPEN")]), Limits.aitrapp())
    assert result.status == "pass" and result.value == 3.0, result
    assert result.figures == {"resent": 0.0, "stale_key_s": 2.4, "leader_back_s": 2.5, "orders_in_doubt_max": 3.0,
                              "reconciled_s": 3.0}


def test_orders_still_in_doubt_at_the_deadline_fail():
    timeout = {"kind": "event", "t": 8.0, "event": "reconcile_timeout", "target": TRADER, "timeout_s": 6,
               "in_doubt": [f"{PREFIX}0"], "in_doubt_max": 3}
    result = orders_reconciled(timeline(*CRASH, placed(0.9, f"{PREFIX}0", "1"), timeout,
                                        orders=[order(0, "PENDING")]), Limits.aitrapp())
    assert result.status == "fail" and "1 order(s) still in doubt 6.00 s" in result.reason and PREFIX in result.reason, result


def test_a_final_view_that_disagrees_with_the_broker_fails_and_counts_resent_tags():
    result = orders_reconciled(timeline(*CRASH, placed(0.9, f"{PREFIX}0", "1"), placed(4.6, f"{PREFIX}0", "2"),
                                        placed(4.7, f"{PREFIX}1", "3"), reconciled(),
                                        orders=[order(0, "COMPLETE"), order(1, "REJECTED")]), Limits.aitrapp())
    assert result.status == "fail" and f"{PREFIX}1 held by the broker, REJECTED at the trader" in result.reason, result
    assert result.figures["resent"] == 1.0


def test_no_crash_or_no_watch_is_unknown():
    assert orders_reconciled(timeline(reconciled(), orders=[]), Limits.aitrapp()).status == "unknown"
    unwatched = orders_reconciled(timeline(*CRASH, orders=[order(0, "OPEN")]), Limits.aitrapp())
    assert unwatched.status == "unknown" and "not watched" in unwatched.reason


def test_the_crash_window_is_a_silent_stretch_of_the_sampled_target():
    assert timeline(*CRASH, orders=[]).frozen_windows() == [(1.0, 2.0)]
