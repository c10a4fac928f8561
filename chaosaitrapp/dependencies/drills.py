"""The dependencies family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "leader_lock",
        title="Leader lock: AITRAPP pauses when it loses its Redis lock and resumes by itself",
        description=("The seed's chaos_test_leader_lock.sh as a Chaos Toolkit experiment. Stop Redis: /ready must "
                     "answer 503, trader_is_leader read 0 and the orchestrator pause (/state is_paused) while /health "
                     "stays healthy. Start Redis: within WAIT_READY_TIMEOUT /ready answers 200, leader 1, the "
                     "orchestrator resumes and all three heartbeats are below HEARTBEAT_MAX, with no restart. Every "
                     "wait is on its condition with a deadline: leadership drops at the next lock refresh, and a lock "
                     "key Redis kept across its restart delays re-acquisition until its TTL runs out."),
        tags=("aitrapp", "redis", "leader-lock", "seed"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "redis_container",
                  "redis_target", "rollback_settle"),
        defaults={"redis_container": ""},
        steady=("AITRAPP is ready, leading, trading and fresh", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("stop-redis", "chaosaitrapp.dependencies.actions:stop_dependency", dependency="redis",
                   target="${redis_target}", timeout=30),
            probe("leader-drops-to-0", "chaosaitrapp.metrics.probes:wait_leader", expected=0,
                  timeout="${detect_timeout}", interval=0.05),
            d.READY_ANSWERS_503,
            d.ORCHESTRATOR_PAUSED,
            probe("api-stays-healthy", "chaosaitrapp.trader.probes:wait_healthy", timeout=5),
            d.SNAPSHOT_AFTER_STOP,
            action("start-redis", "chaosaitrapp.dependencies.actions:start_dependency", dependency="redis",
                   target="${redis_target}", timeout=60),
            d.READY_AGAIN,
            probe("leader-back-to-1", "chaosaitrapp.metrics.probes:wait_leader", expected=1,
                  timeout="${detect_timeout}", interval=0.05),
            probe("orchestrator-resumed", "chaosaitrapp.trader.probes:wait_resumed", timeout="${detect_timeout}",
                  interval=0.05),
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("restore-redis", "chaosaitrapp.dependencies.actions:start_dependency", dependency="redis",
                   target="${redis_target}", timeout=60),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "postgres_blip",
        title="Postgres blip: persistence errors do not crash AITRAPP, and idempotency holds after the DB returns",
        description=("The seed's chaos_test_postgres.sh. Stop Postgres and hold the outage for OUTAGE_SECONDS while "
                     "orders arrive: the API stays up (/health 200 healthy throughout) and refuses what it cannot "
                     "store. Start Postgres: /health still 200, /ready 200, and orders submitted after the DB returns "
                     "(re-sending the ids tried during the outage, plus deliberate duplicate submissions) leave no "
                     "duplicate client_order_id, in SQL and in GET /orders."),
        tags=("aitrapp", "postgres", "idempotency", "seed"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail",
                  "postgres_container", "postgres_target", "order_injector", "outage_seconds"),
        defaults={"postgres_container": ""},
        steady=("AITRAPP is up and ready, and no client_order_id is stored twice", (
            d.HEALTHY,
            d.READY,
            d.NO_DUPLICATES_IN_POSTGRES,
            probe("no-duplicate-client-order-id-in-api", "chaosaitrapp.orders.probes:duplicate_orders_api",
                  {"type": "range", "range": [0, 0], "target": "count"}),
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("stop-postgres", "chaosaitrapp.dependencies.actions:stop_dependency", dependency="postgres",
                   target="${postgres_target}", timeout=30),
            action("orders-during-outage", "chaosaitrapp.orders.actions:burst_orders", count=4, rate=20,
                   duplicate_every=2, retries=0, injector_command="${order_injector}"),
            probe("api-stays-healthy-during-outage", "chaosaitrapp.trader.probes:stays_healthy",
                  duration="${outage_seconds}", interval=0.1),
            d.SNAPSHOT_AFTER_STOP,
            action("start-postgres", "chaosaitrapp.dependencies.actions:start_dependency", dependency="postgres",
                   target="${postgres_target}", timeout=60),
            probe("api-healthy-after-restart", "chaosaitrapp.trader.probes:wait_healthy", timeout=10),
            probe("ready-after-restart", "chaosaitrapp.trader.probes:wait_ready", timeout="${wait_ready_timeout}",
                  interval=0.05),
            action("orders-with-duplicate-submissions", "chaosaitrapp.orders.actions:burst_orders", count=10, rate=20,
                   duplicate_every=2, injector_command="${order_injector}"),
            probe("orders-drained", "chaosaitrapp.metrics.probes:wait_queue_drained", timeout=30),
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("restore-postgres", "chaosaitrapp.dependencies.actions:start_dependency", dependency="postgres",
                   target="${postgres_target}", timeout=60),
            action("confirm-healthy-after-rollback", "chaosaitrapp.trader.probes:wait_healthy", timeout=10),
            d.ABORT_ON_FAILURE,
        ),
    ),
)
