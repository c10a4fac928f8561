"""``token_refresh_bounded`` judges a refresh by what the broker saw (a session made after the fault, then
a token never used before), not by the target's own counter, which AITRAPP increments on every refusal;
``orders_exactly_once`` never passes orders the broker cannot tell apart (one tag on several)."""
from chaosaitrapp.checks.broker import orders_exactly_once, token_refresh_bounded
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline


def token_timeline(counter, broker, proxy_read=True):
    """Samples of the counter (None: no sample had the label), a token fault at t=1, broker records."""
    records = [{"kind": "meta"}]
    records += [{"kind": "sample", "t": t, "token_refreshes": v} for t, v in counter]
    records.append({"kind": "event", "t": 1.0, "event": "fault_injected", "target": "broker-proxy:x"})
    if proxy_read:
        records += [{**r, "kind": "broker"} for r in broker] + [{"kind": "broker", "what": "collected", "t": 9.0}]
    return Timeline.from_records(records + [{"kind": "end", "t": 9.0}])


SESSION = {"what": "session", "t": 1.4, "status": 200}
NEW_TOKEN = {"what": "token_new", "t": 1.45, "ordinal": 2, "where": "rest"}
LIMITS = Limits(5, 10)


def test_a_counter_that_rises_without_a_session_fails_naming_it():
    # AITRAPP: no sample until the first increment (counts from 0), then one per refused call
    result = token_refresh_bounded(token_timeline([(0.5, None), (2.0, 1.0), (3.0, 4.0)], []), LIMITS)
    assert result.status == "fail", result
    assert "no session was created at the broker" in result.reason and "rose by 4" in result.reason
    assert result.value == 0.0


def test_a_session_and_its_new_token_pass_whatever_the_counter():
    result = token_refresh_bounded(token_timeline([(0.5, 0.0), (3.0, 0.0)], [SESSION, NEW_TOKEN]), LIMITS)
    assert result.status == "pass" and "1 session(s) created at the broker" in result.reason, result
    assert "own counter did not rise" in result.reason


def test_a_session_whose_token_is_never_used_fails():
    result = token_refresh_bounded(token_timeline([(0.5, 0.0), (3.0, 1.0)], [SESSION]), LIMITS)
    assert result.status == "fail" and "no new token was ever used" in result.reason, result


def test_sessions_beyond_the_bound_are_a_storm_and_refused_sessions_do_not_count():
    many = [{"what": "session", "t": 1.1 + i / 10, "status": 200} for i in range(LIMITS.max_token_refreshes + 1)]
    result = token_refresh_bounded(token_timeline([(0.5, 0.0)], many + [NEW_TOKEN]), LIMITS)
    assert result.status == "fail" and "a refresh storm" in result.reason, result
    refused = token_refresh_bounded(token_timeline([(0.5, 0.0)], [{**SESSION, "status": 403}, NEW_TOKEN]), LIMITS)
    assert refused.status == "fail" and "no session was created" in refused.reason, refused


def test_a_session_before_the_fault_is_not_a_refresh_and_no_proxy_history_is_unknown():
    early = token_refresh_bounded(token_timeline([(0.5, 0.0)], [{**SESSION, "t": 0.5}, {**NEW_TOKEN, "t": 0.6}]), LIMITS)
    assert early.status == "fail", early
    unread = token_refresh_bounded(token_timeline([(0.5, 0.0), (3.0, 2.0)], [], proxy_read=False), LIMITS)
    assert unread.status == "unknown" and "the broker's sessions cannot be seen" in unread.reason, unread


def test_one_tag_on_many_broker_orders_is_never_exactly_once():
    ids = ["chs8285f5a768b300000", "chs8285f5a768b300001"]
    records = [{"kind": "meta"}, {"kind": "sample", "t": 0.0},
               {"kind": "event", "t": 1.0, "event": "fault_injected", "target": "orders", "accepted_ids": ids},
               *({"kind": "broker", "what": "order", "t": 1.1 + i, "tag": "aitrappORB", "status": 200,
                  "order_id": str(i), "by": "upstream"} for i in range(2)),
               {"kind": "broker", "what": "collected", "t": 5.0},
               {"kind": "orders", "t": 5.0, "prefix": "chs8285f5a768b3",
                "orders": [{"client_order_id": i, "status": "OPEN"} for i in ids], "sql_counts": None, "errors": []},
               {"kind": "end", "t": 5.0}]
    result = orders_exactly_once(Timeline.from_records(records), LIMITS)
    assert result.status == "fail" and "under the one tag 'aitrappORB'" in result.reason, result
