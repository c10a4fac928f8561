"""Does a dependency answer? Redis PING, Postgres accepting connections, HTTP /health.

Shared by every driver so "the dependency is back" means the same thing everywhere. The clients are
imported when a check needs them: a caller that only drives Docker needs neither (the Docker driver runs as
an unprivileged user, which may not read the interpreter's ``asyncio`` that ``redis`` needs). The dependency
actions import both up front (:mod:`chaosaitrapp.dependencies.actions`), so they are never imported first
inside a rollback: a SIGINT landing in an import leaves a package that cannot be imported again in that
process, so the restore itself would fail.
"""
from __future__ import annotations

import socket
from typing import Optional

DEFAULT_PORTS = {"redis": 6379, "postgres": 5432, "http": 8000}

# Postgres answered (it is accepting connections) even though our anonymous probe was refused.
_PG_ANSWERED = (
    "password authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "authentication failed",
    "password",
)


def redis_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when Redis at ``host:port`` answers PING (a LOADING reply counts as not yet)."""
    import redis  # noqa: PLC0415 - only a check of this kind needs this client (module docstring)
    from redis.backoff import NoBackoff  # noqa: PLC0415 - only a check of this kind needs this client (module docstring)
    from redis.retry import Retry  # noqa: PLC0415 - only a check of this kind needs this client (module docstring)

    # no retries: redis-py would otherwise back off for seconds before saying "down"
    client = redis.Redis(host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                         retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    except redis.exceptions.AuthenticationError:
        return True
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def postgres_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when Postgres at ``host:port`` accepts connections.

    An authentication refusal counts as answering (the server is up and speaking the
    protocol); refused sockets and "the database system is starting up/shutting down" don't.
    """
    import psycopg  # noqa: PLC0415 - only a check of this kind needs this client (module docstring)

    try:
        conn = psycopg.connect(
            host=host,
            port=port,
            user="chaosaitrapp_probe",
            dbname="postgres",
            connect_timeout=max(1, int(timeout)),
            password="x",
        )
    except psycopg.OperationalError as exc:
        text = str(exc).lower()
        if "starting up" in text or "shutting down" in text or "recovery" in text:
            return False
        return any(marker in text for marker in _PG_ANSWERED)
    conn.close()
    return True


def tcp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def service_answers(check: Optional[str], host: str, port: Optional[int], timeout: float = 1.0) -> bool:
    """Dispatch on ``check`` (``redis``, ``postgres``, ``http``/``tcp``); no check means a TCP connect."""
    port = port or DEFAULT_PORTS.get(check or "", 0)
    if not port:
        raise ValueError(f"no port known for check {check!r}")
    if check == "redis":
        return redis_answers(host, port, timeout)
    if check == "postgres":
        return postgres_answers(host, port, timeout)
    return tcp_answers(host, port, timeout)
