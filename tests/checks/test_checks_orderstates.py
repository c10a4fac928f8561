"""The order-state checks on synthetic timelines and the Kite scripts they judge by: a trader that agreed with the
broker's last word on each order and never ran ahead passes (figures: converged_s, orders in doubt at worst); one
ahead of the broker, one still at odds at the deadline, one whose final view disagrees fail; recorded fills that
differ from the broker's fail; no watch, no scripted order or no fills read is unknown. orders_exactly_once takes
an order the broker accepted and then cancelled, reported CANCELLED, as rightly refused."""
from __future__ import annotations

import pytest

from chaosaitrapp import kitestates
from chaosaitrapp.broker.proxy.faults import validate
from chaosaitrapp.checks.broker import orders_exactly_once
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.orderstates import compare, orders_converged, positions_match_fills
from chaosaitrapp.checks.timeline import Timeline

PREFIX = "chsabc"
PROXY = "broker-proxy http://127.0.0.1:1"
ANSWERED = 1000.0


def script(kind, quantity=50, **params):
    states = [list(s) for s in kitestates.script(kind, validate(kind, params, 60), quantity)]
    return {"kind": kind, "fault_id": "f", "states": states, "answered_wall": ANSWERED, "price": 100.0}


def placed(n, scripted, order_id=None):
    return {"kind": "broker", "what": "order", "t": 1.0, "tag": f"{PREFIX}{n}", "status": 200,
            "order_id": order_id or str(n), "by": "upstream", "script": scripted}


def order(n, status, filled):
    return {"client_order_id": f"{PREFIX}{n}", "status": status, "filled_quantity": filled}


def watch(event="converged", lags=None, ahead=(), fills=None, worst=1, **extra):
    lags = {f"{PREFIX}0": 0.4} if lags is None else lags
    return {"kind": "event", "t": 6.0, "event": event, "target": PROXY, "state": "partial_fill", "lag_s": lags,
            "in_doubt_max": worst, "ahead": list(ahead), "watched": sorted(lags) or [f"{PREFIX}0"], "prefix": PREFIX,
            "timeout_s": 8, **({"fills": fills} if fills is not None else {"fills_error": "no database URL"}), **extra}


def timeline(*records, orders=None) -> Timeline:
    body = [{"kind": "meta", "t": 0.0, "drill": "broker_order_states"}, *records,
            {"kind": "orders", "t": 9.9, "prefix": PREFIX, "orders": orders, "errors": []}, {"kind": "end", "t": 10.0}]
    return Timeline.from_records(body)


def test_the_scripts_are_kites_states_in_time():
    partial = script("partial_fill", parts=3, interval_s=1.0)
    assert [tuple(s[1:3]) for s in partial["states"]] == [("OPEN", 0), ("OPEN", 17), ("OPEN", 34), ("CANCELLED", 34)]
    assert kitestates.state_at(partial["states"], 1.5)[:2] == ("OPEN", 17)
    assert [s[1] for s in script("partial_fill", rest="complete")["states"]][-1] == "COMPLETE"
    assert kitestates.script("partial_fill", {"parts": 5, "interval_s": 1, "rest": "cancelled"}, 2)[-1][1:3] == \
        ("CANCELLED", 1), "never more parts than units"
    assert script("rejected_after_ack")["states"][-1][1] == "REJECTED"
    with pytest.raises(ValueError, match="unknown order state 'filled_twice'"):
        kitestates.script("filled_twice", {}, 1)
    view = kitestates.kite_view({"quantity": 50, "price": 99.0, "average_price": 0}, "CANCELLED", 34, "why", None)
    assert (view["pending_quantity"], view["cancelled_quantity"], view["average_price"]) == (0, 16, 99.0)


