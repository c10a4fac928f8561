"""A target deployed by hand, as a team runs its own AITRAPP: no lab runtime, no lab state file.

Redis is a plain daemonized ``redis-server`` with its own pidfile; Postgres is a container (host networking,
compose-style labels, its data on a tmpfs of its own bind-mounted into it: the volume the disk-full drill fills); the TCP and broker fault proxies are started with ``aitrapp-chaos proxy net|broker
--pidfile``; the broker simulator and the trader(s) are started as plain processes with their own settings
(lock timing and Redis timeout of their own when asked). The drills know it only through the deployment
description this module writes (``deployment.yaml``): nothing reads a lab's state.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import psycopg
import requests
from dockerkit import POSTGRES_IMAGE, TEST_LABEL

from chaosaitrapp.description import Description, dump
from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.cgroups import Cgroup, make_cgroup, parse_size
from chaosaitrapp.targets.process import ProcessDriver, read_pid_quietly
from chaosaitrapp.targets.wallclock import build_shim, wallclock_env
from chaosaitrapp.testing.lab import free_ports
from chaosaitrapp.testing.waits import wait_for

AITRAPP_CHAOS = str(Path(sys.executable).with_name("aitrapp-chaos"))
#: The size of Postgres' data volume (a tmpfs): room for the cluster, little enough to fill in a moment.
PG_VOLUME_MB = 192
KITE_KEY, KITE_SECRET = "deployedkey", "deployed-kite-secret"


@dataclass
class Deployed:
    """What :func:`deploy` started: its folder, API, description, the drill's environment and how to stop it."""

    directory: Path
    api: str
    description: Path
    env: Dict[str, str]
    pidfiles: Dict[str, Path] = field(default_factory=dict)
    container: Any = None
    replica_apis: List[str] = field(default_factory=list)
    cgroup: Optional[Cgroup] = None
    pg_volume: Optional[Path] = None  # Postgres' data, a tmpfs of its own bind-mounted into its container

    def pid(self, name: str) -> Optional[int]:
        """The pid of service ``name`` now."""
        return read_pid_quietly(self.pidfiles[name])

    def down(self) -> None:
        """Stop every process by its pidfile (the trader first) and remove the container."""
        for name in sorted(self.pidfiles, key=lambda n: (not n.startswith("trader"), n)):
            ProcessDriver(str(self.pidfiles[name])).stop(10)
        if self.container is not None:
            self.container.remove(force=True, v=True)
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.pg_volume is not None and os.path.ismount(self.pg_volume):
            subprocess.run(["umount", str(self.pg_volume)], check=False, timeout=30)


