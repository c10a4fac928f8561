"""The network family: the path to a running dependency cut (blackhole, reject) or slowed (latency), at the
TCP fault proxy or by kernel rules in a table of our own (the broker's path at the broker fault proxy)."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.network.actions"
#: A slowdown below the target's timeouts: nothing may change.
UNCHANGED = ("no_leadership_loss",)

NET_PROXY = Setting("net_proxy", "NET_PROXY", None,
                    "control URL of the TCP fault proxy the target's Redis and Postgres traffic goes through (default: "
                    "the lab's)", "url")
KERNEL_RULES = Setting("kernel_rules", "AITRAPP_KERNEL_RULES", False,
                       "`1` lets kernel partitions into a namespace with other interfaces than `lo` (the host's)", "flag")
NET_PROXY_TARGET = Setting("net_proxy_target", "NET_PROXY_TARGET", None,
                           "how to start the TCP fault proxy again if it died with a fault in it: `process:PIDFILE` "
                           "(restarted as it ran), `docker:NAME` (its container) or `lab:net_proxy`")

FAMILY = Family(
    name="network",
    doc="partitions and latency between the target and Redis, Postgres or the broker",
    activity_modules=("chaosaitrapp.network.probes", ACTIONS),
    settings=(
        NET_PROXY,
        NET_PROXY_TARGET,
        Setting("partition_kind", "PARTITION_KIND", "blackhole",
                "the partition drills' fault: `blackhole` (hangs), `reject` (TCP resets) or `latency`"),
        Setting("partition_latency_ms", "PARTITION_LATENCY_MS", 0,
                "added latency (ms) for `PARTITION_KIND=latency`; compare it with the target's own timeouts",
                "number"),
        Setting("partition_mechanism", "PARTITION_MECHANISM", "auto",
                "`proxy` (the TCP fault proxy), `kernel` (nftables, a table of our own), `chaosmesh` (a Chaos Mesh "
                "NetworkChaos on Kubernetes) or `auto` (the proxy when it serves the dependency, else Chaos Mesh for a "
                "`k8s:` dependency, else kernel rules)"),
        Setting("partition_seconds", "PARTITION_SECONDS", 6, "how long the Postgres and broker partitions are held",
                "number"),
        KERNEL_RULES,
    ),
    kinds=(
        # Partitions (the dependency runs, the path is cut): stop trading before the lease can run out, come back
        # by itself; Postgres and the broker: the API stays up and is ready again after.
        FaultKind("partition_redis", checks=("time_to_detect_pause", "time_to_detect_ready",
                                             "trading_stopped_before_lease_expiry", "time_to_recover_ready",
                                             "time_to_recover_resume", "flaps"),
                  loaded_checks=("no_order_after_lease_expiry", "orders_exactly_once")),
        FaultKind("partition_postgres", checks=("time_to_recover_ready", "flaps"),
                  loaded_checks=("acknowledged_orders_stored_once",)),
        FaultKind("partition_broker", checks=("time_to_recover_ready",), loaded_checks=("orders_exactly_once",)),
        FaultKind("latency_redis", checks=UNCHANGED, breaks_steady_state=False, timing="none"),
        FaultKind("latency_postgres", checks=UNCHANGED, breaks_steady_state=False, timing="none"),
        FaultKind("latency_broker", checks=UNCHANGED, breaks_steady_state=False, timing="none"),
    ),
    actions=(FaultAction(ACTIONS, "partition", lambda args: f"partition_{args.get('dependency', 'redis')}"),
             FaultAction(ACTIONS, "slow_dependency", lambda args: f"latency_{args.get('dependency', 'redis')}")),
    checkers={"trading_stopped_before_lease_expiry": "chaosaitrapp.checks.partition:trading_stopped_before_lease_expiry",
              "no_order_after_lease_expiry": "chaosaitrapp.checks.partition:no_order_after_lease_expiry",
              "acknowledged_orders_stored_once": "chaosaitrapp.checks.partition:acknowledged_orders_stored_once",
              "no_leadership_loss": "chaosaitrapp.checks.partition:no_leadership_loss"},
    drivers={"net_proxy": "chaosaitrapp.faultproxy.client:ProxyFaultDriver",
             "nft": "chaosaitrapp.network.kernel:KernelRuleDriver"},
    preflight="chaosaitrapp.network.preflight:problems",
    preview="chaosaitrapp.network.preflight:preview",
    sweep="chaosaitrapp.network.preflight:sweep_orphan_tables",
    figures={"trading_stopped_before_lease_expiry": ("trading_stopped_s", "lease_could_expire_s")},
    seconds_checks=("trading_stopped_before_lease_expiry",),
    drills="chaosaitrapp.network.drills:DRILLS",
)
