"""The network family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

HOLD_PAST_THE_LEASE = probe("hold-past-the-lease", "chaosaitrapp.network.probes:hold_past_lease", beyond=1,
                            interval=0.1)
HEAL_THE_PARTITION = action("heal-the-partition", "chaosaitrapp.network.actions:heal_partition", timeout=30)
API_STAYS_HEALTHY_THROUGH_THE_PARTITION = probe("api-stays-healthy-through-the-partition",
                                                "chaosaitrapp.trader.probes:stays_healthy",
                                                duration="${partition_seconds}", interval=0.1)

DRILLS = (
    Drill(
        "network_partition_redis",
        title="Network partition from Redis: AITRAPP stops trading before its leader lease can run out",
        description=("The seed's 'network partition simulation' next step. The path from AITRAPP to Redis is cut "
                     "while Redis keeps running (PARTITION_KIND=blackhole: packets go nowhere and calls hang until "
                     "the client's own timeouts; reject: TCP resets; latency with PARTITION_LATENCY_MS above the "
                     "target's Redis timeouts), at the TCP fault proxy the target's Redis traffic goes through or "
                     "with kernel rules (PARTITION_MECHANISM). Orders keep arriving for the whole lease. The instance "
                     "must pause (trader_is_leader 0, /ready 503) before its lock's lease could have run out (TTL - "
                     "refresh after the partition began: a check, the margin is the evidence), keep /health up, place "
                     "no order after that instant, and after the heal re-acquire, resume and place every order "
                     "exactly once within the deadline."),
        tags=("aitrapp", "redis", "network", "partition", "leader-lock"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "net_proxy", "partition_kind",
                  "partition_latency_ms", "partition_mechanism", "partition_seconds"),
        steady=("AITRAPP is ready, leading, trading, fresh and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("partition-redis", "chaosaitrapp.network.actions:partition", dependency="redis",
                   kind="${partition_kind}", delay_ms="${partition_latency_ms}", mechanism="${partition_mechanism}",
                   duration=300),
            d.ORDERS_OVER_THE_LEASE,
            d.ORCHESTRATOR_PAUSED,
            d.READY_ANSWERS_503,
            HOLD_PAST_THE_LEASE,
            d.SNAPSHOT_AFTER_STOP,
            HEAL_THE_PARTITION,
            d.READY_AGAIN,
            d.LEADER_BACK,
            d.RESUMED,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            HEAL_THE_PARTITION,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "network_partition_postgres",
        title=("Network partition from Postgres: /health answers throughout and no acknowledged order is lost or "
               "doubled"),
        description=("The path from AITRAPP to Postgres is cut for PARTITION_SECONDS while Postgres keeps running "
                     "(PARTITION_KIND=blackhole by default: statements hang until the target's own timeouts). Orders "
                     "keep arriving. /health must answer healthy throughout (a health check that waits on the "
                     "database is a liveness probe that restarts a healthy pod); once the partition heals, every "
                     "order the API acknowledged is stored exactly once in Postgres (counted by client_order_id) and "
                     "none twice; /ready 200 within the deadline."),
        tags=("aitrapp", "postgres", "network", "partition"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "net_proxy", "partition_kind",
                  "partition_latency_ms", "partition_mechanism", "partition_seconds"),
        steady=("AITRAPP is ready and healthy", (
            d.READY,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("partition-postgres", "chaosaitrapp.network.actions:partition", dependency="postgres",
                   kind="${partition_kind}", delay_ms="${partition_latency_ms}", mechanism="${partition_mechanism}",
                   duration=300),
            action("orders-arrive-during-the-partition", "chaosaitrapp.orders.actions:burst_orders", background=True,
                   count="${broker_orders}", over="${partition_seconds}", duplicate_every=0, retries=1,
                   expect_failures=True, injector_command="${order_injector}"),
            API_STAYS_HEALTHY_THROUGH_THE_PARTITION,
            d.SNAPSHOT_AFTER_STOP,
            HEAL_THE_PARTITION,
            probe("ready-again", "chaosaitrapp.trader.probes:wait_ready", timeout="${wait_ready_timeout}",
                  interval=0.05, stable_for=4),
            probe("api-healthy", "chaosaitrapp.trader.probes:wait_healthy", timeout=5),
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            HEAL_THE_PARTITION,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "network_partition_broker",
        title="Network partition from the broker: orders whose reply never came are reconciled, not re-sent",
        description=("The path from AITRAPP to Kite is cut with orders in flight, at the broker fault proxy: "
                     "placements still reach the broker but no answer comes back (a one-way blackhole), and the "
                     "market-data socket stalls; the cut holds for PARTITION_SECONDS. An order whose reply never came "
                     "is indeterminate, not failed: after the heal the target must look it up by its tag instead of "
                     "sending it again. Checks: no order twice at the broker, no acknowledged order missing, /health "
                     "up, /ready 200 within the deadline after the heal."),
        tags=("aitrapp", "broker", "kite", "network", "partition"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "net_proxy", "partition_kind",
                  "partition_latency_ms", "partition_mechanism", "partition_seconds"),
        steady=("AITRAPP is ready, healthy, fresh and streaming market data", (
            d.READY,
            d.HEALTHY,
            d.HEARTBEATS_FRESH,
            d.STREAMING,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("partition-the-broker", "chaosaitrapp.network.actions:partition", dependency="broker",
                   kind="blackhole", direction="from_dependency", duration=300),
            action("orders-in-flight", "chaosaitrapp.orders.actions:burst_orders", background=True,
                   count="${broker_orders}", rate=10, duplicate_every=0, injector_command="${order_injector}"),
            API_STAYS_HEALTHY_THROUGH_THE_PARTITION,
            d.SNAPSHOT_AFTER_STOP,
            HEAL_THE_PARTITION,
            d.READY_AGAIN,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            HEAL_THE_PARTITION,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "network_latency_redis",
        title="Latency to Redis below the target's timeouts: AITRAPP keeps leading and trading",
        description=("Every exchange between AITRAPP and Redis is PARTITION_LATENCY_MS slower (default 100 ms) for a "
                     "whole lease, at the TCP fault proxy: below the target's Redis timeouts its lock refreshes still "
                     "succeed, so nothing may change. The steady state is checked continuously during the method (a "
                     "deviation fails the drill), and no sample may show leader 0, /ready 503 or a pause."),
        tags=("aitrapp", "redis", "network", "latency"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "net_proxy", "partition_kind",
                  "partition_latency_ms", "partition_mechanism", "partition_seconds"),
        defaults={"partition_latency_ms": 100},
        steady=("AITRAPP is ready, leading, trading, fresh and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("slow-redis", "chaosaitrapp.network.actions:slow_dependency", dependency="redis",
                   delay_ms="${partition_latency_ms}", duration=300),
            HOLD_PAST_THE_LEASE,
            probe("snapshot-during-the-slowdown", "chaosaitrapp.evidence.probes:snapshot_metrics", label="after_stop"),
            HEAL_THE_PARTITION,
            probe("snapshot-after", "chaosaitrapp.evidence.probes:snapshot_metrics", label="after_recovery"),
        ),
        rollbacks=(
            HEAL_THE_PARTITION,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
        hypothesis_strategy="continuously",
    ),
)
