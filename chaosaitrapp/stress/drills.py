"""The stress family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

TARGET_PROCESS_BEFORE = probe("target-process-before", "chaosaitrapp.stress.probes:target_resources")
PACED_ORDERS_DURING_THE_STRESS = action("paced-orders-during-the-stress", "chaosaitrapp.orders.actions:burst_orders",
                                        count="${stress_orders}", over="${stress_seconds}", duplicate_every=0,
                                        injector_command="${order_injector}")
STRESS_ENDS_ON_TIME = action("stress-ends-on-time", "chaosaitrapp.stress.actions:wait_stress_ended", timeout=0)
SNAPSHOT_AFTER_THE_STRESS = probe("snapshot-after-the-stress", "chaosaitrapp.evidence.probes:snapshot_metrics",
                                  label="after_stop")
READY_AFTER_THE_STRESS = probe("ready-after-the-stress", "chaosaitrapp.trader.probes:wait_ready",
                               timeout="${wait_ready_timeout}", interval=0.05)
TARGET_PROCESS_AFTER = probe("target-process-after", "chaosaitrapp.stress.probes:target_resources")
END_THE_STRESS = action("end-the-stress", "chaosaitrapp.stress.actions:end_stress")

DRILLS = (
    Drill(
        "cpu_stress",
        title="CPU stress: AITRAPP starved of CPU keeps beating, answering, leading and placing orders in time",
        description=("STRESS_WORKERS stress-ng CPU workers run for STRESS_SECONDS, inside the target's own cgroup "
                     "when it has one (STRESS_SCOPE auto: they compete within its CPU quota, as Chaos Mesh's "
                     "StressChaos does) or beside it, while STRESS_ORDERS orders arrive paced over the stress. The "
                     "three heartbeats must stay below HEARTBEAT_MAX on the sampler's clock (a frozen gauge counts as "
                     "stale), /ready and /health p99 and the order-placement p99 (from trader_order_latency_ms bucket "
                     "deltas) stay within budget, the leadership counters do not move, the target is the same process "
                     "after, every order is placed exactly once, and the stressors end on time (ledger with a lease, "
                     "rollback, watchdog)."),
        tags=("aitrapp", "stress", "cpu"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "order_injector",
                  "rollback_settle", "target_process", "stress_seconds", "stress_workers", "stress_scope",
                  "stress_orders"),
        steady=("AITRAPP is ready, healthy and its heartbeats are fresh", (
            d.READY,
            d.HEALTHY,
            d.HEARTBEATS_FRESH,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            TARGET_PROCESS_BEFORE,
            action("stress-the-cpu", "chaosaitrapp.stress.actions:stress_cpu", seconds="${stress_seconds}",
                   workers="${stress_workers}", load=100, scope="${stress_scope}"),
            PACED_ORDERS_DURING_THE_STRESS,
            STRESS_ENDS_ON_TIME,
            SNAPSHOT_AFTER_THE_STRESS,
            READY_AFTER_THE_STRESS,
            d.ORDERS_SETTLED,
            TARGET_PROCESS_AFTER,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            END_THE_STRESS,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "memory_stress",
        title="Memory stress: AITRAPP pressed for memory stays up, in time and gives its memory back",
        description=("STRESS_WORKERS stress-ng memory workers each hold STRESS_VM_BYTES for STRESS_SECONDS, inside "
                     "the target's own cgroup when it has one (they eat into its memory limit) or beside it, while "
                     "STRESS_ORDERS orders arrive paced over the stress. The target must not be OOM-killed or "
                     "restarted (same pid and start time), its heartbeats, /ready and order latency stay within "
                     "budget, the leadership counters do not move, every order is placed exactly once, its RSS "
                     "settles back near where it was, and the stressors end on time."),
        tags=("aitrapp", "stress", "memory"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "order_injector",
                  "rollback_settle", "target_process", "stress_seconds", "stress_workers", "stress_scope",
                  "stress_orders", "stress_vm_bytes"),
        defaults={"stress_workers": 1},
        steady=("AITRAPP is ready, healthy and its heartbeats are fresh", (
            d.READY,
            d.HEALTHY,
            d.HEARTBEATS_FRESH,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            TARGET_PROCESS_BEFORE,
            action("stress-the-memory", "chaosaitrapp.stress.actions:stress_memory", seconds="${stress_seconds}",
                   workers="${stress_workers}", vm_bytes="${stress_vm_bytes}", scope="${stress_scope}"),
            PACED_ORDERS_DURING_THE_STRESS,
            STRESS_ENDS_ON_TIME,
            SNAPSHOT_AFTER_THE_STRESS,
            READY_AFTER_THE_STRESS,
            d.ORDERS_SETTLED,
            TARGET_PROCESS_AFTER,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            END_THE_STRESS,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
