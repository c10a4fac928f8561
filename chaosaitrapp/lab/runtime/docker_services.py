"""The lab's Redis and Postgres as Docker containers (``aitrapp-chaos lab up --runtime docker``).

Each service is a container named like the seed's defaults (``redis``, ``postgres``) and
labelled like a compose service (``com.docker.compose.service=redis|postgres``,
``com.docker.compose.project=aitrapp-lab``), so ``docker:redis`` resolves it either way. Every
container uses host networking and listens on 127.0.0.1 only; its data lives in a named
volume ``<project>-<name>-data`` (labelled like the container), so a stopped and restarted
Redis keeps its keys (persistence on: ``--save "3600 1"``, the real deployment's quirk) and
Postgres its tables, while a new lab starts empty.

Images are never pulled: build the local ones with ``scripts/docker/build-images.sh``
(``chaosaitrapp/redis:7-local``, ``chaosaitrapp/postgres:15-local``) or ``docker pull redis:7
postgres:16`` yourself; both kinds speak the official images' interface.

The Postgres password goes to the container's environment only; it is never in the returned
:class:`~chaosaitrapp.targets.labstate.ServiceSpec` nor in any message.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List

import docker.errors
import psycopg

from chaosaitrapp.errors import TargetError
from chaosaitrapp.targets.answers import tcp_answers
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.docker_client import COMPOSE_PROJECT, COMPOSE_SERVICE, connect, explain_docker_error
from chaosaitrapp.targets.labstate import LabState, ServiceSpec
from chaosaitrapp.waiting import wait_until

LAB_PROJECT = "aitrapp-lab"
LAB_LABEL = "org.chaosaitrapp.lab"  # value "1" on every container and volume the lab creates
LAB_DIR_LABEL = "org.chaosaitrapp.lab-dir"
REDIS_IMAGE = "chaosaitrapp/redis:7-local"
POSTGRES_IMAGE = "chaosaitrapp/postgres:15-local"
HOST = "127.0.0.1"

_DATA_DIRS = {"redis": "/data", "postgres": "/var/lib/postgresql/data"}
# The official tags a real deployment uses, and the local builds that stand in for them here.
LOCAL_STAND_INS = {"redis:7": REDIS_IMAGE, "postgres:16": POSTGRES_IMAGE}


def resolve_image(client: Any, image: str) -> str:
    """``image`` if the engine has it; else, for an official default tag (``redis:7``,
    ``postgres:16``), its local stand-in built by ``scripts/docker/build-images.sh``, said aloud.
    Raises ``docker.errors.ImageNotFound`` when neither is there (the lab never pulls)."""
    try:
        client.images.get(image)
        return image
    except docker.errors.ImageNotFound:
        stand_in = LOCAL_STAND_INS.get(image)
        if stand_in is None:
            raise
        client.images.get(stand_in)  # ImageNotFound again when it was not built either
        print(f"lab: image {image} is not on this machine; using the local build {stand_in}", flush=True)
        return stand_in


def _labels(service: str, project: str, lab_dir: Path) -> Dict[str, str]:
    return {
        COMPOSE_SERVICE: service,
        COMPOSE_PROJECT: project,
        LAB_LABEL: "1",
        LAB_DIR_LABEL: str(lab_dir),
    }


def volume_name(project: str, name: str) -> str:
    """The named volume holding container ``name``'s data: ``<project>-<name>-data``."""
    return f"{project}-{name}-data"


