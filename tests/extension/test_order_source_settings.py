"""The order source a drill uses, from its settings: ``POST /orders``, an injector command, or an HTTP endpoint
with a body template; bad templates refused naming what is wrong; a source that cannot aim at one replica
makes the split-brain drills not applicable; ``doctor``'s preview names the source."""
import sys

import pytest

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.orders.preflight import preview, problems
from chaosaitrapp.orders.sources import order_fields, order_source, render

INJECTOR = f"{sys.executable} -m chaosaitrapp.lab.injector --spool /s --symbol {{symbol}} --qty {{quantity}}"


def burst(to: str = "api", injector: str = "") -> ActivityCall:
    return ActivityCall("orders", "action", "method", "chaosaitrapp.orders.actions", "burst_orders",
                        {"to": to, "injector_command": injector})


def test_the_three_sources_and_what_each_carries():
    assert order_source({}).kind == "api" and order_source({}).carries_id and order_source({}).aims
    plain = order_source({"order_injector": INJECTOR})
    assert plain.kind == "command" and not plain.carries_id and not plain.aims
    aimed = order_source({"order_injector": INJECTOR + " --plan-id {client_order_id} --api {api}"})
    assert aimed.carries_id and aimed.aims
    http = order_source({"order_url": "/plans", "order_body": '{"plan_id": "{client_order_id}", "qty": {quantity}}'})
    assert http.kind == "http" and http.carries_id and http.aims
    assert not order_source({"order_url": "http://127.0.0.1:9/plans", "order_body": "{}"}).aims
    fields = order_fields("chs8285f5a768b300001", "NIFTY", "BUY", 50, None, "http://127.0.0.1:8000/")
    assert render('{"plan_id": "{client_order_id}", "qty": {quantity}}', fields) == \
        '{"plan_id": "chs8285f5a768b300001", "qty": 50}'
    assert render("--api {api}", fields) == "--api http://127.0.0.1:8000"


@pytest.mark.parametrize("settings,words", [
    ({"order_injector": "python x.py --qty {qty}"}, "unknown placeholder(s) {qty}"),
    ({"order_injector": "no-such-injector-here --x"}, "'no-such-injector-here' not found"),
    ({"order_url": "/plans"}, "order_url needs order_body"),
    ({"order_url": "/plans", "order_body": "{plan"}, "order_body is not JSON"),
    ({"order_url": "/plans", "order_body": "[1]"}, "must be a JSON object"),
    ({"order_url": "/plans", "order_body": "{}", "order_injector": INJECTOR}, "set one order source"),
])
def test_bad_order_sources_are_refused_naming_what_is_wrong(settings, words):
    with pytest.raises(ConfigError) as err:
        order_source(settings)
    assert words in str(err.value)


def test_orders_to_the_leader_need_a_source_that_aims_and_doctor_names_it():
    found = problems([burst("leader")], {"order_injector": INJECTOR}, None, online=True)
    assert len(found) == 1 and isinstance(found[0], NotApplicable) and "cannot aim" in found[0]
    assert problems([burst("leader")], {}, None, online=True) == []
    assert problems([burst("api")], {"order_injector": INJECTOR}, None, online=False) == []
    assert problems([burst()], {"order_url": "/plans"}, None, online=False) == \
        ["the order source: order_url needs order_body: the JSON body template of one order"]
    lines = preview([burst()], {"order_injector": INJECTOR}, None)
    assert lines and "once per order" in lines[0] and "service's ids are unknown" in lines[0]
