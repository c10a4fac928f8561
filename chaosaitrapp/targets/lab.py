"""``lab:NAME``: a dependency the lab started, driven as ``lab.json`` says.

The lab records for each service either a process (pidfile + command) or a Docker container;
this driver reads that record and delegates to :class:`ProcessDriver` or :class:`DockerDriver`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from chaosaitrapp.errors import TargetNotFound
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.labstate import LabState, ServiceSpec, load_state, state_path
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