def start_redis(
    lab_dir: Path,
    port: int,
    image: str = REDIS_IMAGE,
    *,
    name: str = "redis",
    project: str = LAB_PROJECT,
    timeout: float = 60.0,
    client: Any = None,
) -> ServiceSpec:
    """Run Redis as container ``name`` on ``127.0.0.1:port`` and return once it answers PING.

    Command: ``redis-server --bind 127.0.0.1 --port PORT --save "3600 1" --dir /data``
    (RDB persistence: keys survive a stop/start of the container). A container of that name
    left by an earlier lab (our project label) is replaced, data volume included; one that
    is not ours raises :class:`TargetError`. ``name``/``project`` exist so tests can run beside
    a live lab; the lab itself uses the defaults.
    """
    command = ["redis-server", "--bind", HOST, "--port", str(port), "--save", "3600 1", "--dir", "/data"]
    _run(lab_dir, "redis", name, project, image, port, command, env={}, stop_signal="SIGTERM",
         timeout=timeout, client=client)
    return ServiceSpec(name="redis", kind="docker", host=HOST, port=port, check="redis", container=name)


def start_postgres(
    lab_dir: Path,
    port: int,
    image: str,
    user: str,
    password: str,
    database: str,
    *,
    name: str = "postgres",
    project: str = LAB_PROJECT,
    timeout: float = 120.0,
    client: Any = None,
) -> ServiceSpec:
    """Run Postgres as container ``name`` on ``127.0.0.1:port`` and return once ``user`` can
    log in to ``database`` with ``password`` over TCP.

    The image initialises the cluster on first start from ``POSTGRES_USER``,
    ``POSTGRES_PASSWORD``, ``POSTGRES_DB`` (official image interface); the command is
    ``postgres -c listen_addresses=127.0.0.1 -c port=PORT``, the stop signal SIGINT (fast
    shutdown). Replacement rules as :func:`start_redis`. The password is passed in the
    container's environment only, never returned or logged.
    """
    if not password:
        raise TargetError("lab postgres: a password is required (the image refuses to initialise without one)")
    command = ["postgres", "-c", f"listen_addresses={HOST}", "-c", f"port={port}"]
    env = {"POSTGRES_USER": user, "POSTGRES_PASSWORD": password, "POSTGRES_DB": database}
    deadline = time.monotonic() + timeout
    _run(lab_dir, "postgres", name, project, image, port, command, env=env, stop_signal="SIGINT",
         timeout=timeout, client=client)
    _wait_login(name, port, user, password, database, max(1.0, deadline - time.monotonic()))
    return ServiceSpec(name="postgres", kind="docker", host=HOST, port=port, check="postgres", container=name)


def remove_services(state: LabState, timeout: float = 30.0, client: Any = None) -> None:
    """Stop and remove the lab's docker services (``kind == "docker"`` in ``state``) and their
    data volumes. Containers already gone are fine; a container of that name that the lab did
    not create is left alone and reported by a :class:`TargetError` after the others are removed."""
    specs = [s for s in state.services.values() if s.kind == "docker" and s.container]
    if not specs:
        return
    client = client or connect("lab docker services", timeout=timeout + 30)
    refused: List[str] = []
    for spec in specs:
        if not _remove(client, spec.container, timeout, LAB_PROJECT):
            refused.append(spec.container)
    if refused:
        raise TargetError(
            f"lab docker services: left alone container(s) {', '.join(refused)}: not created by the lab "
            f"(neither {LAB_LABEL}=1 nor {COMPOSE_PROJECT}={LAB_PROJECT})", containers=refused,
        )


# -- internals -----------------------------------------------------------------------------


