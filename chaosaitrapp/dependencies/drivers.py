"""Pick the driver for a dependency from the experiment's configuration."""
from __future__ import annotations

from typing import Any, Optional

from chaoslib.types import Configuration

from chaosaitrapp.config import is_explicit, settings_from, value
from chaosaitrapp.dependencies.family import POSTGRES_CONTAINER, POSTGRES_TARGET, REDIS_CONTAINER, REDIS_TARGET
from chaosaitrapp.deployment.lock import LockReader, lock_reader
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.targets.resolve import resolve_target

DEPENDENCIES = ("redis", "postgres")


def dependency_driver(dependency: str, target: str = "", configuration: Configuration = None):
    """The driver for ``dependency`` (``redis``/``postgres``): ``target`` if given, else the
    configured ``redis_target``/``postgres_target`` (default ``auto``, see
    :func:`chaosaitrapp.targets.resolve.resolve_target`: an explicitly named container wins over a
    lab, a lab wins over the seed's default container name ``redis``/``postgres``).
    ConfigError for an unknown dependency or target scheme."""
    if dependency not in DEPENDENCIES:
        raise ConfigError(f"dependency must be one of {DEPENDENCIES}, got {dependency!r}", dependency=dependency)
    settings = settings_from(configuration)
    container = REDIS_CONTAINER if dependency == "redis" else POSTGRES_CONTAINER
    chosen = target or value(configuration, REDIS_TARGET if dependency == "redis" else POSTGRES_TARGET)
    return resolve_target(chosen, dependency, container=value(configuration, container), api=settings.api,
                          container_explicit=is_explicit(configuration, container), configuration=configuration)


def target_lock_reader(configuration: Configuration = None, secrets: Any = None) -> Optional[LockReader]:
    """How to read the target's lock key (:func:`chaosaitrapp.deployment.lock.lock_reader`), the Redis target's
    driver resolved here (a container, a process, the lab's Redis); None when no way is known. ConfigError for
    a bad ``lock_redis``."""
    try:
        redis = dependency_driver("redis", "", configuration)
    except ChaosAitrappError:
        redis = None
    return lock_reader(configuration, secrets, redis)
