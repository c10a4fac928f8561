"""The experiment's settings: one table (:data:`SETTINGS`), one typed object (:class:`Settings`).

Every setting has a lower-case configuration key, an environment variable and the seed's default.
A value is taken from the experiment's ``configuration`` (under its key *or* its environment
variable's name, which is accepted as an alias: ``{"API": "http://..."}`` means ``api``), else from
the environment, else the default. Empty strings count as unset, so an experiment can declare
``{"type": "env", "key": "REDIS_CONTAINER", "default": ""}`` and still tell "set by the user"
from "the seed's default" (:attr:`Settings.explicit`): an explicitly named container wins over a
lab found on the machine.

Secrets are never configuration: the API key is read from ``$API_KEY`` (or a Chaos Toolkit secret
``api_key``) and the database URL from ``$DATABASE_URL`` (or secret ``database_url``) at the
moment they are used, so they never enter a journal.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from chaosaitrapp import aitrapp
from chaosaitrapp.errors import ConfigError

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: configuration ``key``, environment variable ``env``, the seed's
    ``default`` (None: unset), and what it means (``doc``, the README's wording)."""

    key: str
    env: str
    default: Any
    doc: str


#: Every setting an experiment may give; the README's configuration table is generated from it.
SETTINGS: Tuple[Setting, ...] = (
    Setting("api", "API", "http://localhost:8000", "the AITRAPP API"),
    Setting("heartbeat_max", "HEARTBEAT_MAX", aitrapp.HEARTBEAT_MAX_S,
            "heartbeat ages must stay below this (seconds)"),
    Setting("wait_ready_timeout", "WAIT_READY_TIMEOUT", aitrapp.WAIT_READY_TIMEOUT_S,
            "deadline for recovery waits: `/ready` 200, leader 1, resumed (seconds)"),
    Setting("detect_timeout", "DETECT_TIMEOUT", aitrapp.DETECT_TIMEOUT_S,
            "deadline for detection waits: leader 0, `/ready` 503, paused (seconds)"),
    Setting("redis_container", "REDIS_CONTAINER", "redis",
            "container name *or* compose service of Redis; when set, `auto` targets it even with a lab up"),
    Setting("postgres_container", "POSTGRES_CONTAINER", "postgres", "the same for Postgres"),
    Setting("redis_target", "REDIS_TARGET", "auto",
            "`auto`, `lab:redis`, `docker:NAME[@PROJECT]`, `process:PIDFILE`"),
    Setting("postgres_target", "POSTGRES_TARGET", "auto", "the same for Postgres"),
    Setting("rollback_settle", "ROLLBACK_SETTLE", -1,
            "after a rollback that restored a dependency, `/ready` must stay 200 this long in a row; "
            "-1 (auto): three lock refresh periods, at most 12 s"),
    Setting("outage_seconds", "OUTAGE_SECONDS", 3, "how long the Postgres drill holds its outage"),
    Setting("burst_count", "BURST_COUNT", 40, "the rate-limit drill's burst size"),
    Setting("burst_rate", "BURST_RATE", 100, "the rate-limit drill's burst rate (orders/s)"),
    Setting("queue_drain_timeout", "QUEUE_DRAIN_TIMEOUT", aitrapp.QUEUE_DRAIN_S,
            "the throttle queue must drain within this (seconds)"),
    Setting("order_injector", "ORDER_INJECTOR", None,
            "a command run once per order instead of `POST /orders` (the real service has no injection endpoint)"),
    Setting("pause_on_fail", "PAUSE_ON_FAIL", False,
            "`1`: when the drill fails, `make abort` runs (pause, flatten, PAPER)"),
    Setting("broker_proxy", "BROKER_PROXY", None,
            "control URL of the broker fault proxy the target's Kite roots point at (default: the lab's)"),
    Setting("net_proxy", "NET_PROXY", None,
            "control URL of the TCP fault proxy the target's Redis and Postgres traffic goes through (default: the lab's)"),
    Setting("partition_kind", "PARTITION_KIND", "blackhole",
            "the partition drills' fault: `blackhole` (hangs), `reject` (TCP resets) or `latency`"),
    Setting("partition_latency_ms", "PARTITION_LATENCY_MS", 0,
            "added latency (ms) for `PARTITION_KIND=latency`; compare it with the target's own timeouts"),
    Setting("partition_mechanism", "PARTITION_MECHANISM", "auto",
            "`proxy` (the TCP fault proxy), `kernel` (nftables, a table of our own) or `auto` (the proxy when it "
            "serves the dependency)"),
    Setting("partition_seconds", "PARTITION_SECONDS", 6, "how long the Postgres and broker partitions are held"),
    Setting("kernel_rules", "AITRAPP_KERNEL_RULES", False,
            "`1` lets kernel partitions into a namespace with other interfaces than `lo` (the host's)"),
    Setting("broker_orders", "BROKER_ORDERS", 5, "orders sent while a broker fault is in place (the broker drills)"),
    Setting("drop_replies", "DROP_REPLIES", 1,
            "the token drill: how many placement replies are lost during the expiry (the order reaches the broker)"),
    Setting("ws_fault", "WS_FAULT", "close",
            "the WebSocket drill's variant: `close` (closed, reconnects refused until detected), `stall` "
            "(blackholed), `restart` (blackholed, remedied by `POST /market-data/restart`)"),
    Setting("ws_close_code", "WS_CLOSE_CODE", 1006, "the close variant's close code: 1000, 1006 (dropped) or 1011"),
    Setting("replicas", "REPLICAS", None,
            "comma list of the other replicas' API URLs (the split-brain drills; default: the lab's replicas)"),
    Setting("replica_targets", "REPLICA_TARGETS", None,
            "comma list of how to pause each replica, `API` first then `REPLICAS`: `process:PIDFILE`, `pid:N` or "
            "`docker:NAME` (default: the lab's processes)"),
    Setting("replica_redis_routes", "REPLICA_REDIS_ROUTES", None,
            "comma list of the TCP fault proxy route each replica reaches Redis by, in the same order (default: "
            "the lab's `redis`, `redis_1`, ...)"),
    Setting("split_brain_orders", "SPLIT_BRAIN_ORDERS", 12,
            "orders sent to the leader just before it is paused or cut off (a few more than the broker takes in a "
            "second, so some still wait in it)"),
    Setting("target_process", "TARGET_PROCESS", None,
            "the target's own process, for the stress drills: `pid:N`, `process:PIDFILE`, `docker:NAME` or "
            "`lab:SERVICE` (default: the lab's trader)"),
    Setting("stress_seconds", "STRESS_SECONDS", 20, "how long the stress drills stress (seconds, at most 600)"),
    Setting("stress_workers", "STRESS_WORKERS", 2,
            "stress-ng workers (at most the machine's CPUs; the CPU drill's `--cpu`, the memory drill's `--vm`)"),
    Setting("stress_vm_bytes", "STRESS_VM_BYTES", "64M",
            "memory each memory-stress worker holds (`64M`, `1G`; all of them together at most half the machine's)"),
    Setting("stress_scope", "STRESS_SCOPE", "auto",
            "`target` (the stressors join the target's cgroup and compete within its limits), `host` (beside it), "
            "`auto` (`target` when the target has a cgroup of its own)"),
    Setting("stress_orders", "STRESS_ORDERS", 20, "orders sent (paced, 2 a second) while the stress drills stress"),
    Setting("http_timeout", "AITRAPP_HTTP_TIMEOUT", 2.0, "timeout of every call to the API (seconds)"),
    Setting("prometheus_url", "PROMETHEUS_URL", None, "enables the `prometheus_query` probe"),
    Setting("allowed_hosts", "AITRAPP_ALLOWED_HOSTS", None, "comma list of API hosts drills may touch (loopback)"),
    Setting("allow_live", "AITRAPP_ALLOW_LIVE", False,
            "`1` lets order bursts and mode changes run against a LIVE target (logged)"),
    Setting("fault_lease", "AITRAPP_FAULT_LEASE", None,
            "longest a fault may stay before the watchdog undoes it (default `WAIT_READY_TIMEOUT` + 60 s)"),
)
_BY_KEY: Dict[str, Setting] = {s.key: s for s in SETTINGS}
_ALIASES: Dict[str, str] = {s.env.lower(): s.key for s in SETTINGS}
#: Configuration keys of other projects that are known not to be ours (never "did you mean").
_PREFIX_OURS = ("aitrapp_", "chaosaitrapp_")


