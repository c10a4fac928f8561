"""The experiment's settings: the core's table (:data:`CORE_SETTINGS`; each fault family declares its
own rows, :func:`chaosaitrapp.registry.settings` lists them all), one typed object of the core's
(:class:`Settings`), and :func:`value` for any one row.

Every setting has a lower-case configuration key, an environment variable and the seed's default.
A value is taken from the experiment's ``configuration`` (under its key *or* its environment
variable's name, which is accepted as an alias: ``{"API": "http://..."}`` means ``api``), else from
the environment, else the default. Empty strings count as unset, so an experiment can declare
``{"type": "env", "key": "REDIS_CONTAINER", "default": ""}`` and still tell "set by the user"
from "the seed's default" (:attr:`Settings.explicit`, :func:`is_explicit`): an explicitly named
container wins over a lab found on the machine.

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
from chaosaitrapp.declare import Setting
from chaosaitrapp.errors import ConfigError

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]
_TRUE = {"1", "true", "yes", "on"}


#: The core settings, every drill's (each fault family declares its own: :mod:`chaosaitrapp.registry`
#: lists them all; the README's configuration table is generated from that list).
CORE_SETTINGS: Tuple[Setting, ...] = (
    Setting("api", "API", "http://localhost:8000", "the AITRAPP API"),
    Setting("heartbeat_max", "HEARTBEAT_MAX", aitrapp.HEARTBEAT_MAX_S,
            "heartbeat ages must stay below this (seconds)", "number"),
    Setting("wait_ready_timeout", "WAIT_READY_TIMEOUT", aitrapp.WAIT_READY_TIMEOUT_S,
            "deadline for recovery waits: `/ready` 200, leader 1, resumed (seconds)", "number"),
    Setting("detect_timeout", "DETECT_TIMEOUT", aitrapp.DETECT_TIMEOUT_S,
            "deadline for detection waits: leader 0, `/ready` 503, paused (seconds)", "number"),
    Setting("rollback_settle", "ROLLBACK_SETTLE", -1,
            "after a rollback that restored a dependency, `/ready` must stay 200 this long in a row; "
            "-1 (auto): three lock refresh periods, at most 12 s", "number"),
    Setting("pause_on_fail", "PAUSE_ON_FAIL", False,
            "`1`: when the drill fails, `make abort` runs (pause, flatten, PAPER)", "flag"),
    Setting("http_timeout", "AITRAPP_HTTP_TIMEOUT", 2.0, "timeout of every call to the API (seconds)", "number"),
    Setting("prometheus_url", "PROMETHEUS_URL", None,
            "enables the `prometheus_query` probe (user:password in the URL: basic auth; a bearer token: the "
            "`PROMETHEUS_TOKEN` secret)", "url"),
    Setting("prometheus_verify_tls", "PROMETHEUS_VERIFY_TLS", True,
            "verify Prometheus's TLS certificate (`0`: do not, for a self-signed one; noted in the evidence)", "flag"),
    Setting("allowed_hosts", "AITRAPP_ALLOWED_HOSTS", None, "comma list of API hosts drills may touch (loopback)",
            "list"),
    Setting("allow_live", "AITRAPP_ALLOW_LIVE", False,
            "`1` lets order bursts and mode changes run against a LIVE target (logged)", "flag"),
    Setting("fault_lease", "AITRAPP_FAULT_LEASE", None,
            "longest a fault may stay before the watchdog undoes it (default `WAIT_READY_TIMEOUT` + 60 s)", "number"),
    Setting("lock_key", "LOCK_KEY", aitrapp.LOCK_KEY, "the leader lock's Redis key"),
    Setting("lock_ttl", "LOCK_TTL", None,
            "the target's lock TTL (seconds); unset: learned from the lock key during the baseline, else unknown",
            "number"),
    Setting("lock_refresh", "LOCK_REFRESH", None,
            "how often the target refreshes its lock (seconds); unset: learned as `lock_ttl`", "number"),
    Setting("lock_backoff_max", "LOCK_BACKOFF_MAX", None,
            "the target's longest re-acquire delay (seconds, jitter included); unset: recovery is held to "
            "`WAIT_READY_TIMEOUT`", "number"),
    Setting("ticker_max_delay", "TICKER_MAX_DELAY", None,
            "the target's market-data reconnect delay cap (KiteTicker's `reconnect_max_delay`); unset: feed recovery "
            "is held to `WAIT_READY_TIMEOUT`", "number"),
    Setting("lock_redis", "LOCK_REDIS", None,
            "where the drill reads the lock key to learn the timing: `redis://host:port/db` (no password: use the "
            "`REDIS_URL` secret), `docker:NAME` or `process:PIDFILE`; unset: `REDIS_URL`, else the Redis target"),
    Setting("lock_learn_timeout", "LOCK_LEARN_TIMEOUT", 35,
            "how long the baseline may watch the lock key to learn the timing (seconds; 0: never)", "number"),
    Setting("k8s_namespace", "K8S_NAMESPACE", None,
            "the one Kubernetes namespace a drill may act in (every `k8s:` target must be in it)"),
    Setting("k8s_trader_selector", "K8S_TRADER_SELECTOR", None,
            "the label selector of the trader's pods on Kubernetes (`app=aitrapp`): the source of Chaos Mesh faults"),
    Setting("orders_database", "ORDERS_DATABASE", None,
            "the target's Postgres for the SQL order checks, as a URL without password (with one: the "
            "`DATABASE_URL` secret)"),
)
_BY_KEY: Dict[str, Setting] = {s.key: s for s in CORE_SETTINGS}
_ALIASES: Dict[str, str] = {s.env.lower(): s.key for s in CORE_SETTINGS}


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


def pick(configuration: Optional[Mapping[str, Any]], setting: Setting) -> Tuple[Any, bool]:
    """``(raw value, explicit)`` of ``setting``: from the configuration (under its key or its environment
    variable's name, in any case), else the environment, else its default (``explicit`` False)."""
    names = (setting.key, setting.env.lower())
    for key, value in (configuration or {}).items():
        if str(key).lower() in names and value not in (None, ""):
            return value, True
    env = os.environ.get(setting.env)
    if env not in (None, ""):
        return env, True
    return setting.default, False


def _pick(configuration: Mapping[str, Any], key: str) -> Tuple[Any, bool]:
    return pick(configuration, _BY_KEY[key])


def parse(setting: Setting, raw: Any) -> Any:
    """``raw`` read as ``setting.kind`` says (:data:`chaosaitrapp.declare.SETTING_KINDS`); None stays None.
    ConfigError naming the setting for a value of the wrong form (``8s`` for a number)."""
    if raw is None:
        return [] if setting.kind == "list" else None
    kind = setting.kind
    if kind == "number":
        return _number(setting.key, raw, positive=False)
    if kind == "int":
        number = _number(setting.key, raw, positive=False)
        if not number.is_integer():
            raise ConfigError(f"{setting.key} must be a whole number, got {raw!r}", key=setting.key)
        return int(number)
    if kind == "flag":
        return _flag(raw)
    if kind == "list":
        return _list(raw)
    text = str(raw).strip()
    if kind == "url":
        if not text:
            return None
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{setting.key} must be an http(s) URL, got {text!r}", key=setting.key)
        return text.rstrip("/")
    return text


def value(configuration: Optional[Mapping[str, Any]], setting: Setting) -> Any:
    """The value of one setting (a family's own, or a core one), read and parsed (:func:`pick`, :func:`parse`)."""
    return parse(setting, pick(configuration, setting)[0])


def core_setting(key: str) -> Setting:
    """A core setting's row by its key (KeyError for one that is not a core setting)."""
    return _BY_KEY[key]


def is_explicit(configuration: Optional[Mapping[str, Any]], setting: Setting) -> bool:
    """True when the user set ``setting`` (configuration or environment) rather than left its default."""
    return pick(configuration, setting)[1]


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
    rollback_settle: float = -1.0
    http_timeout: float = 2.0
    prometheus_url: Optional[str] = None
    allowed_hosts: List[str] = field(default_factory=lambda: list(LOOPBACK_HOSTS))
    allow_live: bool = False
    pause_on_fail: bool = False
    fault_lease: float = aitrapp.WAIT_READY_TIMEOUT_S + 60.0
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
    for setting in CORE_SETTINGS:
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
    return Settings(
        api=api,
        heartbeat_max=_number("heartbeat_max", values["heartbeat_max"]),
        wait_ready_timeout=wait_ready,
        detect_timeout=_number("detect_timeout", values["detect_timeout"]),
        rollback_settle=settle_s,
        http_timeout=_number("http_timeout", values["http_timeout"]),
        prometheus_url=str(prometheus).rstrip("/") if prometheus else None,
        allowed_hosts=allowed,
        allow_live=_flag(values["allow_live"]),
        pause_on_fail=_flag(values["pause_on_fail"]),
        fault_lease=_number("fault_lease", lease) if lease is not None else wait_ready + 60.0,
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


#: Secrets this process was given by a deployment description (read from their references) or by a target
#: kind (the lab's own database login), by name; in memory only. ``_SCRUBBED``: those a writer must mask
#: (a target kind's public default login is not a user's secret: its URL form is masked anyway).
_PROVIDED: Dict[str, str] = {}
_SCRUBBED: Dict[str, str] = {}


def provide_secrets(values: Mapping[str, str], scrub: bool = True) -> None:
    """Keep ``values`` (secret name -> value) for :func:`secret` in this process, never written anywhere;
    ``scrub``: add them to :func:`known_secrets`."""
    for name, found in values.items():
        _PROVIDED.setdefault(name, found)
        if scrub:
            _SCRUBBED.setdefault(name, found)


def secret(name: str, env: str, secrets: Optional[Mapping[str, Any]] = None, provided: bool = True) -> Optional[str]:
    """A secret from Chaos Toolkit ``secrets`` (any scope), the environment, or (``provided``) what a
    deployment description provided (:func:`provide_secrets`), or None."""
    scopes = [s for s in (secrets or {}).values() if isinstance(s, Mapping)] or [secrets or {}]
    for scope in scopes:
        if scope.get(name):
            return str(scope[name])
    value = os.environ.get(env)
    return value or (_PROVIDED.get(name) if provided else None) or None


def api_key(secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The AITRAPP API key (``$API_KEY`` or secret ``api_key``), never logged."""
    return secret("api_key", "API_KEY", secrets)


def database_url(secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The Postgres URL for SQL checks (``$DATABASE_URL`` or secret ``database_url``), never logged."""
    return secret("database_url", "DATABASE_URL", secrets)


def redis_url(secrets: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The URL of the Redis that holds the lock (``$REDIS_URL`` or secret ``redis_url``, or what a deployment
    description provided under that name), never logged."""
    return secret("redis_url", "REDIS_URL", secrets)


#: Environment variables whose values are secrets wherever they appear.
SECRET_ENV = ("API_KEY", "API_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BROKER_TOKEN", "BROKER_API_SECRET",
              "KITE_ACCESS_TOKEN", "KITE_API_SECRET", "PGPASSWORD", "AITRAPP_LAB_DB_PASSWORD",
              "AITRAPP_LAB_KITE_API_SECRET", "PROMETHEUS_TOKEN", "KUBERNETES_API_KEY", "KUBERNETES_PASSWORD")


def known_secrets(secrets: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Every secret value in play (API key, database and Redis passwords and URLs, broker secret and
    token, Chaos Toolkit secrets of any scope), longest first, for the scrubber."""
    values = [secret("api_key", "API_KEY", secrets, provided=False),
              secret("database_url", "DATABASE_URL", secrets, provided=False)] + [os.environ.get(n) for n in SECRET_ENV]
    values += list(_SCRUBBED.values())
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
