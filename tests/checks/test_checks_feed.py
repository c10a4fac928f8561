"""How the WebSocket drill reads "resubscribed" from the broker proxy's records: a tick after the restore
on the old socket, or on a socket the target opened itself after the fault began (it left a stalled
socket before the stall was lifted); a reconnect that subscribes nothing is still a failure."""
from chaosaitrapp.checks.broker import feed_resubscribed, resubscription
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
