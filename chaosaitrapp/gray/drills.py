"""The gray family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

END_THE_STALL = action("end-the-stall", "chaosaitrapp.gray.actions:end_stall")
END_THE_HANG = action("end-the-hang", "chaosaitrapp.gray.postgres_actions:end_hang")

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
    Drill(
        "redis_stall_brief",
        title="Brief Redis stall: AITRAPP loses no order and is back by itself when Redis stalls for less than its lease",
        description=("A gray failure that cannot threaten the lease: the target's Redis answers nothing (CLIENT "
                     "PAUSE ALL) for STALL_SECONDS, shorter than its lock TTL minus its refresh (0: half of that; "
                     "longer is refused: that is redis_stall's), reached as the lock is. Nothing requires a pause "
                     "(the instance may keep leading, or pause and take its lock again), but /health stays up, "
                     "/ready drops at most once, and once Redis answers the instance is ready, leading and "
                     "trading within the deadline, every order arriving meanwhile placed exactly once."),
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
            action("stall-redis", "chaosaitrapp.gray.actions:stall_redis", seconds="${stall_seconds}", brief=True),
            d.ORDERS_OVER_THE_LEASE,
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
    Drill(
        "postgres_hang",
        title="Postgres hang: AITRAPP keeps answering while its order writes hang, and loses no order",
        description=("A gray failure: the target's Postgres stays up and keeps every connection, but writes to "
                     "orders hang behind a lock a session of the drill's own holds (POSTGRES_FAULT table_lock: "
                     "LOCK TABLE orders IN EXCLUSIVE MODE; reads go on), or fail because its data volume is full "
                     "(POSTGRES_FAULT disk_full: a balloon file fills POSTGRES_VOLUME, the volume the user names, "
                     "seen when a write of the drill's own fails for want of space), for HANG_SECONDS, reached as "
                     "the SQL checks reach it (the DATABASE_URL secret, or orders_database). Orders keep arriving "
                     "through the hang. Every GET of /health and /orders must answer within ANSWER_MAX "
                     "(/health 200 healthy; /orders with any status: a 503 is an answer, a request that waits "
                     "as long as the database does is none). When the lock is gone, orders arrive again "
                     "(with deliberate duplicates): every order the target acknowledged is placed exactly "
                     "once, none is left pending, the queue drains, and no client_order_id is stored twice. "
                     "The server ends the lock by itself should the run die (the session's own timeout); the "
                     "balloon is deleted by the rollback, the watchdog and cleanup."),
        tags=("aitrapp", "postgres", "gray-failure", "hang", "idempotency"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_orders",
                  "order_injector", "rollback_settle", "postgres_fault", "hang_seconds", "answer_max",
                  "postgres_volume", "disk_path"),
        steady=("AITRAPP is up and ready, and no client_order_id is stored twice", (
            d.HEALTHY,
            d.READY,
            d.NO_DUPLICATES_IN_POSTGRES,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("hang-postgres-writes", "chaosaitrapp.gray.postgres_actions:hang_postgres",
                   fault="${postgres_fault}", seconds="${hang_seconds}"),
            action("orders-keep-arriving", "chaosaitrapp.orders.actions:burst_orders", background=True,
                   count="${broker_orders}", over="${hang_seconds}", duplicate_every=0, expect_failures=True,
                   injector_command="${order_injector}"),
            probe("api-answers-throughout", "chaosaitrapp.trader.probes:answers_throughout",
                  duration="${hang_seconds}", answer_max="${answer_max}", interval=0.2),
            d.SNAPSHOT_AFTER_STOP,
            action("the-hang-ends", "chaosaitrapp.gray.postgres_actions:wait_hang_over", timeout=30),
            probe("api-healthy-after-the-hang", "chaosaitrapp.trader.probes:wait_healthy", timeout=10),
            d.READY_AGAIN,
            action("orders-after-the-hang", "chaosaitrapp.orders.actions:burst_orders", count=4, rate=20,
                   duplicate_every=2, injector_command="${order_injector}"),
            d.ORDERS_SETTLED,
            probe("orders-drained", "chaosaitrapp.metrics.probes:wait_queue_drained", timeout=30),
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            END_THE_HANG,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
