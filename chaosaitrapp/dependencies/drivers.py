"""Pick the driver for a dependency from the experiment's configuration."""
from __future__ import annotations

from chaoslib.types import Configuration

from chaosaitrapp.config import is_explicit, settings_from, value
from chaosaitrapp.dependencies.family import POSTGRES_CONTAINER, POSTGRES_TARGET, REDIS_CONTAINER, REDIS_TARGET
from chaosaitrapp.errors import ConfigError
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
                          container_explicit=is_explicit(configuration, container))
