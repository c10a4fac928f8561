"""The clock family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their experiment
JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

DRILLS = (
    Drill(
        "clock_jump",
        title="Clock jump: AITRAPP keeps its lock, its heartbeats and its orders when its wall clock steps",
        description=("The trader's wall clock steps by CLOCK_JUMP seconds (-300 back, +3600 forward, "
                     "to_token_expiry: to 10 s before 06:00 IST), as after a VM pause or an NTP correction, or "
                     "drifts (CLOCK_JUMP x0.25: a quarter as fast), while its monotonic clock runs on: the trader runs under "
                     "the wall-clock shim (LD_PRELOAD) reading CLOCK_FILE, which the drill writes (the target's Date header shows when "
                     "the step landed, or the drift put it 2 s off). For CLOCK_HOLD seconds (0: the lock TTL plus refresh plus 2 s) orders keep "
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
    Drill(
        "clock_token_expiry",
        title="Clock crosses 06:00 IST: AITRAPP refreshes its Kite session once when its clock reaches the token expiry",
        description=("The trader's wall clock jumps to 10 s before the next 06:00 IST, the moment Kite's access "
                     "tokens die every morning (its monotonic clock runs on: the wall-clock shim reading "
                     "CLOCK_FILE). When the trader's clock reads 06:00 IST, the token is expired at the broker "
                     "fault proxy, as Kite does then (every call with it answers 403 TokenException; a token "
                     "obtained afterwards passes), while orders keep arriving. The target must refresh its "
                     "session (a new session seen at the broker and used; at most 3 refreshes: no storm), keep "
                     "its lock key held and its heartbeat ages sane while its clock is off (CLOCK_HOLD, at least "
                     "30 s), place every order exactly once, and be ready, leading and trading again once the "
                     "clock and the token are back."),
        tags=("aitrapp", "clock", "wall-clock", "broker", "kite", "token"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "redis_target", "clock_file", "clock_hold"),
        steady=("AITRAPP is ready, leading, trading, fresh and healthy", (
            d.READY,
            d.LEADING,
            d.NOT_PAUSED,
            d.HEARTBEATS_FRESH,
            d.HEALTHY,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("step-the-wall-clock-to-the-token-expiry", "chaosaitrapp.clock.actions:jump_clock",
                   jump="to_token_expiry", hold="${clock_hold}"),
            d.ORDERS_OVER_THE_LEASE,
            probe("the-trader-clock-reads-06:00-ist", "chaosaitrapp.clock.actions:wait_token_expiry"),
            action("kite-expires-the-token", "chaosaitrapp.broker.actions:inject_broker_fault",
                   kind="token_invalidated", duration=120),
            probe("token-refreshed", "chaosaitrapp.broker.probes:wait_token_refreshed", increase=1,
                  timeout="${detect_timeout}", interval=0.05),
            probe("lock-kept-while-the-clock-is-off", "chaosaitrapp.clock.actions:lock_kept", duration=0,
                  interval=0.2),
            d.SNAPSHOT_AFTER_STOP,
            action("put-the-clock-back", "chaosaitrapp.clock.actions:clock_back"),
            action("end-the-expiry", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            d.READY_AGAIN,
            d.LEADER_BACK,
            d.RESUMED,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("put-the-clock-back", "chaosaitrapp.clock.actions:end_jump"),
            action("clear-broker-faults", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