def canonical_key(key: str) -> Optional[str]:
    """The setting ``key`` names, by its configuration key or its environment variable, in any case;
    None when it is not one of ours."""
    lowered = str(key).lower()
    if lowered in _BY_KEY:
        return lowered
    return _ALIASES.get(lowered)


def normalize(configuration: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``configuration`` with every key of ours under its canonical (lower-case) name; other keys kept
    as they are. ConfigError when two spellings of one setting carry different values."""
    out: Dict[str, Any] = {}
    spelled: Dict[str, str] = {}
    for key, value in (configuration or {}).items():
        name = canonical_key(key) or key
        if name in out and spelled[name] != key and out[name] != value and value not in (None, "") \
                and out[name] not in (None, ""):
            raise ConfigError(f"configuration gives {name} twice, as {spelled[name]!r} ({out[name]!r}) and "
                              f"{key!r} ({value!r})", key=name)
        if name not in out or out[name] in (None, ""):
            out[name], spelled[name] = value, key
    return out


def _pick(configuration: Mapping[str, Any], key: str) -> Tuple[Any, bool]:
    """``(value, explicit)``: from the (normalised) configuration, else the environment, else the default."""
    setting = _BY_KEY[key]
    value = configuration.get(key)
    if value not in (None, ""):
        return value, True
    env = os.environ.get(setting.env)
    if env not in (None, ""):
        return env, True
    return setting.default, False


def _number(name: str, value: Any, *, positive: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}", key=name)
    if number != number or (positive and number <= 0):
        raise ConfigError(f"{name} must be a positive number, got {value!r}", key=name)
    return number


def _list(value: Any) -> List[str]:
    """A comma list (or a JSON list) as stripped, non-empty strings."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    """Everything an activity needs to reach and judge the target (no secrets).

    ``explicit`` names the settings the user set (configuration or environment) rather than left at
    the seed's default; target resolution lets an explicit container win over a lab.
    """

    api: str = "http://localhost:8000"
    heartbeat_max: float = aitrapp.HEARTBEAT_MAX_S
    wait_ready_timeout: float = aitrapp.WAIT_READY_TIMEOUT_S
    detect_timeout: float = aitrapp.DETECT_TIMEOUT_S
    redis_container: str = "redis"
    postgres_container: str = "postgres"
    redis_target: str = "auto"
    postgres_target: str = "auto"
    rollback_settle: float = -1.0
    http_timeout: float = 2.0
    prometheus_url: Optional[str] = None
    broker_proxy: Optional[str] = None
    net_proxy: Optional[str] = None
    kernel_rules: bool = False
    allowed_hosts: List[str] = field(default_factory=lambda: list(LOOPBACK_HOSTS))
    allow_live: bool = False
    pause_on_fail: bool = False
    fault_lease: float = aitrapp.WAIT_READY_TIMEOUT_S + 60.0
    replicas: List[str] = field(default_factory=list)
    replica_targets: List[str] = field(default_factory=list)
    replica_redis_routes: List[str] = field(default_factory=list)
    target_process: Optional[str] = None
    explicit: FrozenSet[str] = frozenset()

    @property
    def api_host(self) -> str:
        """The API URL's host name."""
        return urlsplit(self.api).hostname or ""


def settings_from(configuration: Optional[Mapping[str, Any]] = None) -> Settings:
    """Build :class:`Settings` from a Chaos Toolkit configuration dict, the environment and defaults.

    Raises :class:`ConfigError` naming the key for a malformed value.
    """
    config = normalize(configuration)
    values: Dict[str, Any] = {}
    explicit = set()
    for setting in SETTINGS:
        values[setting.key], was_set = _pick(config, setting.key)
        if was_set:
            explicit.add(setting.key)
    api = str(values["api"]).rstrip("/")
    parts = urlsplit(api)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"api must be an http(s) URL like http://localhost:8000, got {api!r}", key="api")
    if parts.username or parts.password:
        raise ConfigError("api must not carry credentials; pass the key as API_KEY", key="api")
    hosts = values["allowed_hosts"]
    if hosts is None:
        allowed = list(LOOPBACK_HOSTS)
    elif isinstance(hosts, str):
        allowed = [h.strip() for h in hosts.split(",") if h.strip()]
    else:
        allowed = [str(h) for h in hosts]
    wait_ready = _number("wait_ready_timeout", values["wait_ready_timeout"])
    lease = values["fault_lease"]
    prometheus = values["prometheus_url"]
    settle = values["rollback_settle"]
    try:
        settle_s = float(settle)
    except (TypeError, ValueError):
        raise ConfigError(f"rollback_settle must be a number of seconds or -1 (auto), got {settle!r}",
                          key="rollback_settle")
    replicas = [u.rstrip("/") for u in _list(values["replicas"])]
    for url in replicas:
        found = urlsplit(url)
        if found.scheme not in ("http", "https") or not found.hostname or found.username or found.password:
            raise ConfigError(f"replicas must be http(s) API URLs without credentials, got {url!r}", key="replicas")
    return Settings(
        api=api,
        heartbeat_max=_number("heartbeat_max", values["heartbeat_max"]),
        wait_ready_timeout=wait_ready,
        detect_timeout=_number("detect_timeout", values["detect_timeout"]),
        redis_container=str(values["redis_container"]),
        postgres_container=str(values["postgres_container"]),
        redis_target=str(values["redis_target"]),
        postgres_target=str(values["postgres_target"]),
        rollback_settle=settle_s,
        http_timeout=_number("http_timeout", values["http_timeout"]),
        prometheus_url=str(prometheus).rstrip("/") if prometheus else None,
        broker_proxy=str(values["broker_proxy"]).rstrip("/") if values["broker_proxy"] else None,
        net_proxy=str(values["net_proxy"]).rstrip("/") if values["net_proxy"] else None,
        kernel_rules=_flag(values["kernel_rules"]),
        allowed_hosts=allowed,
        allow_live=_flag(values["allow_live"]),
        pause_on_fail=_flag(values["pause_on_fail"]),
        fault_lease=_number("fault_lease", lease) if lease is not None else wait_ready + 60.0,
        replicas=replicas,
        replica_targets=_list(values["replica_targets"]),
        replica_redis_routes=_list(values["replica_redis_routes"]),
        target_process=str(values["target_process"]).strip() or None if values["target_process"] else None,
        explicit=frozenset(explicit),
    )


