"""``orders_exactly_once`` reads the target's view of the drill's orders from ``GET /orders`` and, when the
database was read, from the ``orders`` table: a list of the newest orders only never makes an old order look
lost. Without the table, orders missing from the list and older than all it lists are unknown, never pass;
a missing order newer than one listed is lost; an order in neither the list nor the table is lost."""
from chaosaitrapp.checks.broker import orders_exactly_once
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import Timeline

PREFIX = "chs0000000000ab"
IDS = [f"{PREFIX}{n:05d}" for n in range(6)]
LIMITS = Limits(5, 10)


def timeline(listed, sql_status=None, placed=IDS):
    """All of IDS accepted by the API and placed once at the broker; ``listed``: the ids ``/orders`` shows
    (COMPLETE); ``sql_status``: the orders table's statuses (None: the database was not read)."""
    records = [{"kind": "meta"}, {"kind": "sample", "t": 0.0},
               {"kind": "event", "t": 1.0, "event": "fault_injected", "target": "orders", "accepted_ids": IDS},
               *({"kind": "broker", "what": "order", "t": 1.1 + k, "tag": i, "status": 200, "order_id": f"B{k}",
                  "by": "upstream"} for k, i in enumerate(placed)),
               {"kind": "broker", "what": "collected", "t": 9.0},
               {"kind": "orders", "t": 9.0, "prefix": PREFIX,
                "orders": [{"client_order_id": i, "status": "COMPLETE"} for i in listed],
                "sql_counts": None if sql_status is None else {i: 1 for i in sql_status},
                "sql_status": sql_status, "errors": []},
               {"kind": "end", "t": 9.0}]
    return Timeline.from_records(records)


def test_the_orders_table_completes_a_list_of_the_newest_only():
    result = orders_exactly_once(timeline(IDS[3:], {i: "FILLED" for i in IDS}), LIMITS)
    assert result.status == "pass" and "all 6 order(s)" in result.reason and "one Postgres row each" in result.reason, result


def test_without_the_table_old_orders_off_the_list_are_unknown_naming_the_setting():
    result = orders_exactly_once(timeline(IDS[3:]), LIMITS)
    assert result.status == "unknown" and "3 of 6" in result.reason and "DATABASE_URL" in result.reason, result
    assert f"oldest it lists ({IDS[3]})" in result.reason, result


def test_a_missing_order_newer_than_one_listed_is_lost():
    result = orders_exactly_once(timeline([IDS[0], IDS[1], IDS[2], IDS[3], IDS[5]]), LIMITS)
    assert result.status == "fail" and f"{IDS[4]} accepted by the API but missing from /orders" in result.reason, result


def test_an_order_in_neither_the_list_nor_the_table_is_lost():
    stored = {i: "FILLED" for i in IDS if i != IDS[1]}
    result = orders_exactly_once(timeline(IDS[3:], stored), LIMITS)
    assert result.status == "fail", result
    assert f"{IDS[1]} accepted by the API but missing from /orders and the orders table" in result.reason, result


def test_the_tables_status_judges_an_order_the_list_does_not_show():
    stored = {**{i: "FILLED" for i in IDS}, IDS[0]: "PENDING"}
    result = orders_exactly_once(timeline(IDS[3:], stored), LIMITS)
    assert result.status == "fail" and f"{IDS[0]} still PENDING at the end" in result.reason, result


def test_an_unknown_never_hides_a_failure():
    result = orders_exactly_once(timeline(IDS[3:], placed=IDS[:5]), LIMITS)
    assert result.status == "fail" and f"{IDS[5]} reported COMPLETE but the broker never accepted" in result.reason, result
