"""The replicas family (split brain): the leading replica frozen, or cut off from Redis, while a standby
takes over; judged on the broker's history of placements, Jepsen-style, and every replica's leader gauge."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.replicas.actions"
ONE_AT_A_TIME = ("one_placer_at_a_time", "fencing_tokens_monotonic", "orders_once_across_replicas",
                 "one_leader_at_a_time")

REPLICAS = Setting("replicas", "REPLICAS", None,
                   "comma list of the other replicas' API URLs (the split-brain drills; default: the lab's replicas)",
                   "list")
REPLICA_TARGETS = Setting("replica_targets", "REPLICA_TARGETS", None,
                          "comma list of how to pause each replica, `API` first then `REPLICAS`: `process:PIDFILE`, `pid:N` or "
                          "`docker:NAME` (default: the lab's processes)", "list")
REPLICA_REDIS_ROUTES = Setting("replica_redis_routes", "REPLICA_REDIS_ROUTES", None,
                               "comma list of the TCP fault proxy route each replica reaches Redis by, in the same order (default: "
                               "the lab's `redis`, `redis_1`, ...)", "list")
REPLICA_INSTANCE_IDS = Setting("replica_instance_ids", "REPLICA_INSTANCE_IDS", None,
                               "comma list of each replica's instance id (its `X-AITRAPP-Instance`), in the same "
                               "order (default: read from each replica's `trader_is_leader{instance_id}`)", "list")

FAMILY = Family(
    name="replicas",
    doc="split brain: the leader frozen or cut off from Redis while standbys run",
    activity_modules=("chaosaitrapp.replicas.probes", ACTIONS),
    settings=(
        REPLICAS,
        REPLICA_TARGETS,
        REPLICA_REDIS_ROUTES,
        REPLICA_INSTANCE_IDS,
        Setting("split_brain_orders", "SPLIT_BRAIN_ORDERS", 12,
                "orders sent to the leader just before it is paused or cut off (a few more than the broker takes in "
                "a second, so some still wait in it)", "int"),
    ),
    # One trader at a time, on the broker's history and every replica's gauge.
    kinds=(FaultKind("split_brain_pause", checks=ONE_AT_A_TIME),
           FaultKind("split_brain_partition", checks=ONE_AT_A_TIME)),
    actions=(FaultAction(ACTIONS, "pause_leader", lambda args: "split_brain_pause"),
             FaultAction(ACTIONS, "isolate_leader", lambda args: "split_brain_partition")),
    checkers={"one_placer_at_a_time": "chaosaitrapp.checks.split_brain:one_placer_at_a_time",
              "fencing_tokens_monotonic": "chaosaitrapp.checks.split_brain:fencing_tokens_monotonic",
              "orders_once_across_replicas": "chaosaitrapp.checks.split_brain:orders_once_across_replicas",
              "one_leader_at_a_time": "chaosaitrapp.checks.split_brain:one_leader_at_a_time"},
    preflight="chaosaitrapp.replicas.preflight:problems",
    preview="chaosaitrapp.replicas.preflight:preview",
    drivers={"pause": "chaosaitrapp.targets.pause:PauseDriver"},
    sampler="chaosaitrapp.replicas.sampling:plan",
    evidence="chaosaitrapp.replicas.sampling:write_history",
    shading="chaosaitrapp.checks.split_brain:overlap_shading",
    drills="chaosaitrapp.replicas.drills:DRILLS",
)
