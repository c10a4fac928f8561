"""How the WebSocket drill reads "resubscribed" from the broker proxy's records: a tick after the restore
on the old socket, or on a socket the target opened itself after the fault began (it left a stalled
socket before the stall was lifted); a reconnect that subscribes nothing is still a failure. And when the
feed was dead: by the proxy, by the target's own word, by the heartbeat, whichever comes first."""
import math

from chaosaitrapp.checks.feed import (
    cut_windows,
    feed_resubscribed,
    no_order_on_stale_feed,
    resubscription,
    stale_windows,
)
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline

TOKENS = [256265, 260105]


def records(*extra):
    base = [{"what": "ws_open", "t": 0.1, "sid": 1}, {"what": "ws_subscribe", "t": 0.2, "sid": 1, "tokens": TOKENS},
            *({"what": "ws_tick", "t": 0.3, "sid": 1, "token": t} for t in TOKENS),
            {"what": "fault", "t": 1.0, "fault": "ws_stall", "subscribed": TOKENS}]
    return sorted(base + list(extra), key=lambda r: r["t"])


def test_ticks_after_the_restore_on_the_old_socket_count():
    ticks = [{"what": "ws_resumed", "t": 5.0, "sid": 1}] + [{"what": "ws_tick", "t": 5.1, "sid": 1, "token": t} for t in TOKENS]
    subscribed, ticked = resubscription(records(*ticks), 1.0, 5.0)
    assert subscribed == set(TOKENS) and set(ticked) == set(TOKENS)


def test_a_socket_the_target_opened_during_the_stall_counts_before_the_restore():
    reopened = [{"what": "ws_open", "t": 3.0, "sid": 2}, {"what": "ws_subscribe", "t": 3.1, "sid": 2, "tokens": TOKENS}]
    reopened += [{"what": "ws_tick", "t": 3.3, "sid": 2, "token": t} for t in TOKENS]
    _, ticked = resubscription(records(*reopened), 1.0, 5.0)
    assert set(ticked) == set(TOKENS)
    timeline = Timeline.from_records([{"kind": "meta"}, {"kind": "sample", "t": 0.0},
                                      {"kind": "event", "t": 1.0, "event": "fault_injected", "target": "broker-proxy:x"},
                                      {"kind": "event", "t": 5.0, "event": "restored", "target": "broker-proxy:x"},
                                      *({**r, "kind": "broker"} for r in records(*reopened)),
                                      {"kind": "broker", "what": "collected", "t": 6.0}, {"kind": "end", "t": 6.0}])
    result = feed_resubscribed(timeline, Limits(5, 10))
    assert result.status == "pass" and "opened itself" in result.reason, result


def test_a_reconnect_that_subscribes_nothing_fails_and_old_ticks_do_not_count():
    silent = [{"what": "ws_open", "t": 6.0, "sid": 2}]
    subscribed, ticked = resubscription(records(*silent), 1.0, 5.0)
    assert subscribed == set(TOKENS) and ticked == {}


def test_ticks_let_through_before_the_restored_event_is_written_count():
    """The blackhole ends inside the clear: the proxy passes ticks a few ms before the drill writes its
    ``restored`` event. They count from the instant the restore began (its ``restore`` event)."""
    ticks = [{"what": "ws_resumed", "t": 7.1092, "sid": 1}]
    ticks += [{"what": "ws_tick", "t": 7.1093, "sid": 1, "token": t} for t in TOKENS]
    timeline = Timeline.from_records([{"kind": "meta"}, {"kind": "sample", "t": 0.0},
                                      {"kind": "event", "t": 1.0, "event": "fault", "target": "broker-proxy:x"},
                                      {"kind": "event", "t": 7.1006, "event": "restore", "target": "broker-proxy:x"},
                                      {"kind": "event", "t": 7.1169, "event": "restored", "target": "broker-proxy:x"},
                                      *({**r, "kind": "broker"} for r in records(*ticks)),
                                      {"kind": "broker", "what": "collected", "t": 9.0}, {"kind": "end", "t": 9.0}])
    result = feed_resubscribed(timeline, Limits(5, 10))
    assert result.status == "pass", result


