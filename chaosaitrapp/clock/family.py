"""The clock family: the trader's wall clock steps (a VM resumed, an NTP correction) or drifts while its
monotonic clock runs on, the target started with the wall-clock shim and a clock file (:mod:`chaosaitrapp.targets.wallclock`).

A jump must change nothing a lease or a heartbeat stands on: the lock key stays held (refreshed on a clock that
does not jump), heartbeat ages stay sane (never negative, never the size of the step), every order exactly
once; the clock is put back and the trader is still ready, leading and trading."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.clock.actions"

CLOCK_FILE = Setting("clock_file", "CLOCK_FILE", None,
                     "the trader's wall clock file (its AITRAPP_WALL_CLOCK_FILE, read by the shim; `aitrapp-chaos lab up "
                     "--fake-clock` prints the lab's); the clock drills do not apply without one")

FAMILY = Family(
    name="clock",
    doc="the trader's wall clock jumps while its monotonic clock does not (the wall-clock shim's file)",
    activity_modules=(ACTIONS,),
    settings=(
        CLOCK_FILE,
        Setting("clock_jump", "CLOCK_JUMP", "-300",
                "how far the clock drill steps the trader's wall clock (signed seconds: `-300` back, `+3600` "
                "forward; at most a day), `to_token_expiry` (to 10 s before the next 06:00 IST), or a drift `xR` "
                "(the clock runs at rate R, 0.1 to 10: `x0.25` a quarter as fast)"),
        Setting("clock_hold", "CLOCK_HOLD", 0,
                "how long the wall clock stays stepped before it is put back (seconds, at most 600; 0: the "
                "target's lock TTL plus refresh plus 2 s, learned)", "number"),
    ),
    kinds=(FaultKind("jump_clock", checks=("lock_kept_through_jump", "heartbeat_ages_sane"),
                     loaded_checks=("orders_exactly_once",), breaks_steady_state=False, timing="none"),),
    actions=(FaultAction(ACTIONS, "jump_clock", lambda args: "jump_clock"),),
    checkers={"lock_kept_through_jump": "chaosaitrapp.checks.clock:lock_kept_through_jump",
              "heartbeat_ages_sane": "chaosaitrapp.checks.clock:heartbeat_ages_sane"},
    figures={"lock_kept_through_jump": ("lock_absent_reads", "lock_absent_max"),
             "heartbeat_ages_sane": ("worst_heartbeat_age_s", "heartbeat_max_s")},
    seconds_checks=("heartbeat_ages_sane",),
    drivers={"clock": "chaosaitrapp.clock.driver:ClockDriver"},
    preflight="chaosaitrapp.clock.preflight:problems",
    preview="chaosaitrapp.clock.preflight:preview",
    drills="chaosaitrapp.clock.drills:DRILLS",
)