def _launch(argv: List[str], env: Dict[str, str], log: Path, pidfile: Optional[Path] = None,
            cwd: Optional[Path] = None) -> int:
    """Start a service in a session of its own, its output in ``log``; writes its pid to ``pidfile``."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env={"PATH": os.environ["PATH"], **env}, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(cwd) if cwd else None)
    if pidfile is not None:
        pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def deploy(directory: Path, docker_client: Any, *, replicas: int = 1, defects: List[str] = (),
           lock_ttl: Optional[float] = None, lock_refresh: Optional[float] = None,
           redis_timeout: Optional[float] = None, describe_timing: bool = False,
           cpu_limit: Optional[float] = None, memory_limit: Optional[str] = None, clock: bool = False) -> Deployed:
    """Deploy the target into ``directory`` (module docstring). ``lock_ttl``/``lock_refresh``/``redis_timeout``:
    the trader's own timing (default: the lab's fast profile); ``describe_timing``: write that timing into the
    description (default: the drills learn it from the lock key); ``cpu_limit``/``memory_limit``: the trader runs in
    a cgroup of its own with that CPU quota (cores) or memory limit ("256M"), as under a systemd unit's
    ``CPUQuota``/``MemoryMax``; ``clock``: the trader started with the wall-clock shim (the environment
    ``aitrapp-chaos clock-shim`` prints) reading ``<directory>/trader.offset``, named as ``clock_file``."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o711)
    (redis_dir := directory / "redis").mkdir(exist_ok=True)
    drawn = free_ports(9 + 2 * (replicas - 1))  # one draw: every port distinct from every other
    ports = dict(zip(["redis", "postgres", "redis_route", "postgres_route", "net_control", "broker", "kite",
                      "kite_control", "trader"], drawn[:9]))
    replica_ports = drawn[9:]
    password = secrets.token_hex(8)
    deployed = Deployed(directory, f"http://127.0.0.1:{ports['trader']}", directory / "deployment.yaml", {})
    try:
        # Redis: a plain process, daemonized, with its own pidfile
        deployed.pidfiles["redis"] = directory / "redis.pid"
        subprocess.run([shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(ports["redis"]),
                        "--save", "", "--daemonize", "yes", "--pidfile", str(deployed.pidfiles["redis"]),
                        "--dir", str(redis_dir), "--logfile", str(directory / "redis.log")], check=True, timeout=20)
        wait_for(lambda: redis_answers("127.0.0.1", ports["redis"]), timeout=20, what="Redis")
        # Postgres: a container, labelled as compose labels its services; its data on a tmpfs of its own (a volume
        # the disk-full drill may fill, as a user names a compose volume's host path)
        project = f"deployed{uuid.uuid4().hex[:6]}"
        (pg_volume := directory / "pgdata").mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={PG_VOLUME_MB}m", "tmpfs", str(pg_volume)], check=True,
                       timeout=30)
        deployed.pg_volume = pg_volume
        deployed.container = docker_client.containers.run(
            POSTGRES_IMAGE, command=["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={ports['postgres']}"],
            name=f"{project}-postgres-1", network_mode="host", detach=True,
            volumes={str(pg_volume): {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
            environment={"POSTGRES_USER": "trader", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "aitrapp"},
            labels={TEST_LABEL: "deployed", "com.docker.compose.project": project,
                    "com.docker.compose.service": "postgres"})

        def pg_ok() -> bool:
            try:
                psycopg.connect(host="127.0.0.1", port=ports["postgres"], user="trader", password=password,
                                dbname="aitrapp", connect_timeout=2).close()
                return True
            except psycopg.Error:
                return False

        wait_for(pg_ok, timeout=90, what="Postgres in its container")
        # the TCP fault proxy in front of Redis and Postgres (each replica its own route to Redis)
        routes = ["--route", f"redis={ports['redis_route']}:127.0.0.1:{ports['redis']}",
                  "--route", f"postgres={ports['postgres_route']}:127.0.0.1:{ports['postgres']}"]
        replica_routes = ["redis"]
        for i in range(1, replicas):
            routes += ["--route", f"redis_{i}={replica_ports[2 * i - 2]}:127.0.0.1:{ports['redis']}"]
            replica_routes.append(f"redis_{i}")
        deployed.pidfiles["net_proxy"] = directory / "net_proxy.pid"
        _launch([AITRAPP_CHAOS, "proxy", "net", *routes, "--control", f"127.0.0.1:{ports['net_control']}",
                 "--pidfile", str(deployed.pidfiles["net_proxy"])], {}, directory / "net_proxy.log")
        # the broker simulator and the broker fault proxy in front of it
        deployed.pidfiles["broker"] = directory / "broker.pid"
        _launch([sys.executable, "-m", "chaosaitrapp.lab.broker"],
                {"BROKER_HOST": "127.0.0.1", "BROKER_PORT": str(ports["broker"]), "BROKER_RATE_LIMIT": "10",
                 "BROKER_TOKEN_TTL": "120", "AITRAPP_LAB_KITE_API_KEY": KITE_KEY,
                 "AITRAPP_LAB_KITE_API_SECRET": KITE_SECRET}, directory / "broker.log", deployed.pidfiles["broker"])
        deployed.pidfiles["broker_proxy"] = directory / "broker_proxy.pid"
        _launch([AITRAPP_CHAOS, "proxy", "broker", "--listen", f"127.0.0.1:{ports['kite']}",
                 "--control", f"127.0.0.1:{ports['kite_control']}", "--upstream", f"http://127.0.0.1:{ports['broker']}",
                 "--ticker-upstream", f"ws://127.0.0.1:{ports['broker']}",
                 "--pidfile", str(deployed.pidfiles["broker_proxy"])], {}, directory / "broker_proxy.log")
        for url in (f"http://127.0.0.1:{ports['broker']}/health", f"http://127.0.0.1:{ports['kite_control']}/health",
                    f"http://127.0.0.1:{ports['net_control']}/health"):
            wait_for(lambda u=url: _ok(u), timeout=30, what=url)
        # the trader and its replicas, each with its own settings
        apis = [deployed.api] + [f"http://127.0.0.1:{replica_ports[2 * i - 1]}" for i in range(1, replicas)]
        instance_ids = [f"dep{i}-{uuid.uuid4().hex[:6]}" for i in range(replicas)]
        targets = []
        for i, api in enumerate(apis):
            name = "trader" if i == 0 else f"trader_{i}"
            route_port = ports["redis_route"] if i == 0 else replica_ports[2 * i - 2]
            env = {"TRADER_HOST": "127.0.0.1", "TRADER_PORT": api.rsplit(":", 1)[1],
                   "REDIS_URL": f"redis://127.0.0.1:{route_port}/0",
                   "DATABASE_URL": f"postgresql://trader:{password}@127.0.0.1:{ports['postgres_route']}/aitrapp",
                   "KITE_ROOT": f"http://127.0.0.1:{ports['kite']}", "KITE_TICKER_ROOT": f"ws://127.0.0.1:{ports['kite']}",
                   "KITE_API_KEY": KITE_KEY, "KITE_API_SECRET": KITE_SECRET, "TRADER_MODE": "PAPER",
                   "AITRAPP_LAB_PROFILE": "fast", "AITRAPP_LAB_DEFECTS": ",".join(sorted(defects)),
                   "TRADER_INSTANCE_ID": instance_ids[i], "PYTHONUNBUFFERED": "1"}
            for var, figure in (("AITRAPP_LAB_LOCK_TTL", lock_ttl), ("AITRAPP_LAB_LOCK_REFRESH", lock_refresh),
                                ("AITRAPP_LAB_REDIS_TIMEOUT", redis_timeout)):
                if figure is not None:
                    env[var] = str(figure)
            if clock and i == 0:
                env.update(wallclock_env(directory / "trader.offset", build_shim(directory / "shim")))
            deployed.pidfiles[name] = directory / f"{name}.pid"
            pid = _launch([sys.executable, "-m", "chaosaitrapp.lab.trader"], env, directory / f"{name}.log",
                          deployed.pidfiles[name], cwd=directory)
            if (cpu_limit is not None or memory_limit is not None) and i == 0:
                deployed.cgroup = make_cgroup(f"{project}-trader", cpu=cpu_limit,
                                              memory=parse_size(memory_limit) if memory_limit else None)
                deployed.cgroup.add(pid)
            targets.append(f"process:{deployed.pidfiles[name]}")
            wait_for(lambda a=api: _ok(a + ("/ready" if a == deployed.api else "/health")), timeout=60,
                     what=f"{name} up")
        deployed.replica_apis = apis[1:]
        values: Dict[str, Any] = {
            "api": deployed.api,
            "redis_target": f"process:{deployed.pidfiles['redis']}",
            "postgres_target": f"docker:postgres@{project}",
            "broker_proxy": f"http://127.0.0.1:{ports['kite_control']}",
            "broker_proxy_target": f"process:{deployed.pidfiles['broker_proxy']}",
            "net_proxy": f"http://127.0.0.1:{ports['net_control']}",
            "net_proxy_target": f"process:{deployed.pidfiles['net_proxy']}",
            "target_process": f"process:{deployed.pidfiles['trader']}",
            "orders_database": f"postgresql://trader@127.0.0.1:{ports['postgres']}/aitrapp",
        }
        if clock:
            values["clock_file"] = str(directory / "trader.offset")
        if replicas > 1:
            values.update(replicas=",".join(apis[1:]), replica_targets=",".join(targets),
                          replica_redis_routes=",".join(replica_routes))
        if describe_timing:
            values.update(lock_ttl=lock_ttl or 3.0, lock_refresh=lock_refresh or 0.5, lock_backoff_max=2.1)
        dump(Description(values, {"database_url": {"type": "env", "key": "DEPLOYED_DATABASE_URL"}},
                         provider="the test, by hand"), deployed.description)
        deployed.env = {"AITRAPP_DEPLOYMENT": str(deployed.description),
                        "DEPLOYED_DATABASE_URL": f"postgresql://trader:{password}@127.0.0.1:{ports['postgres']}/aitrapp"}
        return deployed
    except BaseException:
        deployed.down()
        raise


@contextmanager
def deployed_target(docker_client: Any, **kwargs: Any) -> Iterator[Deployed]:
    """A target deployed (:func:`deploy` with ``kwargs``) into a fresh folder, torn down and removed on exit."""
    directory = Path(tempfile.mkdtemp(prefix="aitrapp-deployed-"))
    try:
        deployed = deploy(directory, docker_client, **kwargs)
        try:
            yield deployed
        finally:
            deployed.down()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def stop_signal_everything(deployed: Deployed) -> None:
    """SIGKILL every process of ``deployed`` (a last resort when ``down`` itself failed)."""
    for path in deployed.pidfiles.values():
        pid = read_pid_quietly(path)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
