"""Probes on a dependency: is it running, does it answer, and the leader-lock key in Redis."""

from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.dependencies.drivers import dependency_driver, target_lock_reader
from chaosaitrapp.deployment.lock import lock_key, reader_for
from chaosaitrapp.errors import ConfigError

__all__ = ["dependency_running", "dependency_answers", "leader_lock_key"]


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
    """The leader lock key (``lock_key``, default ``trader:leader``) as Redis holds it.

    Shows the quirk of a lock key persisted across a Redis restart (the service then waits for its
    own stale key to expire). ``redis_url``: where to read it (``redis://``, ``docker:NAME`` or
    ``process:PIDFILE``); default as :func:`chaosaitrapp.deployment.lock.lock_reader` finds it (the
    ``lock_redis`` setting, the ``REDIS_URL`` secret, the Redis target). Returns ``{"present", "ttl_s",
    "holder"}``; raises ConfigError when no way to read it is known, TargetError when Redis cannot be read.
    """
    reader = reader_for(redis_url) if redis_url else target_lock_reader(configuration, secrets)
    if reader is None:
        raise ConfigError("leader_lock_key: no way to read the lock is known: set lock_redis (redis://host:port/db, "
                          "docker:NAME or process:PIDFILE) or the REDIS_URL secret")
    key = lock_key(configuration)
    holder, pttl = reader.read(key)
    return {"present": holder is not None, "ttl_s": round(pttl / 1000, 3) if pttl else None, "holder": holder}
