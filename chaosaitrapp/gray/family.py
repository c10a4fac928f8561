"""The gray-failure family: a dependency that is up and connected but answers nothing for a while.

- a Redis stalled by ``CLIENT PAUSE``, judged as a Redis partition is: trading stops before the lease could
  run out, ``/health`` stays up, recovery by itself, every order exactly once; a brief stall (over before the
  lease could run out) requires no pause, only that nothing is lost and all is back after;
- Postgres whose writes to ``orders`` hang behind a lock of the drill's own, or fail because its data volume is
  full (a balloon file on the volume the user names): the API keeps answering (no request waits as long as the
  database does), no acknowledged order lost, none twice, none left pending."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.gray.actions"
POSTGRES_ACTIONS = "chaosaitrapp.gray.postgres_actions"

POSTGRES_VOLUME = Setting("postgres_volume", "POSTGRES_VOLUME", None,
                          "the directory Postgres' data volume is mounted at, for `POSTGRES_FAULT disk_full` (its "
                          "filesystem is filled; never that of `/`, of the fault ledger or of the evidence, and at "
                          "most 8 GiB free; `aitrapp-chaos lab up --pg-volume-mb N` prints the lab's)")
DISK_PATH = Setting("disk_path", "DISK_PATH", None,
                    "where inside POSTGRES_VOLUME the disk-full balloon file goes (unset: the volume itself); a "
                    "path outside it, or on another filesystem, is refused")

FAMILY = Family(
    name="gray",
    doc="dependencies that are up but hang (Redis stalled, Postgres writes blocked)",
    activity_modules=(ACTIONS, POSTGRES_ACTIONS),
    settings=(
        Setting("stall_seconds", "STALL_SECONDS", 0,
                "how long the Redis stall drills stall Redis (seconds, at most 600): `redis_stall` longer than the "
                "target's lock TTL minus refresh (0: its lease, TTL plus refresh plus 1 s), `redis_stall_brief` "
                "shorter (0: half of TTL minus refresh)", "number"),
        Setting("postgres_fault", "POSTGRES_FAULT", "table_lock",
                "how the Postgres hang drill makes writes hang: `table_lock` (a session of the drill's own holds "
                "`LOCK TABLE orders IN EXCLUSIVE MODE`: writes wait, reads go on) or `disk_full` (a balloon file "
                "fills POSTGRES_VOLUME: writes that need space fail, reads go on)"),
        Setting("hang_seconds", "HANG_SECONDS", 15, "how long the Postgres hang lasts (seconds, 1 to 600)", "number"),
        POSTGRES_VOLUME,
        DISK_PATH,
        Setting("answer_max", "ANSWER_MAX", 8,
                "the longest any API request (`/health`, `/orders`) may take while Postgres hangs (seconds)",
                "number"),
    ),
    kinds=(FaultKind("stall_redis", checks=("time_to_detect_pause", "time_to_detect_ready",
                                            "trading_stopped_before_lease_expiry", "time_to_recover_ready",
                                            "time_to_recover_resume", "flaps"),
                     loaded_checks=("no_order_after_lease_expiry", "orders_exactly_once")),
           # a brief stall (over before the lease could run out): no pause required, nothing lost, back after.
           FaultKind("stall_redis_brief", checks=("flaps",), loaded_checks=("orders_exactly_once",)),
           # Postgres writes hang: the API's answers during it (watched by the drill), the orders after it.
           FaultKind("hang_postgres", checks=("api_answered_during_hang",), loaded_checks=("orders_exactly_once",),
                     timing="none")),
    actions=(FaultAction(ACTIONS, "stall_redis", lambda args: "stall_redis_brief" if args.get("brief") else "stall_redis"),
             FaultAction(POSTGRES_ACTIONS, "hang_postgres", lambda args: "hang_postgres")),
    checkers={"api_answered_during_hang": "chaosaitrapp.checks.hang:api_answered_during_hang"},
    figures={"api_answered_during_hang": ("slowest_answer_s", "answer_max_s")},
    seconds_checks=("api_answered_during_hang",),
    drivers={"redis_stall": "chaosaitrapp.gray.stall:RedisStallDriver",
             "postgres_lock": "chaosaitrapp.gray.postgres_lock:PostgresLockDriver",
             "balloon": "chaosaitrapp.gray.balloon:BalloonDriver"},
    preflight="chaosaitrapp.gray.preflight:problems",
    preview="chaosaitrapp.gray.preflight:preview",
    drills="chaosaitrapp.gray.drills:DRILLS",
)
