"""The orders family: a burst of orders (with duplicate submissions) through the target's order source.
Alone it is the rate-limit drill's fault; beside another fault it is that fault's load, and the checks of
what became of every order then apply."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.orders.actions"

FAMILY = Family(
    name="orders",
    doc="a burst of orders, with duplicate submissions",
    activity_modules=("chaosaitrapp.orders.probes", ACTIONS),
    settings=(
        Setting("burst_count", "BURST_COUNT", 40, "the rate-limit drill's burst size", "int"),
        Setting("burst_rate", "BURST_RATE", 100, "the rate-limit drill's burst rate (orders/s)", "number"),
        Setting("queue_drain_timeout", "QUEUE_DRAIN_TIMEOUT", 30.0,
                "the throttle queue must drain within this (seconds)", "number"),
        Setting("order_injector", "ORDER_INJECTOR", None,
                "a command run once per order instead of `POST /orders` (the real service has no injection "
                "endpoint); placeholders `{client_order_id}` `{symbol}` `{side}` `{quantity}` `{price}` `{api}`"),
        Setting("order_url", "ORDER_URL", None,
                "an HTTP endpoint (a path on the API, or a URL) POSTed once per order instead of `POST /orders`"),
        Setting("order_body", "ORDER_BODY", None,
                "the JSON body template `order_url` gets, with the placeholders of `order_injector`"),
    ),
    # An order burst: the throttle queue fills and drains.
    kinds=(FaultKind("order_burst", checks=("queue_drained",), load=True, timing="none"),),
    actions=(FaultAction(ACTIONS, "burst_orders", lambda args: "order_burst"),),
    preflight="chaosaitrapp.orders.preflight:problems",
    preview="chaosaitrapp.orders.preflight:preview",
    checkers={"queue_drained": "chaosaitrapp.checks.queue:queue_drained",
              "orders_exactly_once": "chaosaitrapp.checks.broker:orders_exactly_once"},
    drills="chaosaitrapp.orders.drills:DRILLS",
)
