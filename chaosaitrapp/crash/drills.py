"""The crash family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their experiment JSON is
generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "trader_crash",
        title="Trader crash: AITRAPP killed with an order in doubt comes back knowing the broker's truth",
        description=("The trader is killed with SIGKILL at CRASH_POINT of an order's life, as the broker fault proxy "
                     "sees it: after_broker_ack (the broker accepted the placement, the proxy holds its reply: the "
                     "trader dies not knowing), after_reply (CRASH_DELAY_MS after the reply is let go, before the "
                     "trader can record it), queue_full (orders acknowledged by the API, still queued behind the "
                     "broker's rate limit), mid_leader_change (with two or more replicas: the leader killed as at "
                     "after_broker_ack, then the standby that wins the lock CRASH_DELAY_MS after its grant, before it "
                     "can reconcile). CRASH_ORDERS orders are sent meanwhile. The trader named by "
                     "TARGET_PROCESS is started again as it ran (its restart is in the fault ledger from the moment "
                     "the crash is armed: a run that dies leaves it started by the watchdog). It must lead again "
                     "(the time its own stale lock key blocks it is in the evidence), have no order of the drill in "
                     "doubt within RECONCILE_TIMEOUT (each order the broker holds known to it by its tag, none "
                     "PENDING), send none twice (no tag twice at the broker), lose none it acknowledged, and be "
                     "ready again."),
        tags=("aitrapp", "crash", "orders", "reconciliation", "kite"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "order_injector", "rollback_settle", "target_process", "crash_point", "crash_orders",
                  "crash_delay_ms", "reconcile_timeout", "replicas", "replica_targets", "lock_redis"),
        steady=("AITRAPP is ready, leading, trading and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("arm-the-crash-point", "chaosaitrapp.crash.actions:arm_crash", point="${crash_point}"),
            action("orders-arrive", "chaosaitrapp.orders.actions:burst_orders", count="${crash_orders}", rate=20,
                   duplicate_every=0, injector_command="${order_injector}"),
            action("kill-the-trader-at-the-crash-point", "chaosaitrapp.crash.actions:crash_trader",
                   delay_ms="${crash_delay_ms}", timeout="${detect_timeout}"),
            d.SNAPSHOT_AFTER_STOP,
            action("start-the-trader-again-as-it-ran", "chaosaitrapp.crash.actions:restart_trader",
                   timeout="${wait_ready_timeout}"),
            probe("leading-again-and-no-order-in-doubt", "chaosaitrapp.crash.actions:wait_reconciled", timeout="${reconcile_timeout}",
                  interval=0.2),
            d.READY_AGAIN,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("start-the-trader-again", "chaosaitrapp.crash.actions:end_crash", timeout="${wait_ready_timeout}"),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
