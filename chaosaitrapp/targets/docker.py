"""``docker:NAME``: a container, stopped and started through the Docker SDK (never a shell).

A name is resolved the way AITRAPP's compose files need (container names differ between
them: ``redis``, ``aitrapp-redis``, ``<project>-redis-1``):

1. the container whose name is exactly ``NAME`` (running or stopped);
2. otherwise the one container labelled ``com.docker.compose.service=NAME`` (and
   ``com.docker.compose.project=PROJECT`` when a project is given); two or more is an
   error that lists them and suggests a project;
3. otherwise, when rebuilt from an undo recipe, the container id recorded in it.

``start`` returns once the service inside *answers* (Redis PING, Postgres accepting
connections, see :mod:`chaosaitrapp.targets.answers`), not merely once the container runs.
What to check is inferred from the image name (``redis``, ``postgres``...), else from the
compose service or container name; the port from the container's command (``--port N``,
``-c port=N``, ``-p N``) or ``PGPORT``, else the default (6379, 5432), translated to the
published host port when the container does not use host networking.

Every failure raises :class:`~chaosaitrapp.errors.TargetError` (or
:class:`~chaosaitrapp.errors.TargetNotFound`) whose message names the target: daemon
unreachable, permission denied on the socket, no such container, ambiguous service name,
a container that exits instead of answering, a deadline passed.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import docker.errors

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import TargetError, TargetNotFound
from chaosaitrapp.paths import state_dir
from chaosaitrapp.targets.answers import service_answers
from chaosaitrapp.targets.docker_client import COMPOSE_PROJECT, COMPOSE_SERVICE, connect, explain_docker_error  # noqa: F401
from chaosaitrapp.targets.docker_infer import infer_check, infer_port  # noqa: F401 (re-exported)
from chaosaitrapp.waiting import wait_until

# Container states in which the container still has to be stopped.
_LIVE_STATES = ("running", "paused", "restarting")


class DockerDriver:
    """A Docker container found by name or compose service label; see the module doc.

    ``check`` (``redis``/``postgres``) and ``port`` are inferred from the container when not
    given; ``host`` is where the host reaches the service (loopback by default). ``client``
    is a ``docker.DockerClient`` (default: ``docker.from_env()`` on first use).
    ``container_id`` is a fallback for :meth:`from_undo` when the name no longer resolves.
    """

    def __init__(
        self,
        name: str,
        project: Optional[str] = None,
        check: Optional[str] = None,
        host: str = "127.0.0.1",
        port: Optional[int] = None,
        client: Any = None,
        container_id: Optional[str] = None,
    ) -> None:
        if not name:
            raise TargetError("docker target needs a container or compose service name", target="docker:")
        self.name = name
        self.project = project
        self.check = check
        self.host = host
        self.port = port
        self.container_id = container_id
        self._client = client

    # -- naming and lookup -------------------------------------------------------------

    def describe(self) -> str:
        """``docker:NAME`` (``docker:NAME (project P)`` when a project is set)."""
        return f"docker:{self.name}" + (f" (project {self.project})" if self.project else "")

    def client(self) -> Any:
        """The Docker client, connected on first use."""
        if self._client is None:
            self._client = connect(self.describe())
        return self._client

    def container(self) -> Any:
        """The ``docker.models.containers.Container`` this target names (see the module doc)."""
        client = self.client()
        try:
            try:
                exact = client.containers.get(self.name)
            except docker.errors.NotFound:
                exact = None
            if exact is not None and exact.name == self.name and (
                self.project is None or exact.labels.get(COMPOSE_PROJECT) == self.project
            ):
                return self._remember(exact)
            labels = [f"{COMPOSE_SERVICE}={self.name}"]
            if self.project:
                labels.append(f"{COMPOSE_PROJECT}={self.project}")
            found = client.containers.list(all=True, filters={"label": labels}, ignore_removed=True)
            if len(found) == 1:
                return self._remember(found[0])
            if len(found) > 1:
                raise self._ambiguous(found)
            if self.container_id:
                try:
                    return self._remember(client.containers.get(self.container_id))
                except docker.errors.NotFound:
                    pass
            running = client.containers.list(ignore_removed=True)
        except TargetError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a clear TargetError
            raise explain_docker_error(self.describe(), "look the container up", exc) from exc
        wanted = f"{COMPOSE_SERVICE}={self.name}" + (f" and {COMPOSE_PROJECT}={self.project}" if self.project else "")
        raise TargetNotFound(
            f"{self.describe()}: no container named {self.name!r} or labelled {wanted}; "
            f"running containers: {_list_containers(running) or 'none'}",
            target=self.describe(),
        )

    def _remember(self, container: Any) -> Any:
        self.container_id = container.id
        return container

    def _ambiguous(self, found: List[Any]) -> TargetError:
        projects = sorted({c.labels.get(COMPOSE_PROJECT) or "" for c in found} - {""})
        hint = (f"set project (one of: {', '.join(projects)})" if len(projects) > 1
                else "name the container itself")
        return TargetError(
            f"{self.describe()}: {len(found)} containers are labelled {COMPOSE_SERVICE}={self.name}: "
            f"{_list_containers(found, with_status=True)}; {hint}",
            target=self.describe(), containers=[c.name for c in found],
        )

    def _state(self, container: Any) -> Dict[str, Any]:
        try:
            container.reload()
        except Exception as exc:  # noqa: BLE001
            raise explain_docker_error(self.describe(), "inspect the container", exc) from exc
        return container.attrs.get("State") or {}

    def _status(self, container: Any) -> str:
        return str(self._state(container).get("Status") or "unknown")

    # -- what to check --------------------------------------------------------------------

    def resolved_check(self, container: Any = None) -> Optional[str]:
        """``check`` as given, else inferred from the container (image, service, name)."""
        if self.check is not None:
            return self.check
        container = container or self.container()
        attrs = container.attrs
        image = (attrs.get("Config") or {}).get("Image") or ""
        return infer_check(image, container.labels.get(COMPOSE_SERVICE), container.name)

    def resolved_port(self, container: Any = None) -> Optional[int]:
        """``port`` as given, else inferred from the container's command and port bindings."""
        if self.port is not None:
            return self.port
        container = container or self.container()
        return infer_port(container.attrs, self.resolved_check(container))

    # -- the Driver protocol --------------------------------------------------------------

    def is_running(self) -> bool:
        """True when the container's state is ``running`` (a paused container is not)."""
        return self._status(self.container()) == "running"

    def answers(self) -> bool:
        """True when the service answers its check on ``host:port``; with no check and no
        port known (port not published, unknown image) this is :meth:`is_running`."""
        container = self.container()
        check = self.resolved_check(container)
        port = self.resolved_port(container)
        if port is None:
            return self._status(container) == "running"
        return service_answers(check, self.host, port)

    def _stopping_marker(self) -> Path:
        """``$AITRAPP_CHAOS_STATE/docker-stopping/<name>``: present while a stop is under way."""
        prefix = f"{self.project}." if self.project else ""
        return state_dir() / "docker-stopping" / f"{prefix}{self.name}"

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the container (its stop signal, SIGKILL after a grace period) and return once
        it no longer runs; raise :class:`TargetError` if it still runs at ``timeout``. Idempotent."""
        deadline = time.monotonic() + timeout
        container = self.container()
        status = self._status(container)
        if status not in _LIVE_STATES:
            return
        grace = max(1, int(timeout) - 2) if timeout >= 4 else 1
        marker = self._stopping_marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{container.id}\n")  # an interrupted stop is finished by the next start
        try:
            if status == "paused":
                container.unpause()
            container.stop(timeout=grace)
        except Exception as exc:  # noqa: BLE001

            if not isinstance(exc, docker.errors.NotFound):
                raise explain_docker_error(self.describe(), "stop the container", exc) from exc
            raise TargetNotFound(f"{self.describe()}: the container was removed while stopping it",
                                 target=self.describe()) from exc
        stopped = wait_until(lambda: self._status(container), lambda s: s not in _LIVE_STATES,
                             timeout=max(0.5, deadline - time.monotonic()), interval=0.05,
                             what=f"{self.describe()} to stop")
        if stopped.held:
            marker.unlink(missing_ok=True)
        if not stopped.held:
            raise TargetError(
                f"{self.describe()}: still {stopped.value or 'running'} {timeout:.0f}s after docker stop"
                + (f" ({stopped.last_error})" if stopped.last_error else ""),
                target=self.describe(),
            )

    def start(self, timeout: float = 60.0) -> None:
        """Start the container (unpause it if paused) and return once the service answers;
        raise :class:`TargetError` if it exits instead or does not answer by ``timeout``."""
        deadline = time.monotonic() + timeout
        container = self.container()
        status = self._status(container)
        if self._stopping_marker().exists() and status in _LIVE_STATES:
            # a stop was interrupted (the chaos run got a signal mid-stop): the container may still be
            # on its way down while answering; finish that stop before starting it again
            self.stop(max(1.0, (deadline - time.monotonic()) / 2))
            status = self._status(container)
        self._stopping_marker().unlink(missing_ok=True)
        try:
            if status == "paused":
                container.unpause()
            elif status not in ("running", "restarting"):
                container.start()
        except Exception as exc:  # noqa: BLE001
            raise explain_docker_error(self.describe(), "start the container", exc) from exc
        check = self.resolved_check(container)
        port = self.resolved_port(container)

        def observe() -> str:
            state = self._state(container)
            if state.get("Status") in ("exited", "dead"):
                return "exited"
            if port is None:
                return "answers" if state.get("Status") == "running" else "starting"
            return "answers" if service_answers(check, self.host, port) else "starting"

        result = wait_until(observe, lambda v: v in ("answers", "exited"),
                            timeout=max(0.5, deadline - time.monotonic()), interval=0.05,
                            what=f"{self.describe()} to answer")
        if result.value == "answers":
            return
        if result.value == "exited":
            state = container.attrs.get("State") or {}
            raise TargetError(
                f"{self.describe()}: the container exited (code {state.get('ExitCode')}"
                + (f", {state.get('Error')}" if state.get("Error") else "")
                + f") instead of answering; see `docker logs {container.name}`",
                target=self.describe(), exit_code=state.get("ExitCode"),
            )
        where = f"{self.host}:{port}" if port is not None else "(no port known)"
        raise TargetError(
            f"{self.describe()}: started but did not answer its {check or 'tcp'} check on {where} "
            f"within {timeout:.0f}s" + (f" (last error: {result.last_error})" if result.last_error else ""),
            target=self.describe(),
        )

    def undo(self) -> dict:
        """Recipe to rebuild this driver elsewhere: name, project, the container id and the
        check/port as resolved now (``None`` where the container could not be inspected)."""
        container_id, check, port = self.container_id, self.check, self.port
        try:
            container = self.container()
            container_id = container.id
            check = self.resolved_check(container)
            port = self.resolved_port(container)
        except TargetError:
            pass
        return {
            "driver": ref_of(DockerDriver),
            "name": self.name,
            "project": self.project,
            "container_id": container_id,
            "check": check,
            "host": self.host,
            "port": port,
        }

    @classmethod
    def from_undo(cls, d: dict) -> "DockerDriver":
        """Rebuild from :meth:`undo`'s dict (``driver`` key ignored)."""
        return cls(
            name=d["name"],
            project=d.get("project"),
            check=d.get("check"),
            host=d.get("host") or "127.0.0.1",
            port=d.get("port"),
            container_id=d.get("container_id"),
        )


def _list_containers(containers: List[Any], with_status: bool = False, limit: int = 20) -> str:
    """``name (service s, project p[, status])`` for each container, at most ``limit``."""
    parts = []
    for c in containers[:limit]:
        details = []
        if c.labels.get(COMPOSE_SERVICE):
            details.append(f"service {c.labels[COMPOSE_SERVICE]}")
        if c.labels.get(COMPOSE_PROJECT):
            details.append(f"project {c.labels[COMPOSE_PROJECT]}")
        if with_status:
            details.append(c.status)
        parts.append(c.name + (f" ({', '.join(details)})" if details else ""))
    if len(containers) > limit:
        parts.append(f"... {len(containers) - limit} more")
    return ", ".join(parts)


def docker_driver(rest: str, service: str) -> DockerDriver:
    """The ``docker:NAME[@PROJECT]`` target kind's driver for dependency ``service`` (its answer check)."""
    name, _, project = rest.partition("@")
    return DockerDriver(name, project=project or None, check=service if service in ("redis", "postgres") else None)
