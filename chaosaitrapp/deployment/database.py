"""The target's database, for the SQL order checks: ``$DATABASE_URL`` (secret ``database_url``), else the
lab's when a lab is the target. The URL is a secret: it is never logged (errors show it scrubbed)."""
from __future__ import annotations

import psycopg
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import database_url, settings_from
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.targets.labstate import lab_database_url, lab_for


def connect(configuration: Configuration, secrets: Secrets):
    """A connection to ``$DATABASE_URL`` (secret ``database_url``), else to the lab's database when a
    lab describes the target (:func:`chaosaitrapp.targets.labstate.lab_for`); ConfigError otherwise."""
    url = database_url(secrets)
    if not url:
        lab = lab_for(settings_from(configuration).api)
        url = lab_database_url(lab) if lab is not None else None
    if not url:
        raise ConfigError("the SQL order checks need DATABASE_URL (or secret database_url); no lab serves "
                          "this API to take it from")
    try:
        return psycopg.connect(url, connect_timeout=3)
    except psycopg.Error as exc:
        raise TargetError(f"Postgres at {scrub_text(url)}: cannot connect: {scrub_text(str(exc).strip())}")
