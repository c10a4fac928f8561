"""The order-state family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their experiment JSON
is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "broker_order_states",
        title="Broker order states: AITRAPP follows the broker's word on each order, never ahead of it",
        description=("The broker fault proxy shows the drill's ORDER_STATE_ORDERS orders as ORDER_STATE says: "
                     "pending_then_cancelled (OPEN PENDING for ORDER_STATE_S, then CANCELLED by the exchange), "
                     "rejected_after_ack (200 with an order id, then REJECTED), partial_fill (filled in three parts "
                     "ORDER_STATE_S apart, the last cancelled), lost_update (filled after ORDER_STATE_S, the order "
                     "book never shows it: only asking about the order tells), late_update (the fill arrives "
                     "ORDER_STATE_S late). The trader's /orders must agree with the broker's last word on each order "
                     "within CONVERGE_TIMEOUT (status and filled quantity), never show a fill or an end the broker has "
                     "not, record exactly the broker's fills (its trades in Postgres), place nothing twice and stay "
                     "ready."),
        tags=("aitrapp", "broker", "orders", "reconciliation", "kite"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "pause_on_fail", "broker_proxy", "order_injector",
                  "rollback_settle", "order_state", "order_state_s", "order_state_orders", "converge_timeout"),
        steady=("AITRAPP is ready, leading, trading and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("script-the-brokers-order-states", "chaosaitrapp.orderstates.actions:script_order_state",
                   state="${order_state}", seconds="${order_state_s}", timeout="${converge_timeout}"),
            action("orders-arrive", "chaosaitrapp.orders.actions:burst_orders", count="${order_state_orders}",
                   rate=20, duplicate_every=0, injector_command="${order_injector}"),
            d.SNAPSHOT_AFTER_STOP,
            probe("the-trader-agrees-with-the-broker", "chaosaitrapp.orderstates.actions:wait_converged",
                  timeout="${converge_timeout}", interval=0.2),
            action("the-broker-fault-ends", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            d.READY_AGAIN,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("clear-broker-faults", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
