"""examples/ as a team copies it into its AITRAPP repository: the workflow (aitrapp-chaos.yml), the compose
overlay that puts the fault proxies in front of the dependencies (docker-compose.chaos.yml) and the
deployment description (aitrapp-deployment.yaml), played here against a stand-in of AITRAPP's compose
project: its services and container names (Redis, Postgres, the API) with the lab's trader as the API and
the broker simulator standing in for Kite. The workflow's own `run:` steps install the drills from this
checkout into a fresh venv, bring the project up, preview the drills with doctor and run them; the
user-level variables the overlay documents are the only things the test sets (this machine has no bridge
network: every service uses the host's, so the stand-in's ports are free ones).

What the stand-in cannot show: building Dockerfile.chaos (no base image can be pulled here: the proxies run
this checkout's code through a local image), a bridge network's DNS names for REDIS_ADDR/POSTGRES_ADDR, and
the control ports published from the API's namespace (host networking has nothing to publish: the one
change made to the overlay is dropping them)."""
from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

import yaml
from dockerkit import POSTGRES_IMAGE, REDIS_IMAGE
from drills.kit import ROOT
from drills.workflows import new_junit_cases, play, shim, sudo_shim

from chaosaitrapp.lab.runtime.config import LabPorts
from chaosaitrapp.lab.runtime.preflight import port_free
from chaosaitrapp.testing.lab import free_ports

EXAMPLES = ROOT / "examples"
PROJECT = "aitrapp"
HOST_IMAGE = "chaosaitrapp/host-python:local"
CHAOS_IMAGE = "chaosaitrapp/host-chaos:local"
#: The drills played: one per way the deployment is acted on (a container stopped, the TCP and the broker
#: fault proxies, the container's cgroup), with the lab's fast deadlines.
DRILLS = "leader_lock postgres_blip network_partition_redis websocket_reconnect cpu_stress"
FAST = {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "20", "OUTAGE_SECONDS": "1.5", "PARTITION_SECONDS": "4",
        "STRESS_SECONDS": "6", "STRESS_ORDERS": "4", "STRESS_WORKERS": "1"}
#: The fixed ports of the overlay (the API's, the proxies' routes, listen and control): the lab's defaults.
OVERLAY_PORTS = (8000, 6380, 5433, 8002, 8003, 8004)


def _images(client) -> None:
    """Two local images that run this machine's Python from a read-only bind of / (no image can be pulled)."""
    venv = Path(sys.executable).parent
    for tag, entrypoint in ((HOST_IMAGE, ["/host/usr/sbin/chroot", "/host"]),
                            (CHAOS_IMAGE, ["/host/usr/sbin/chroot", "/host", str(venv / "aitrapp-chaos")])):
        dockerfile = f"FROM {REDIS_IMAGE}\nUSER root\nENTRYPOINT {entrypoint!r}\nCMD []\n".replace("'", '"')
        client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)


