"""The gray family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

END_THE_STALL = action("end-the-stall", "chaosaitrapp.gray.actions:end_stall")

DRILLS = (
    Drill(
        "redis_stall",
        title="Redis stall: AITRAPP stops trading before its lease can run out while Redis is up but answers nothing",
        description=("A gray failure: the target's Redis keeps running and keeps every connection, but answers "
                     "nothing (CLIENT PAUSE ALL) for STALL_SECONDS (0: the lease, TTL + refresh + 1 s), reached "
                     "as the lock is (lock_redis, the REDIS_URL secret, the Redis target): no proxy needed. Calls "
                     "hang until the target's own Redis timeouts, as behind a silent network. Orders keep "
                     "arriving for the whole lease. The instance must pause (trader_is_leader 0, /ready 503) "
                     "before its lease could have run out (TTL - refresh after the stall began), keep /health "
                     "up, place no order after that instant, and when Redis answers again re-acquire, resume "
                     "and place every order exactly once within the deadline."),
        tags=("aitrapp", "redis", "gray-failure", "stall", "leader-lock"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_orders",
                  "order_injector", "rollback_settle", "redis_target", "stall_seconds"),
        steady=("AITRAPP is ready, leading, trading, fresh and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("stall-redis", "chaosaitrapp.gray.actions:stall_redis", seconds="${stall_seconds}"),
            d.ORDERS_OVER_THE_LEASE,
            d.ORCHESTRATOR_PAUSED,
            d.READY_ANSWERS_503,
            probe("hold-past-the-lease", "chaosaitrapp.network.probes:hold_past_lease", beyond=0.5, interval=0.1),
            d.SNAPSHOT_AFTER_STOP,
            action("the-stall-ends", "chaosaitrapp.gray.actions:wait_stall_over", timeout=30),
            d.READY_AGAIN,
            d.LEADER_BACK,
            d.RESUMED,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            END_THE_STALL,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