def flag(configuration: Optional[Mapping[str, Any]], key: str) -> bool:
    """One boolean setting (``pause_on_fail``, ``allow_live``...) read on its own, so that it can be known
    even when another setting is malformed (a refused drill still says what ``PAUSE_ON_FAIL`` asked)."""
    value, _ = _pick(normalize(configuration), key)
    return _flag(value)


def deadline(timeout: Any, configuration: Optional[Mapping[str, Any]], kind: str) -> float:
    """A wait's deadline in seconds: ``timeout`` when it is positive, else (0, the default of every
    ``wait_*``) the configured deadline of the wait's ``kind``: ``detect`` -> ``detect_timeout``
    (``DETECT_TIMEOUT``, 30 s), ``recover`` -> ``wait_ready_timeout`` (``WAIT_READY_TIMEOUT``, 90 s).
    ConfigError for a negative or non-numeric timeout."""
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        raise ConfigError(f"timeout must be a number of seconds (0: the default deadline), got {timeout!r}",
                          key="timeout")
    if value != value or value < 0:
        raise ConfigError(f"timeout must be a non-negative number of seconds, got {timeout!r}", key="timeout")
    if value > 0:
        return value
    settings = settings_from(configuration)
    if kind == "detect":
        return settings.detect_timeout
    if kind == "recover":
        return settings.wait_ready_timeout
    raise ValueError(f"unknown deadline kind {kind!r}")


