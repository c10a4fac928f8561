"""The Docker SDK, for everyone who talks to the engine: the client, and its failures explained.

Shared by the ``docker:`` target driver and the lab's Docker runtime; every failure becomes a
:class:`~chaosaitrapp.errors.TargetError` naming the target and what to do (daemon unreachable,
permission denied on the socket, vanished container, API refusal).
"""
from __future__ import annotations

import os
from typing import Any

import docker
import docker.errors
import requests.exceptions

from chaosaitrapp.errors import TargetError, TargetNotFound

COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_PROJECT = "com.docker.compose.project"


def docker_host() -> str:
    """The daemon address the SDK will use: ``$DOCKER_HOST`` or the default unix socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def explain_docker_error(target: str, doing: str, exc: BaseException) -> TargetError:
    """Turn a Docker SDK/requests exception into a :class:`TargetError` naming ``target``.

    ``doing`` is what was attempted (``"connect"``, ``"stop"``...). Distinguishes an
    unreachable daemon, a permission refusal on its socket, a vanished container and an
    API error; the message says what to do about it.
    """
    text = str(exc)
    host = docker_host()
    if isinstance(exc, PermissionError) or "Permission denied" in text or "PermissionError" in text:
        return TargetError(
            f"{target}: permission denied on the Docker daemon socket {host} while trying to {doing} "
            "(run as root or add the user to the 'docker' group)",
            target=target, docker_host=host,
        )
    if isinstance(exc, docker.errors.NotFound):
        return TargetNotFound(f"{target}: container vanished while trying to {doing}: {exc.explanation}",
                              target=target)
    if isinstance(exc, docker.errors.APIError):
        return TargetError(f"{target}: the Docker daemon refused to {doing}: {exc.explanation or text}",
                           target=target, status=exc.status_code)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)) or (
        isinstance(exc, docker.errors.DockerException) and (
            "Error while fetching server API version" in text or "Connection" in text)):
        return TargetError(
            f"{target}: the Docker daemon is unreachable at {host} while trying to {doing} ({_short(text)}); "
            "is dockerd running? (scripts/docker/start-engine.sh)",
            target=target, docker_host=host,
        )
    return TargetError(f"{target}: Docker error while trying to {doing}: {_short(text)}", target=target)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def connect(target: str = "docker", timeout: float = 60.0) -> Any:
    """``docker.from_env()``, its failures raised as :class:`TargetError` naming ``target``.

    The API version is negotiated with the daemon (``version="auto"``), so older engines
    (e.g. Debian's 20.10, API 1.41) work.
    """
    try:
        return docker.from_env(version="auto", timeout=int(max(1, timeout)))
    except Exception as exc:  # noqa: BLE001 - mapped to a clear TargetError
        raise explain_docker_error(target, "connect", exc) from exc
