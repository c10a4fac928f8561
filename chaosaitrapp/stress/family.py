"""The stress family: CPU and memory stress-ng workers inside the target's cgroup (or beside it), judged on
the target's heartbeats, answer and order latencies, leadership, survival and memory."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.stress.actions"
UNDER_STRESS = ("heartbeats_under_stress", "latency_under_stress", "order_latency_under_stress", "no_leader_flap",
                "target_survived")

TARGET_PROCESS = Setting("target_process", "TARGET_PROCESS", None,
                         "the target's own process: for the stress drills `pid:N`, `process:PIDFILE`, `docker:NAME`, "
                         "`lab:SERVICE` or a pod `k8s:NAMESPACE/pod/NAME` (a Chaos Mesh StressChaos); for the crash drill one it can start again (`process:PIDFILE`, `docker:NAME`, "
                         "`lab:trader`) (default: the lab's trader)")

FAMILY = Family(
    name="stress",
    doc="CPU and memory stress inside the target's limits",
    activity_modules=("chaosaitrapp.stress.probes", ACTIONS),
    settings=(
        TARGET_PROCESS,
        Setting("stress_seconds", "STRESS_SECONDS", 20, "how long the stress drills stress (seconds, at most 600)",
                "number"),
        Setting("stress_workers", "STRESS_WORKERS", 2,
                "stress-ng workers (at most the machine's CPUs; the CPU drill's `--cpu`, the memory drill's `--vm`)",
                "int"),
        Setting("stress_vm_bytes", "STRESS_VM_BYTES", "64M",
                "memory each memory-stress worker holds (`64M`, `1G`; all of them together at most half the "
                "machine's)"),
        Setting("stress_scope", "STRESS_SCOPE", "auto",
                "`target` (the stressors join the target's cgroup and compete within its limits), `host` (beside "
                "it), `auto` (`target` when the target has a cgroup of its own)"),
        Setting("stress_orders", "STRESS_ORDERS", 20, "orders sent (paced, 2 a second) while the stress drills stress",
                "int"),
    ),
    # The target keeps beating, answering and leading, survives, gives memory back.
    kinds=(FaultKind("stress_cpu", checks=UNDER_STRESS + ("stress_bounded",), loaded_checks=("orders_exactly_once",),
                     breaks_steady_state=False, timing="none"),
           FaultKind("stress_memory", checks=UNDER_STRESS + ("memory_settles", "stress_bounded"),
                     loaded_checks=("orders_exactly_once",), breaks_steady_state=False, timing="none")),
    actions=(FaultAction(ACTIONS, "stress_cpu", lambda args: "stress_cpu"),
             FaultAction(ACTIONS, "stress_memory", lambda args: "stress_memory")),
    checkers={"heartbeats_under_stress": "chaosaitrapp.checks.stress:heartbeats_under_stress",
              "latency_under_stress": "chaosaitrapp.checks.stress:latency_under_stress",
              "order_latency_under_stress": "chaosaitrapp.checks.stress:order_latency_under_stress",
              "no_leader_flap": "chaosaitrapp.checks.stress:no_leader_flap",
              "target_survived": "chaosaitrapp.checks.stress:target_survived",
              "memory_settles": "chaosaitrapp.checks.stress:memory_settles",
              "stress_bounded": "chaosaitrapp.checks.stress:stress_bounded"},
    preflight="chaosaitrapp.stress.preflight:problems",
    preview="chaosaitrapp.stress.preflight:preview",
    drivers={"stress": "chaosaitrapp.stress.stressor:StressDriver"},
    sampler="chaosaitrapp.stress.probes:sampler_plan",
    # heartbeat_recover_s None: the heartbeats stay below HEARTBEAT_MAX throughout the stress; a number: they
    # must be below it again that long after it. ready_p99_ms below the sampler's 500 ms read timeout.
    budgets={"heartbeat_recover_s": None, "ready_p99_ms": 400.0, "order_p99_ms": 1000.0, "memory_growth_mb": 100.0},
    figures={"heartbeats_under_stress": ("heartbeat_max_s", "heartbeat_limit_s")},
    drills="chaosaitrapp.stress.drills:DRILLS",
)
