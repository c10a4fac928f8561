"""The clock family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their experiment
JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "clock_jump",
        title="Clock jump: AITRAPP keeps its lock, its heartbeats and its orders when its wall clock steps",
        description=("The trader's wall clock steps by CLOCK_JUMP seconds (-300 back, +3600 forward), as after a "
                     "VM pause or an NTP correction, while its monotonic clock runs on: the trader runs under "
                     "the wall-clock shim (LD_PRELOAD) reading CLOCK_FILE, which the drill writes (the target's Date header shows when "
                     "the step landed). For CLOCK_HOLD seconds (0: the lock TTL plus refresh plus 2 s) orders keep "
                     "arriving and the drill reads the lock key: it must stay held (a lease refreshed on the wall "
                     "clock runs out when the clock steps back), and every heartbeat age the target reports, from "
                     "the step on and after the clock is put back (a step the other way), must stay between 0 and "
                     "HEARTBEAT_MAX. Then the trader is ready, leading and trading, and every order is placed "
                     "exactly once."),
        tags=("aitrapp", "clock", "wall-clock", "leader-lock", "heartbeats"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_orders",
                  "order_injector", "rollback_settle", "redis_target", "clock_file", "clock_jump", "clock_hold"),
        steady=("AITRAPP is ready, leading, trading, fresh and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("step-the-wall-clock", "chaosaitrapp.clock.actions:jump_clock", jump="${clock_jump}",
                   hold="${clock_hold}"),
            d.ORDERS_OVER_THE_LEASE,
            probe("lock-kept-while-the-clock-is-off", "chaosaitrapp.clock.actions:lock_kept", duration=0,
                  interval=0.2),
            d.SNAPSHOT_AFTER_STOP,
            action("put-the-clock-back", "chaosaitrapp.clock.actions:clock_back"),
            d.READY_AGAIN,
            d.LEADER_BACK,
            d.RESUMED,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("put-the-clock-back", "chaosaitrapp.clock.actions:end_jump"),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
