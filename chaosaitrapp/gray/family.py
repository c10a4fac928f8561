"""The gray-failure family: a dependency that is up and connected but answers nothing for a while (a Redis
stalled by ``CLIENT PAUSE``), judged as a Redis partition is: trading stops before the lease could run out,
``/health`` stays up, recovery by itself, every order exactly once."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.gray.actions"

FAMILY = Family(
    name="gray",
    doc="dependencies that are up but hang (Redis stalled)",
    activity_modules=(ACTIONS,),
    settings=(
        Setting("stall_seconds", "STALL_SECONDS", 0,
                "how long the Redis stall drill stalls Redis (seconds, at most 600; 0: the target's lease, its "
                "lock TTL plus refresh plus 1 s)", "number"),
    ),
    kinds=(FaultKind("stall_redis", checks=("time_to_detect_pause", "time_to_detect_ready",
                                            "trading_stopped_before_lease_expiry", "time_to_recover_ready",
                                            "time_to_recover_resume", "flaps"),
                     loaded_checks=("no_order_after_lease_expiry", "orders_exactly_once")),),
    actions=(FaultAction(ACTIONS, "stall_redis", lambda args: "stall_redis"),),
    drivers={"redis_stall": "chaosaitrapp.gray.stall:RedisStallDriver"},
    preflight="chaosaitrapp.gray.preflight:problems",
    preview="chaosaitrapp.gray.preflight:preview",
    drills="chaosaitrapp.gray.drills:DRILLS",
)
