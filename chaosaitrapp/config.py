"""One typed settings object built from a Chaos Toolkit ``configuration`` (then the
environment, then the seed's defaults).

| key (configuration) | environment | default |
|---|---|---|
| ``api`` | ``API`` | ``http://localhost:8000`` |
| ``heartbeat_max`` | ``HEARTBEAT_MAX`` | 5 |
| ``wait_ready_timeout`` | ``WAIT_READY_TIMEOUT`` | 90 |
| ``redis_container`` | ``REDIS_CONTAINER`` | ``redis`` |
| ``postgres_container`` | ``POSTGRES_CONTAINER`` | ``postgres`` |
| ``redis_target`` | ``REDIS_TARGET`` | ``auto`` |
| ``postgres_target`` | ``POSTGRES_TARGET`` | ``auto`` |
| ``http_timeout`` | ``AITRAPP_HTTP_TIMEOUT`` | 2.0 |
| ``prometheus_url`` | ``PROMETHEUS_URL`` | unset: scrape ``/metrics`` |
| ``allowed_hosts`` | ``AITRAPP_ALLOWED_HOSTS`` (comma list) | loopback only |
| ``allow_live`` | ``AITRAPP_ALLOW_LIVE`` | false |
| ``pause_on_fail`` | ``PAUSE_ON_FAIL`` | false |
| ``fault_lease`` | ``AITRAPP_FAULT_LEASE`` | ``wait_ready_timeout`` + 60 s |

Secrets are never configuration: the API key is read from ``$API_KEY`` (or a Chaos Toolkit
secret ``api_key``) and the database URL from ``$DATABASE_URL`` (or secret ``database_url``)
at the moment they are used, so they never enter a journal.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional
from urllib.parse import urlsplit

from chaosaitrapp.errors import ConfigError

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]
_TRUE = {"1", "true", "yes", "on"}


def _pick(configuration: Optional[Mapping[str, Any]], key: str, env: str, default: Any) -> Any:
    if configuration and configuration.get(key) not in (None, ""):
        return configuration[key]
    value = os.environ.get(env)
    return default if value in (None, "") else value


def _number(name: str, value: Any, *, positive: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}", key=name)
    if number != number or (positive and number <= 0):
        raise ConfigError(f"{name} must be a positive number, got {value!r}", key=name)
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    """Everything an activity needs to reach and judge the target (no secrets)."""

    api: str = "http://localhost:8000"
    heartbeat_max: float = 5.0
    wait_ready_timeout: float = 90.0
    redis_container: str = "redis"
    postgres_container: str = "postgres"
    redis_target: str = "auto"
    postgres_target: str = "auto"
    http_timeout: float = 2.0
    prometheus_url: Optional[str] = None
    allowed_hosts: List[str] = field(default_factory=lambda: list(LOOPBACK_HOSTS))
    allow_live: bool = False
    pause_on_fail: bool = False
    fault_lease: float = 150.0

    @property
    def api_host(self) -> str:
        """The API URL's host name."""
        return urlsplit(self.api).hostname or ""


def settings_from(configuration: Optional[Mapping[str, Any]] = None) -> Settings:
    """Build :class:`Settings` from a Chaos Toolkit configuration dict, the environment and defaults.

    Raises :class:`ConfigError` naming the key for a malformed value.
    """
    api = str(_pick(configuration, "api", "API", "http://localhost:8000")).rstrip("/")
    parts = urlsplit(api)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"api must be an http(s) URL like http://localhost:8000, got {api!r}", key="api")
    if parts.username or parts.password:
        raise ConfigError("api must not carry credentials; pass the key as API_KEY", key="api")
    hosts = _pick(configuration, "allowed_hosts", "AITRAPP_ALLOWED_HOSTS", None)
    if hosts is None:
        allowed = list(LOOPBACK_HOSTS)
    elif isinstance(hosts, str):
        allowed = [h.strip() for h in hosts.split(",") if h.strip()]
    else:
        allowed = [str(h) for h in hosts]
    wait_ready = _number("wait_ready_timeout", _pick(configuration, "wait_ready_timeout", "WAIT_READY_TIMEOUT", 90))
    lease = _pick(configuration, "fault_lease", "AITRAPP_FAULT_LEASE", None)
    prometheus = _pick(configuration, "prometheus_url", "PROMETHEUS_URL", None)
    return Settings(
        api=api,
        heartbeat_max=_number("heartbeat_max", _pick(configuration, "heartbeat_max", "HEARTBEAT_MAX", 5)),
        wait_ready_timeout=wait_ready,
        redis_container=str(_pick(configuration, "redis_container", "REDIS_CONTAINER", "redis")),
        postgres_container=str(_pick(configuration, "postgres_container", "POSTGRES_CONTAINER", "postgres")),
        redis_target=str(_pick(configuration, "redis_target", "REDIS_TARGET", "auto")),
        postgres_target=str(_pick(configuration, "postgres_target", "POSTGRES_TARGET", "auto")),
        http_timeout=_number("http_timeout", _pick(configuration, "http_timeout", "AITRAPP_HTTP_TIMEOUT", 2.0)),
        prometheus_url=str(prometheus).rstrip("/") if prometheus else None,
        allowed_hosts=allowed,
        allow_live=_flag(_pick(configuration, "allow_live", "AITRAPP_ALLOW_LIVE", False)),
        pause_on_fail=_flag(_pick(configuration, "pause_on_fail", "PAUSE_ON_FAIL", False)),
        fault_lease=_number("fault_lease", lease) if lease is not None else wait_ready + 60.0,
    )


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


def known_secrets(secrets: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Every secret value in play (API key, DB password and URL, broker token), for scrubbing."""
    values = [api_key(secrets), database_url(secrets), os.environ.get("BROKER_TOKEN"),
              os.environ.get("KITE_ACCESS_TOKEN"), os.environ.get("API_SECRET_KEY")]
    url = database_url(secrets)
    if url:
        password = urlsplit(url).password
        if password:
            values.append(password)
    return sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)