def secret(name: str, env: str, secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """A secret from Chaos Toolkit ``secrets`` (any scope) or the environment, or None."""
    scopes = [s for s in (secrets or {}).values() if isinstance(s, Mapping)] or [secrets or {}]
    for scope in scopes:
        if scope.get(name):
            return str(scope[name])
    value = os.environ.get(env)
    return value or None


def api_key(secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The AITRAPP API key (``$API_KEY`` or secret ``api_key``), never logged."""
    return secret("api_key", "API_KEY", secrets)


def database_url(secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The Postgres URL for SQL checks (``$DATABASE_URL`` or secret ``database_url``), never logged."""
    return secret("database_url", "DATABASE_URL", secrets)


#: Environment variables whose values are secrets wherever they appear.
SECRET_ENV = ("API_KEY", "API_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BROKER_TOKEN", "BROKER_API_SECRET",
              "KITE_ACCESS_TOKEN", "KITE_API_SECRET", "PGPASSWORD", "AITRAPP_LAB_DB_PASSWORD",
              "AITRAPP_LAB_KITE_API_SECRET")


def known_secrets(secrets: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Every secret value in play (API key, database and Redis passwords and URLs, broker secret and
    token, Chaos Toolkit secrets of any scope), longest first, for the scrubber."""
    values = [api_key(secrets), database_url(secrets)] + [os.environ.get(name) for name in SECRET_ENV]
    for scope in (secrets or {}).values():
        if isinstance(scope, Mapping):
            values.extend(str(v) for v in scope.values() if isinstance(v, (str, int)) and not isinstance(v, bool))
    for value in list(values):
        if value and "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password:
                values.append(password)
    return sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)
