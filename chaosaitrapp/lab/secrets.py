"""The lab's database credentials, kept out of ``lab.json``.

The lab's Postgres uses the compose file's credentials (user ``trader``, password from
``$AITRAPP_LAB_DB_PASSWORD``, default ``trader``). The full URL is assembled only in memory.
"""
from __future__ import annotations

import os
from typing import Optional
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_PASSWORD = "trader"


def lab_db_password() -> str:
    """The lab database password (``$AITRAPP_LAB_DB_PASSWORD`` or the compose default)."""
    return os.environ.get("AITRAPP_LAB_DB_PASSWORD") or DEFAULT_PASSWORD


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set for its user."""
    parts = urlsplit(url)
    netloc = f"{parts.username or ''}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def lab_database_url() -> Optional[str]:
    """The running lab's full database URL, or None when no lab is up."""
    from chaosaitrapp.lab.state import load_state

    state = load_state()
    if state is None:
        return None
    return with_password(state.database_url, lab_db_password())