def test_compare_tells_agreeing_lagging_and_ahead_orders():
    scripts = {f"{PREFIX}0": script("pending_then_cancelled", pending_s=2.0)}
    at = ANSWERED + 1.0  # OPEN PENDING at the broker
    assert compare([order(0, "OPEN", 0)], scripts, PREFIX, at, at) == ({}, {})
    odds, ahead = compare([order(0, "COMPLETE", 50)], scripts, PREFIX, at, at)
    assert list(odds) == list(ahead) == [f"{PREFIX}0"] and "OPEN PENDING 0 filled at the broker" in ahead[f"{PREFIX}0"]
    odds, ahead = compare([order(0, "OPEN", 0)], scripts, PREFIX, at + 2, at + 2)
    assert list(odds) == [f"{PREFIX}0"] and ahead == {}, "behind the broker's cancel: at odds, not ahead"
    assert compare([order(0, "OPEN", 0)], scripts, PREFIX, at, at + 2) == ({}, {}), "a change inside the read"
    assert compare([order(9, "COMPLETE", 50)], scripts, PREFIX, at, at) == ({}, {}), "not scripted: not judged"


def test_agreement_within_the_deadline_with_the_final_view_agreeing_passes():
    result = orders_converged(timeline(placed(0, script("partial_fill")), watch(),
                                       orders=[order(0, "CANCELLED", 34)]), Limits.aitrapp())
    assert result.status == "pass" and result.value == 0.4, result
    assert result.figures == {"orders_in_doubt_max": 1.0, "converged_s": 0.4}


def test_ahead_of_the_broker_at_odds_past_the_deadline_or_at_the_end_fail():
    ahead = orders_converged(timeline(placed(0, script("late_update")), watch(ahead=[f"{PREFIX}0: COMPLETE 50"]),
                                      orders=[order(0, "COMPLETE", 50)]), Limits.aitrapp())
    assert ahead.status == "fail" and "1 order(s) ahead of the broker" in ahead.reason, ahead
    late = orders_converged(timeline(placed(0, script("lost_update")),
                                     watch("converge_timeout", lags={}, in_doubt=[f"{PREFIX}0: OPEN 0 filled"])),
                            Limits.aitrapp())
    assert late.status == "fail" and "still at odds with the broker 8.00 s" in late.reason, late
    end = orders_converged(timeline(placed(0, script("partial_fill")), watch(), orders=[order(0, "CANCELLED", 0)]),
                           Limits.aitrapp())
    assert end.status == "fail" and "disagree with the broker at the end" in end.reason, end


def test_without_a_watch_a_scripted_order_or_the_final_orders_it_is_unknown():
    assert orders_converged(timeline(orders=[]), Limits.aitrapp()).status == "unknown"
    for event in ("converged", "converge_timeout"):  # a trader that never sent its orders to the broker
        none = orders_converged(timeline(watch(event, lags={}, watched=[], in_doubt=[]), orders=[]), Limits.aitrapp())
        assert none.status == "unknown" and "no order of the drill was scripted" in none.reason, none
    unread = orders_converged(timeline(placed(0, script("partial_fill")), watch(), orders=None), Limits.aitrapp())
    assert unread.status == "unknown" and "/orders" in unread.reason


def test_recorded_fills_must_be_the_brokers():
    scripted = placed(0, script("partial_fill"))
    good = positions_match_fills(timeline(scripted, watch(fills={f"{PREFIX}0": 34})), Limits.aitrapp())
    assert good.status == "pass" and "34 filled in all" in good.reason, good
    bad = positions_match_fills(timeline(scripted, watch(fills={})), Limits.aitrapp())
    assert bad.status == "fail" and "0 recorded filled, the broker filled 34" in bad.reason, bad
    unread = positions_match_fills(timeline(scripted, watch()), Limits.aitrapp())
    assert unread.status == "unknown" and "no database URL" in unread.reason


def test_an_order_the_broker_cancelled_after_accepting_it_is_rightly_reported_cancelled():
    burst = {"kind": "event", "t": 0.5, "event": "fault_injected", "target": "orders", "accepted_ids": [f"{PREFIX}0"]}
    cancelled = timeline(burst, placed(0, script("pending_then_cancelled")), orders=[order(0, "CANCELLED", 0)])
    assert orders_exactly_once(cancelled, Limits.aitrapp()).status == "pass"
    unscripted = timeline(burst, placed(0, None), orders=[order(0, "CANCELLED", 0)])
    result = orders_exactly_once(unscripted, Limits.aitrapp())
    assert result.status == "fail" and "reported CANCELLED but the broker holds it" in result.reason, result
