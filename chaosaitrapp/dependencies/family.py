"""The dependencies family: Redis or Postgres stopped, then started again (the seed's leader-lock and
Postgres drills). How a dependency is stopped is the target kind's business (``lab:``, ``docker:``,
``process:``: :mod:`chaosaitrapp.registry`'s target kinds)."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.dependencies.actions"

REDIS_CONTAINER = Setting("redis_container", "REDIS_CONTAINER", "redis",
                          "container name *or* compose service of Redis; when set, `auto` targets it even with a lab up")
POSTGRES_CONTAINER = Setting("postgres_container", "POSTGRES_CONTAINER", "postgres", "the same for Postgres")
REDIS_TARGET = Setting("redis_target", "REDIS_TARGET", "auto",
                       "`auto`, `lab:redis`, `docker:NAME[@PROJECT]`, `process:PIDFILE` (restarted as it ran)",
                       yields_to=("redis_container",))
POSTGRES_TARGET = Setting("postgres_target", "POSTGRES_TARGET", "auto", "the same for Postgres",
                          yields_to=("postgres_container",))

FAMILY = Family(
    name="dependencies",
    doc="Redis or Postgres stopped through its target, then started again",
    activity_modules=("chaosaitrapp.dependencies.probes", ACTIONS),
    settings=(
        REDIS_CONTAINER,
        POSTGRES_CONTAINER,
        REDIS_TARGET,
        POSTGRES_TARGET,
        Setting("outage_seconds", "OUTAGE_SECONDS", 3, "how long the Postgres drill holds its outage", "number"),
    ),
    kinds=(
        # Redis stopped: the seed's leader-lock criteria, timed.
        FaultKind("redis_stop", checks=("time_to_detect_ready", "time_to_detect_pause", "time_to_recover_ready",
                                        "time_to_recover_resume", "total_unavailability", "flaps")),
        # Postgres stopped: the API stays up and is ready again after the restart.
        FaultKind("postgres_stop", checks=("time_to_recover_ready", "flaps")),
    ),
    actions=(FaultAction(ACTIONS, "stop_dependency", lambda args: f"{args.get('dependency', 'redis')}_stop"),),
    preflight="chaosaitrapp.dependencies.preflight:problems",
    preview="chaosaitrapp.dependencies.preflight:preview",
    drills="chaosaitrapp.dependencies.drills:DRILLS",
)
