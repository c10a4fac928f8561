"""The orders family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "rate_limit_spike",
        title="Rate-limit spike: the throttle queue absorbs a burst and drains, with no duplicate orders",
        description=("The seed's chaos_test_rate_limit.sh. A burst of orders above the broker's rate limit (10/s), "
                     "with deliberate duplicate submissions: trader_throttle_queue_depth{type=\"order_placement\"} "
                     "rises, returns to 0 within 30 s, and no client_order_id is stored twice. Refused unless the "
                     "target is in PAPER mode."),
        tags=("aitrapp", "rate-limit", "idempotency", "seed"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "burst_count",
                  "burst_rate", "queue_drain_timeout", "order_injector"),
        steady=("AITRAPP is ready, its throttle queue is empty, and no client_order_id is stored twice", (
            d.READY,
            d.HEALTHY,
            probe("throttle-queue-empty", "chaosaitrapp.metrics.probes:throttle_queue_depth", 0),
            d.NO_DUPLICATES_IN_POSTGRES,
            probe("no-duplicate-client-order-id-in-api", "chaosaitrapp.orders.probes:duplicate_orders_api",
                  {"type": "range", "range": [0, 0], "target": "count"}),
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("burst-orders", "chaosaitrapp.orders.actions:burst_orders", count="${burst_count}",
                   rate="${burst_rate}", duplicate_every=4, injector_command="${order_injector}"),
            probe("queue-depth-rises", "chaosaitrapp.metrics.probes:wait_queue_depth_above", threshold=0, timeout=10,
                  interval=0.02),
            d.SNAPSHOT_AFTER_STOP,
            probe("queue-drains-to-0", "chaosaitrapp.metrics.probes:wait_queue_drained",
                  timeout="${queue_drain_timeout}", interval=0.05),
            probe("api-stays-healthy", "chaosaitrapp.trader.probes:wait_healthy", timeout=5),
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            d.ABORT_ON_FAILURE,
        ),
    ),
)
