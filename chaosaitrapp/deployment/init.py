"""``aitrapp-chaos target init``: a first, commented deployment description, from what runs.

- ``--compose-project P``: the containers of compose project ``P`` (by the label
  ``com.docker.compose.project``): its Redis and Postgres (by image, service or name) become
  ``docker:SERVICE@P`` targets, the Redis is where the lock is read from, every other service is listed as
  a comment (the trader and its replicas cannot be told apart from their image);
- ``--from-lab``: the description the lab wrote for itself;
- neither: a template.

Values copied from a container's environment are never written (secrets are references: ``API_KEY``,
``DATABASE_URL``, ``REDIS_URL``); what the drills cannot learn is left as commented lines to fill in.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.description import Description, load
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets.docker_client import COMPOSE_PROJECT, COMPOSE_SERVICE, connect, explain_docker_error
from chaosaitrapp.targets.docker_infer import infer_check

SECRET_REFS = {"api_key": {"type": "env", "key": "API_KEY"}, "database_url": {"type": "env", "key": "DATABASE_URL"}}

#: Lines a team fills in: what no running container says.
TO_FILL = (
    "  # Fill in what the drills cannot read from the containers (uncomment):",
    "#  broker_proxy: http://127.0.0.1:8003     # the broker fault proxy's control URL (`aitrapp-chaos proxy broker`)",
    "#  net_proxy: http://127.0.0.1:8004        # the TCP fault proxy's control URL (`aitrapp-chaos proxy net`)",
    "#  replicas: http://127.0.0.1:8010         # the other replicas' APIs (split brain)",
    "#  replica_targets: docker:api,docker:api2 # how to freeze each replica, API first",
    "#  target_process: docker:api              # the trader's process (the stress drills)",
    "#  lock_ttl: 30                            # the service's lock timing; unset: learned from the lock key",
    "#  lock_refresh: 10",
    "#  lock_backoff_max: 30.5",
)


def from_compose(project: str) -> Tuple[Description, List[str]]:
    """A description of compose project ``project`` and notes (one per container), from the running containers;
    ConfigError when no container carries the project's label."""
    client = connect(f"compose project {project}")
    try:
        containers = client.containers.list(all=True, filters={"label": f"{COMPOSE_PROJECT}={project}"})
    except Exception as exc:  # noqa: BLE001 - the engine's errors, explained and named
        raise explain_docker_error(f"compose project {project}", "list the containers of the project", exc) from None
    if not containers:
        raise ConfigError(f"no container is labelled {COMPOSE_PROJECT}={project}: is the project up "
                          "(`docker compose -p PROJECT up -d`)?")
    values: Dict[str, Any] = {"api": "http://localhost:8000"}
    notes: List[str] = []
    for container in sorted(containers, key=lambda c: c.name):
        service = container.labels.get(COMPOSE_SERVICE) or container.name
        image = (container.image.tags or [container.attrs.get("Config", {}).get("Image", "")])[0]
        check = infer_check(str(image), service, container.name)
        if check in ("redis", "postgres") and f"{check}_target" not in values:
            values[f"{check}_target"] = f"docker:{service}@{project}"
            notes.append(f"{check}: service {service} ({image}, {container.status})")
        else:
            notes.append(f"service {service} ({image}, {container.status}): the trader or another service")
    if "redis_target" in values:
        values["lock_redis"] = values["redis_target"].split("@")[0]
    return Description(values, dict(SECRET_REFS), provider="target init"), notes


def from_lab(path: Optional[Path]) -> Tuple[Description, List[str]]:
    """The lab's own description (``path``: its ``deployment.json``), as a starting point."""
    if path is None:
        raise ConfigError("no lab serves the drills' API: bring one up (`aitrapp-chaos lab up`) or describe a "
                          "compose project (--compose-project)")
    found = load(path)
    found.provider = "target init (from the lab)"
    return found, [f"copied from {path}"]


def template() -> Tuple[Description, List[str]]:
    """A description to fill in by hand."""
    return Description({"api": "http://localhost:8000", "redis_target": "docker:redis",
                        "postgres_target": "docker:postgres"}, dict(SECRET_REFS), provider="target init"), []
