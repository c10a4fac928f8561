"""The crash family: the trader SIGKILLed at a chosen moment of an order's life (the broker fault proxy sees the
instant), started again as it ran, and judged on whether it converges to the broker's truth: every order the
broker accepted known to it again (reconciled), none sent twice, none acknowledged and lost, leadership back."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.crash.actions"

CRASH_POINT = Setting("crash_point", "CRASH_POINT", "after_broker_ack",
                      "when the crash drill kills the trader: `after_broker_ack` (the broker accepted a placement, "
                      "its reply held at the proxy), `after_reply` (CRASH_DELAY_MS after the reply is let go, before "
                      "the trader can record it), `queue_full` (orders acknowledged by the API, still queued behind "
                      "the broker's rate limit), `mid_leader_change` (two or more replicas: the leader killed as at "
                      "after_broker_ack, then the standby that wins the lock CRASH_DELAY_MS after its grant)")

FAMILY = Family(
    name="crash",
    doc="the trader killed (SIGKILL) at a chosen moment of an order's life and started again as it ran",
    activity_modules=(ACTIONS,),
    settings=(
        CRASH_POINT,
        Setting("crash_orders", "CRASH_ORDERS", 3, "orders sent while the crash is armed (the first reaches the "
                "crash point, the others wait behind it)", "int"),
        Setting("crash_delay_ms", "CRASH_DELAY_MS", 0,
                "`after_reply`: how long after the reply is let go the trader is killed; `mid_leader_change`: how "
                "long after the new leader's grant it is killed (milliseconds, at most 1000)", "number"),
        Setting("reconcile_timeout", "RECONCILE_TIMEOUT", 60,
                "how long after the restart every order may stay in doubt (PENDING at the trader, or held by the "
                "broker and unknown to it) before the crash drill fails (seconds)", "number"),
    ),
    kinds=(FaultKind("trader_crash", checks=("orders_reconciled", "time_to_recover_ready"),
                     loaded_checks=("orders_exactly_once",), timing="lock"),),
    actions=(FaultAction(ACTIONS, "crash_trader", lambda args: "trader_crash"),),
    checkers={"orders_reconciled": "chaosaitrapp.checks.crash:orders_reconciled"},
    seconds_checks=("orders_reconciled",),
    preflight="chaosaitrapp.crash.preflight:problems",
    preview="chaosaitrapp.crash.preflight:preview",
    drills="chaosaitrapp.crash.drills:DRILLS",
)
