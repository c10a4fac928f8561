"""The lab as a target kind: ``lab:NAME``, a service the lab started, driven as ``lab.json`` says; and the
deployment description the lab writes for itself (``<lab dir>/deployment.json``), which a drill against the
lab's API uses when it is told of no other.

The lab records for each service either a process (pidfile + command) or a Docker container;
this driver reads that record and delegates to :class:`ProcessDriver` or :class:`DockerDriver`.
Nothing outside the lab's own code reads ``lab.json``: the drills read the description.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional
from urllib.parse import quote, urlsplit, urlunsplit

from chaosaitrapp.description import Description
from chaosaitrapp.errors import TargetNotFound
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.labstate import LabState, ServiceSpec, lab_db_password, lab_for, load_state, state_path
from chaosaitrapp.targets.process import ProcessDriver


def driver_for_service(spec: ServiceSpec):
    """The concrete driver for one lab service record."""
    if spec.kind == "docker":
        return DockerDriver(spec.container or spec.name, check=spec.check, host=spec.host, port=spec.port)

    if not spec.pidfile:
        raise TargetNotFound(f"lab:{spec.name} has no pidfile in lab.json", service=spec.name)
    return ProcessDriver(
        spec.pidfile, argv=spec.argv, cwd=spec.cwd, env=spec.env, log=spec.log,
        check=spec.check, host=spec.host, port=spec.port, name=spec.name,
    )


def lab_driver(name: str, service: str = "", directory: Optional[Path] = None):
    """The driver for lab service ``name`` (``redis``, ``postgres``, ...), or TargetNotFound (``service``:
    the dependency's role, which the lab's record already knows)."""
    state: Optional[LabState] = load_state(directory)
    if state is None:
        raise TargetNotFound(
            f"lab:{name}: no lab is up (no {state_path(directory)}); run `aitrapp-chaos lab up` first",
            target=f"lab:{name}",
        )
    spec = state.services.get(name)
    if spec is None:
        raise TargetNotFound(
            f"lab:{name}: the lab has no service {name!r} (it has: {', '.join(sorted(state.services))})",
            target=f"lab:{name}",
        )
    return driver_for_service(spec)


DESCRIPTION_FILE = "deployment.json"


def lab_description(api: str, directory: Optional[Path] = None) -> Optional[Path]:
    """The description the lab in ``directory`` wrote for itself, when that lab is the target at ``api`` (its
    API, its trader alive: :func:`chaosaitrapp.targets.labstate.lab_for`); else None."""
    state = lab_for(api, directory)
    if state is None:
        return None
    path = Path(state.lab_dir or state_path(directory).parent) / DESCRIPTION_FILE
    return path if path.is_file() else None


def lab_secrets(description: Description) -> Dict[str, str]:
    """The secrets of the lab's description, in memory: its database URL with the lab's password
    (:func:`chaosaitrapp.targets.labstate.lab_db_password`)."""
    url = description.configuration.get("orders_database")
    if not url:
        return {}
    parts = urlsplit(str(url))
    netloc = f"{parts.username or ''}:{quote(lab_db_password(), safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return {"database_url": urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))}
