"""Pick the driver for a dependency from the experiment's configuration."""
from __future__ import annotations

from chaoslib.types import Configuration

from chaosaitrapp.config import settings_from
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets.resolve import resolve_target

DEPENDENCIES = ("redis", "postgres")


def dependency_driver(dependency: str, target: str = "", configuration: Configuration = None):
    """The driver for ``dependency`` (``redis``/``postgres``): ``target`` if given, else the
    configured ``redis_target``/``postgres_target`` (default ``auto``), falling back to the
    configured container name (``REDIS_CONTAINER``/``POSTGRES_CONTAINER``)."""
    if dependency not in DEPENDENCIES:
        raise ConfigError(f"dependency must be one of {DEPENDENCIES}, got {dependency!r}", dependency=dependency)
    settings = settings_from(configuration)
    chosen = target or (settings.redis_target if dependency == "redis" else settings.postgres_target)
    container = settings.redis_container if dependency == "redis" else settings.postgres_container
    return resolve_target(chosen, dependency, container=container)