def dead_feed_timeline(samples, broker, events=()):
    """A WebSocket drill's timeline: samples (t, md_connected, md_hb), broker records, and an order burst."""
    return Timeline.from_records([{"kind": "meta"},
                                  *({"kind": "sample", "t": t, "md_connected": c, "md_hb": hb} for t, c, hb in samples),
                                  {"kind": "event", "t": 1.0, "event": "fault_injected", "target": "broker-proxy:x"},
                                  *events,
                                  *({**r, "kind": "broker"} for r in broker),
                                  {"kind": "broker", "what": "collected", "t": 9.0}, {"kind": "end", "t": 9.0}])


BURST = {"kind": "event", "t": 2.0, "event": "fault_injected", "target": "orders", "accepted_ids": ["a"]}
CLOSED = [{"what": "ws_open", "t": 0.1, "sid": 1},
          {"what": "fault", "t": 1.0, "fault": "ws_refuse", "id": "ws_refuse-1"},
          {"what": "fault", "t": 1.0, "fault": "ws_close"},
          {"what": "fault_cleared", "t": 5.0, "fault": "ws_refuse", "id": "ws_refuse-1"},
          {"what": "ws_open", "t": 5.5, "sid": 2}, {"what": "ws_tick", "t": 5.6, "sid": 2, "token": 1}]


def test_a_heartbeat_kept_fresh_by_a_simulator_does_not_hide_a_dead_feed():
    """AITRAPP in PAPER: the ticker is down (the proxy refuses it, the target says disconnected) while a tick
    simulator keeps the heartbeat at 0.2 s: an order at the broker meanwhile fails, seen by two witnesses."""
    samples = [(t / 10, t < 10 or t > 55, 0.2) for t in range(0, 80)]
    order = {"what": "order", "t": 2.5, "tag": "a", "status": 200, "order_id": "1"}
    windows = stale_windows(dead_feed_timeline(samples, CLOSED), 5.0)
    assert set(windows) == {"proxy", "target"} and windows["proxy"] == [(1.05, 5.6)], windows
    result = no_order_on_stale_feed(dead_feed_timeline(samples, sorted(CLOSED + [order], key=lambda r: r["t"]),
                                                       [BURST]), Limits(5, 10))
    assert result.status == "fail" and "dead by proxy, target" in result.reason, result


def test_orders_held_until_the_first_tick_after_the_cut_pass():
    samples = [(t / 10, t < 10 or t > 55, 0.2) for t in range(0, 80)]
    order = {"what": "order", "t": 5.7, "tag": "a", "status": 200, "order_id": "1"}
    result = no_order_on_stale_feed(dead_feed_timeline(samples, sorted(CLOSED + [order], key=lambda r: r["t"]),
                                                       [BURST]), Limits(5, 10))
    assert result.status == "pass" and "by heartbeat" not in result.reason, result


def test_a_silent_socket_is_dead_by_the_proxy_only_once_its_heartbeat_could_tell():
    stall = [{"what": "ws_open", "t": 0.1, "sid": 1}, {"what": "fault", "t": 1.0, "fault": "ws_stall", "id": "s"},
             {"what": "fault_cleared", "t": 8.0, "fault": "ws_stall", "id": "s"},
             {"what": "ws_tick", "t": 8.1, "sid": 1, "token": 1}]
    assert cut_windows(dead_feed_timeline([(0.0, True, 0.1)], stall), 5.0) == [(6.0, 8.1)]
    one_instance = [{"what": "fault", "t": 1.0, "fault": "partition", "id": "p", "params": {"instance": "r0"}}]
    assert cut_windows(dead_feed_timeline([(0.0, True, 0.1)], one_instance), 5.0) == []
    never = cut_windows(dead_feed_timeline([(0.0, True, 0.1)], stall[:2]), 5.0)
    assert never == [(6.0, math.inf)], "a cut with no tick after it lasts to the end"


def test_no_witness_no_verdict():
    result = no_order_on_stale_feed(dead_feed_timeline([(t / 10, True, 0.2) for t in range(30)], []), Limits(5, 10))
    assert result.status == "unknown" and "no witness saw the feed dead" in result.reason, result
