"""The drills with orders against a target that has no ``POST /orders`` (the lab's ``spool`` intake, shaped
like AITRAPP): orders come from an injector command run once per order (AITRAPP's
``synthetic_plan_injector.py`` shape, the drill's id passed as ``--plan-id {client_order_id}``) or from an
HTTP endpoint with a body template, and the drills pass or fail as they do through ``POST /orders``. An
injector that cannot pass the id leaves exactly-once undecided, never passed."""
from __future__ import annotations

import json
import sys

import pytest
import requests

from chaosaitrapp.orderids import is_kite_tag

from .checks import assert_lab_whole
from .kit import run_drill, start_lab

BROKER_ENV = {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "10"}
PLAN_BODY = json.dumps({"plan_id": "{client_order_id}", "symbol": "{symbol}", "direction": "LONG",
                        "qty": "__qty__"}).replace('"__qty__"', "{quantity}")


def injector(lab, with_id: bool = True) -> str:
    """AITRAPP's injector shape, as the lab's injector runs it (``--plan-id`` only when ``with_id``)."""
    command = (f"{sys.executable} -m chaosaitrapp.lab.injector --spool {lab.directory / 'spool'} "
               "--symbol {symbol} --side LONG --qty {quantity} --strategy ORB")
    return command + (" --plan-id {client_order_id}" if with_id else "")


@pytest.fixture(scope="module")
def spool_lab():
    lab = start_lab(profile="fast", order_intake="spool")
    yield lab
    lab.down()


def order_events(run) -> list:
    return [e for e in run.timeline_events() if e["event"] == "fault_injected" and e["target"] == "orders"]


def test_the_spool_lab_has_no_order_endpoint(spool_lab):
    answer = requests.post(spool_lab.api + "/orders", json={"client_order_id": "x", "symbol": "NIFTY",
                                                            "side": "BUY", "quantity": 1}, timeout=5)
    assert answer.status_code in (404, 405), answer.text


# drill, source, extra settings: the order-source matrix (every drill with orders passes through the injector)
MATRIX = [("rate_limit_spike", "command"), ("postgres_blip", "command"), ("broker_token_expiry", "command"),
          ("websocket_reconnect", "command"), ("rate_limit_spike", "http")]


@pytest.mark.parametrize("drill,source", MATRIX, ids=[f"{d}-{s}" for d, s in MATRIX])
def test_drills_with_orders_pass_through_the_services_own_path(drill, source, spool_lab, tmp_path):
    settings = ({"ORDER_INJECTOR": injector(spool_lab)} if source == "command" else
                {"ORDER_URL": "/plans", "ORDER_BODY": PLAN_BODY})
    run = run_drill(drill, spool_lab, tmp_path, {**BROKER_ENV, **settings})
    assert run.code == 0, f"{drill} via {source}: exit {run.code}; {run.extension.get('reasons')}\n{run.output[-2500:]}"
    assert all(c["status"] == "pass" for c in run.extension["checks"]), run.extension["checks"]
    events = order_events(run)
    assert events and all(e["source"] == source and e["ids_carried"] for e in events), events
    ids = {i for e in events for i in e["accepted_ids"]}
    assert ids and all(is_kite_tag(i) for i in ids), ids
    if "orders_exactly_once" in run.checks:
        assert "placed exactly once" in run.checks["orders_exactly_once"]["reason"]
    assert_lab_whole(spool_lab, tmp_path)


def test_an_injector_that_cannot_pass_the_id_leaves_exactly_once_undecided(spool_lab, tmp_path):
    run = run_drill("broker_token_expiry", spool_lab, tmp_path, {**BROKER_ENV, "ORDER_INJECTOR": injector(spool_lab, False)})
    once = run.checks["orders_exactly_once"]
    assert once["status"] == "unknown" and "a duplicate cannot be told" in once["reason"], once
    assert run.code != 0 and run.fields["test_result"] == "FAIL", "undecided is never a pass"
    assert all(not e["ids_carried"] and e["accepted_ids"] == [] for e in order_events(run))


def test_through_the_injector_a_drill_still_fails_on_its_defect(tmp_path):
    lab = start_lab(profile="fast", order_intake="spool", defects=["duplicate_on_retry"])
    try:
        run = run_drill("broker_token_expiry", lab, tmp_path, {**BROKER_ENV, "ORDER_INJECTOR": injector(lab)})
    finally:
        lab.down()
    once = run.checks["orders_exactly_once"]
    assert run.code == 1 and once["status"] == "fail" and "at the broker 2 times" in once["reason"], once
