"""The target's database, for the SQL order checks: the ``database_url`` secret (``$DATABASE_URL``, a Chaos
Toolkit secret, or the deployment description's reference; the lab's description gives its own), else the
``orders_database`` setting (a URL without password). A URL is never logged (errors show it scrubbed)."""
from __future__ import annotations

from typing import Tuple

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import core_setting, database_url, value
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.scrub import scrub_text


def target_database(configuration: Configuration, secrets: Secrets) -> Tuple[str, bool]:
    """The target's database URL (module docstring) and whether it is the ``DATABASE_URL`` secret (True) or
    the ``orders_database`` setting (False); ConfigError when none is known."""
    url = database_url(secrets)
    if url:
        return url, True
    url = value(configuration, core_setting("orders_database"))
    if not url:
        raise ConfigError("the SQL order checks need the target's database: the DATABASE_URL secret, or the "
                          "orders_database setting (a URL without password)", key="orders_database")
    return str(url), False


def connect(configuration: Configuration, secrets: Secrets):
    """A connection to the target's database (:func:`target_database`); ConfigError when none is known,
    TargetError when it cannot be reached."""
    import psycopg  # noqa: PLC0415 - 0.1 s to import, and most drills never connect (the after-run evidence asks)

    url, _ = target_database(configuration, secrets)
    try:
        return psycopg.connect(url, connect_timeout=3)
    except psycopg.Error as exc:
        raise TargetError(f"Postgres at {scrub_text(url)}: cannot connect: {scrub_text(str(exc).strip())}")
