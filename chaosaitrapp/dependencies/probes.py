"""Probes on a dependency: is it running, does it answer, and the leader-lock key in Redis."""

import os
from typing import Any, Dict

import redis
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import settings_from
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.targets.labstate import lab_for

__all__ = ["dependency_running", "dependency_answers", "leader_lock_key"]

from chaosaitrapp.aitrapp import LOCK_KEY  # noqa: E402


def dependency_running(dependency: str = "redis", target: str = "",
                       configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Returns True when the dependency's process or container runs (it may not answer yet).
    Raises ConfigError for a bad dependency or target, TargetError when it cannot be inspected."""
    return bool(dependency_driver(dependency, target, configuration).is_running())


def dependency_answers(dependency: str = "redis", target: str = "",
                       configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Returns True when the dependency answers: Redis PING, Postgres accepting connections. Raises
    ConfigError for a bad dependency or target, TargetError when it cannot be inspected."""
    return bool(dependency_driver(dependency, target, configuration).answers())


def leader_lock_key(redis_url: str = "", configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """The ``trader:leader`` key as Redis holds it: ``{"present", "ttl_s", "holder"}``.

    Shows the quirk of a lock key persisted across a Redis restart (the service then waits for its
    own stale key to expire). ``redis_url``: default ``$REDIS_URL``, else the lab's Redis when a lab
    serves the drill's API. Returns ``{"present", "ttl_s", "holder"}``; raises ConfigError when no
    Redis URL is known, TargetError when Redis cannot be read.
    """
    url = redis_url or os.environ.get("REDIS_URL") or _lab_redis_url(configuration)
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        holder = client.get(LOCK_KEY)
        ttl = client.pttl(LOCK_KEY)
    except redis.RedisError as exc:
        raise TargetError(f"Redis at {_public(url)}: cannot read {LOCK_KEY}: {exc}", url=_public(url))
    finally:
        client.close()
    return {"present": holder is not None, "ttl_s": round(ttl / 1000, 3) if ttl and ttl > 0 else None,
            "holder": holder.decode() if holder else None}


def _lab_redis_url(configuration: Configuration) -> str:
    lab = lab_for(settings_from(configuration).api)
    if lab is None:
        raise ConfigError("leader_lock_key: no redis_url given, $REDIS_URL unset and no lab serves this API")
    return lab.redis_url


def _public(url: str) -> str:
    return scrub_text(url)