def _stand_in(directory: Path, ports: dict, password: str) -> None:
    """AITRAPP's compose project, stood in for (module docstring), and the test's own overlay giving the
    proxies this machine's Python."""
    python = sys.executable
    host = {"image": HOST_IMAGE, "network_mode": "host", "volumes": ["/:/host:ro"]}
    compose = {"version": "3.8", "services": {
        "postgres": {"image": POSTGRES_IMAGE, "container_name": "aitrapp-postgres", "network_mode": "host",
                     "command": ["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={ports['postgres']}"],
                     "environment": {"POSTGRES_DB": "aitrapp", "POSTGRES_USER": "aitrapp",
                                     "POSTGRES_PASSWORD": password}},
        "redis": {"image": REDIS_IMAGE, "container_name": "aitrapp-redis", "network_mode": "host",
                  "command": ["redis-server", "--bind", "127.0.0.1", "--port", str(ports["redis"])]},
        "kite": {**host, "command": [python, "-m", "chaosaitrapp.lab.broker"],
                 "environment": {"BROKER_HOST": "127.0.0.1", "BROKER_PORT": str(ports["kite"]),
                                 "AITRAPP_LAB_KITE_API_KEY": "examplekey",
                                 "AITRAPP_LAB_KITE_API_SECRET": "example-kite-secret"}},
        "api": {**host, "container_name": "aitrapp-api", "depends_on": ["postgres", "redis", "kite"],
                "command": [python, "-m", "chaosaitrapp.lab.trader"], "restart": "unless-stopped",
                "environment": {"TRADER_PORT": "8000", "KITE_API_KEY": "examplekey",
                                "KITE_API_SECRET": "example-kite-secret", "AITRAPP_LAB_PROFILE": "fast",
                                "PYTHONUNBUFFERED": "1"}},
    }}
    (directory / "docker-compose.yml").write_text(yaml.safe_dump(compose, sort_keys=False))
    overlay = {"version": "3.8", "services": {name: {"volumes": ["/:/host:ro"]} for name in ("broker-proxy", "net-proxy")}}
    (directory / "docker-compose.test.yml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    for name in ("aitrapp-deployment.yaml", "Dockerfile.chaos"):
        shutil.copy(EXAMPLES / name, directory / name)
    # host networking cannot publish ports (the control APIs are on the host's loopback already): the one
    # change made to the overlay
    chaos = yaml.safe_load((EXAMPLES / "docker-compose.chaos.yml").read_text())
    assert chaos["services"]["api"].pop("ports") == ["127.0.0.1:8003:8003", "127.0.0.1:8004:8004"]
    (directory / "docker-compose.chaos.yml").write_text(yaml.safe_dump(chaos, sort_keys=False))


def _shims(directory: Path) -> str:
    """PATH entries: sudo as a pass-through, `python` as this interpreter (setup-python's), and `docker
    compose` as docker-compose where the engine has no compose plugin."""
    docker = shutil.which("docker")
    sudo_shim(directory)
    shim(directory, "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim(directory, "docker", f'#!/bin/sh\nif [ "$1" = compose ] && ! "{docker}" compose version >/dev/null 2>&1; then\n'
                              f'  shift; exec docker-compose "$@"\nfi\nexec "{docker}" "$@"\n')
    return str(directory)


def test_the_example_workflow_runs_the_drills_against_a_compose_deployment(docker_engine, tmp_path):
    busy = [port for port in OVERLAY_PORTS + tuple(LabPorts().as_dict().values()) if not port_free(port)]
    assert not busy, f"the overlay's fixed ports (the lab's defaults) are taken: {busy}"
    workflow = yaml.safe_load((EXAMPLES / "aitrapp-chaos.yml").read_text())
    job = workflow["jobs"]["chaos"]
    repo, bin_dir = tmp_path / "aitrapp", tmp_path / "bin"
    repo.mkdir()
    bin_dir.mkdir()
    ports = dict(zip(["redis", "postgres", "kite"], free_ports(3)))
    password = secrets.token_hex(8)
    _images(docker_engine)
    _stand_in(repo, ports, password)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITRAPP_", "COMPOSE_"))}
    env.update({k: str(v).replace("${{ github.workspace }}", str(repo)) for k, v in job["env"].items()})
    env.update({  # what a team sets for its own deployment: the variables the overlay documents
        "COMPOSE_FILE": env["COMPOSE_FILE"] + ":docker-compose.test.yml", "AITRAPP_CHAOS_IMAGE": CHAOS_IMAGE,
        "REDIS_ADDR": f"127.0.0.1:{ports['redis']}", "POSTGRES_ADDR": f"127.0.0.1:{ports['postgres']}",
        "POSTGRES_PASSWORD": password, "CHAOS_CONTROL_HOST": "127.0.0.1",
        "KITE_UPSTREAM": f"http://127.0.0.1:{ports['kite']}", "KITE_TICKER_UPSTREAM": f"ws://127.0.0.1:{ports['kite']}",
        "DATABASE_URL": f"postgresql://aitrapp:{password}@127.0.0.1:{ports['postgres']}/aitrapp",
        "ORDERS_DATABASE": f"postgresql://aitrapp@127.0.0.1:{ports['postgres']}/aitrapp",
        "ORDER_INJECTOR": "",  # the stand-in takes POST /orders
        "CHAOSAITRAPP": str(ROOT), "AITRAPP_DRILLS": DRILLS, **FAST,
        "PATH": f"{_shims(bin_dir)}:{env['PATH']}"})
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    try:
        played = play(job["steps"], repo, env, reports, set(), timeout=900)
    finally:  # what the workflow's own `compose down` left, removed
        left = docker_engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={PROJECT}"})
        for container in left:
            container.remove(force=True, v=True)
    assert played["failed"] is None, played["failed"]
    doctor = played["outputs"]["Preview the drills"]
    assert "deployment description aitrapp-deployment.yaml" in doctor, doctor
    for line in ("stops redis: docker:redis (project aitrapp)", "stops postgres: docker:postgres (project aitrapp)",
                 "through the TCP fault proxy http://127.0.0.1:8004, route redis",
                 "at the broker fault proxy http://127.0.0.1:8003", "stresses docker:api@aitrapp (pid "):
        assert line in doctor, f"doctor does not say {line!r}:\n{doctor}"
    # the timing through the Redis container: to be learned, or learned already (the stall drills' preview does)
    assert re.search(r"lock timing will be learned from the lock key through docker:redis@aitrapp|"
                     r"lock_ttl \S+ s \(learned from PTTL trader:leader through docker:redis@aitrapp", doctor), doctor
    cases = new_junit_cases(reports, set())
    assert sorted(cases) == sorted(DRILLS.split()), sorted(cases)
    failures = {n: c.find("failure").get("message") for n, c in cases.items() if c.find("failure") is not None}
    assert not failures, failures
    evidence = next(reports.glob("leader_lock_2*.log")).read_text()  # the seed log, not Chaos Toolkit's
    assert "target_lock_ttl_source,learned from PTTL" in evidence, "the lock timing was learned in the container"
    assert (repo / "reports" / "compose.log").stat().st_size > 0, "the services' logs are kept for the upload"
    assert not left, f"the workflow left containers of the project: {[c.name for c in left]}"
    assert not any(password in p.read_text(errors="replace") for p in reports.rglob("*") if p.is_file()), \
        "the database password is in the evidence"
