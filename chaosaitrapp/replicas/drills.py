"""The replicas family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

A_STANDBY_TAKES_OVER = probe("a-standby-takes-over", "chaosaitrapp.replicas.probes:wait_new_leader",
                             timeout="${wait_ready_timeout}", interval=0.05)
ONE_LEADER = probe("one-leader", "chaosaitrapp.replicas.probes:leader_count", 1)
THE_LEADER_IS_READY = probe("the-leader-is-ready", "chaosaitrapp.replicas.probes:leader_ready", "ready")
HEAL_THE_PARTITION = action("heal-the-partition", "chaosaitrapp.network.actions:heal_partition", timeout=30)

DRILLS = (
    Drill(
        "split_brain_pause",
        title="Split brain: the leader frozen past its lease while a standby takes over; one trader at a time",
        description=("Issue 'split brain'. The leading replica's broker calls are held on the wire (the broker fault "
                     "proxy, for that instance only) until one of its orders is in flight, then it is frozen (SIGSTOP "
                     "of its process group, or docker pause) with orders queued in it, as a GC pause or a frozen VM "
                     "would freeze it, until a standby has taken the leader lock (its TTL ran out in Redis) and "
                     "placed an order; then its held order is let through (it reaches the broker after the new "
                     "leader's: Kleppmann's delayed packet) and it is thawed. A lock with a TTL and no fencing "
                     "(AITRAPP as published) lets the thawed instance place orders before its next refresh tells it "
                     "it lost: two traders at once, double exposure. With a fencing token checked by the broker and a "
                     "lease guard it cannot. Judged on the broker's history of placements (who, under which grant, "
                     "when), the acknowledged orders and every replica's leader gauge: one placer at a time, fencing "
                     "tokens monotonic, every order exactly once across the replicas, one leader at a time."),
        tags=("aitrapp", "split-brain", "leader-lock", "replicas", "fencing"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "rollback_settle", "net_proxy", "split_brain_orders", "replicas", "replica_targets",
                  "replica_redis_routes"),
        steady=("exactly one replica leads, and it is ready and healthy", (
            ONE_LEADER,
            THE_LEADER_IS_READY,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("orders-queued-at-the-leader", "chaosaitrapp.orders.actions:burst_orders",
                   count="${split_brain_orders}", rate=200, duplicate_every=0, to="leader"),
            action("hold-the-leaders-order-on-the-wire", "chaosaitrapp.replicas.actions:hold_leader_orders",
                   duration=300, timeout=10),
            action("freeze-the-leader", "chaosaitrapp.replicas.actions:pause_leader", max_seconds=0),
            A_STANDBY_TAKES_OVER,
            probe("the-new-leader-trades", "chaosaitrapp.replicas.probes:wait_new_leader_trades",
                  timeout="${wait_ready_timeout}", interval=0.05),
            action("release-the-held-order", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            action("thaw-the-old-leader", "chaosaitrapp.replicas.actions:resume_paused"),
            d.SNAPSHOT_AFTER_STOP,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("release-held-orders", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            action("thaw-every-paused-replica", "chaosaitrapp.replicas.actions:resume_paused"),
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "split_brain_partition",
        title="Split brain: the leader cut off from Redis while it still reaches the broker; one trader at a time",
        description=("Issue 'split brain'. The leading replica's own path to Redis is cut (blackholed at the TCP "
                     "fault proxy; PARTITION_KIND=reject for resets) while it still reaches the broker, while orders "
                     "keep arriving at it for a lease's length. Its lease runs out in Redis and a standby takes the "
                     "lock. It must stop trading before that (a Redis timeout shorter than TTL - refresh, or the "
                     "lease guard), and a fencing token lets the broker refuse whatever it still sends. Judged as the "
                     "pause drill: one placer at a time, fencing tokens monotonic, every order exactly once across "
                     "the replicas, one leader at a time."),
        tags=("aitrapp", "split-brain", "leader-lock", "replicas", "fencing", "partition"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "rollback_settle", "net_proxy", "split_brain_orders", "replicas", "replica_targets",
                  "replica_redis_routes", "partition_kind"),
        steady=("exactly one replica leads, and it is ready and healthy", (
            ONE_LEADER,
            THE_LEADER_IS_READY,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("cut-the-leader-from-redis", "chaosaitrapp.replicas.actions:isolate_leader",
                   kind="${partition_kind}", duration=300),
            action("orders-keep-arriving-at-the-leader", "chaosaitrapp.orders.actions:burst_orders", background=True,
                   count="${split_brain_orders}", over="lease", duplicate_every=0, to="leader", expect_failures=True),
            A_STANDBY_TAKES_OVER,
            d.SNAPSHOT_AFTER_STOP,
            probe("hold-past-the-lease", "chaosaitrapp.network.probes:hold_past_lease", beyond=3, interval=0.1),
            HEAL_THE_PARTITION,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            HEAL_THE_PARTITION,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