def _run(
    lab_dir: Path, service: str, name: str, project: str, image: str, port: int, command: List[str],
    env: Dict[str, str], stop_signal: str, timeout: float, client: Any,
) -> None:
    """Replace any earlier lab container ``name``, create the data volume and the container,
    start it and wait until the service answers on ``port``."""
    target = f"lab {service} (container {name})"
    deadline = time.monotonic() + timeout
    client = client or connect(target, timeout=timeout + 30)
    try:
        image = resolve_image(client, image)
    except docker.errors.ImageNotFound:
        raise TargetError(
            f"{target}: image {image!r} is not on this machine; build the local images with "
            f"scripts/docker/build-images.sh or `docker pull {image}` (the lab never pulls)",
            target=target, image=image,
        ) from None
    except Exception as exc:  # noqa: BLE001
        raise explain_docker_error(target, "look up the image", exc) from exc

    if not _remove(client, name, max(1.0, deadline - time.monotonic()), project):
        raise TargetError(
            f"{target}: a container named {name!r} already exists and was not created by the lab "
            f"(neither {LAB_LABEL}=1 nor {COMPOSE_PROJECT}={project}); remove or rename it, "
            "or stop the stack that owns it",
            target=target,
        )
    if tcp_answers(HOST, port):
        raise TargetError(f"{target}: port {HOST}:{port} is already in use by another process", target=target,
                          port=port)
    labels = _labels(service, project, lab_dir)
    volume = volume_name(project, name)
    try:
        client.volumes.create(name=volume, labels=labels)
        container = client.containers.create(
            image,
            command=command,
            name=name,
            labels=labels,
            environment=env,
            network_mode="host",
            volumes={volume: {"bind": _DATA_DIRS[service], "mode": "rw"}},
            stop_signal=stop_signal,
            detach=True,
        )
    except Exception as exc:  # noqa: BLE001
        raise explain_docker_error(target, "create the container", exc) from exc
    driver = DockerDriver(name, project=project, check=service, host=HOST, port=port, client=client,
                          container_id=container.id)
    driver.start(timeout=max(1.0, deadline - time.monotonic()))


def _remove(client: Any, name: str, timeout: float, project: str) -> bool:
    """Remove container ``name`` and its lab data volumes if the lab created it. True when no
    such container remains; False when one exists that is not the lab's (left untouched).
    With no container, a leftover lab volume ``<project>-<name>-data`` is removed too."""
    target = f"lab container {name}"
    try:
        try:
            container = client.containers.get(name)
        except docker.errors.NotFound:
            container = None
        if container is not None and container.name != name:
            container = None  # an id prefix, not the name
        if container is None:
            _remove_volume(client, volume_name(project, name))
            return True
        if not _is_ours(container.labels, project):
            return False
        volumes = [m.get("Name") for m in container.attrs.get("Mounts") or [] if m.get("Type") == "volume"]
        if container.status in ("running", "paused", "restarting"):
            DockerDriver(name, client=client, check=None).stop(timeout=timeout)
        container.remove(v=True, force=True)
        for volume in volumes:
            _remove_volume(client, volume)
        return True
    except TargetError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise explain_docker_error(target, "remove the container", exc) from exc


def _is_ours(labels: Dict[str, str], project: str) -> bool:
    """True for a container or volume the lab created: our lab label or our compose project."""
    return labels.get(LAB_LABEL) == "1" or labels.get(COMPOSE_PROJECT) == project


def _remove_volume(client: Any, volume: str) -> None:
    """Remove volume ``volume`` if it exists and the lab created it (our label)."""
    try:
        vol = client.volumes.get(volume)
    except docker.errors.NotFound:
        return
    if (vol.attrs.get("Labels") or {}).get(LAB_LABEL) == "1":
        try:
            vol.remove(force=True)
        except docker.errors.NotFound:
            pass


def _wait_login(name: str, port: int, user: str, password: str, database: str, timeout: float) -> None:
    """Wait until ``user`` logs in to ``database`` over TCP (first start initialises the
    cluster); the error, if any, never carries the password."""

    def login() -> bool:
        with psycopg.connect(host=HOST, port=port, user=user, password=password, dbname=database,
                             connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    result = wait_until(login, bool, timeout=timeout, interval=0.1, what=f"lab postgres {name} login")
    if not result.held:
        error = (result.last_error or "no answer").replace(password, "***")
        raise TargetError(
            f"lab postgres (container {name}): user {user!r} cannot log in to database {database!r} on "
            f"{HOST}:{port} after {timeout:.0f}s: {error}; see `docker logs {name}`",
            target=f"docker:{name}",
        )
