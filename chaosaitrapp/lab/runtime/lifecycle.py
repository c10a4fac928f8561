"""``lab_up``, ``lab_down``, ``lab_status``, ``lab_logs``: the lab's whole life.

``lab_up`` starts Redis, Postgres, the TCP fault proxy in front of them, the broker simulator, the
broker fault proxy in front of it and the trader, then the trader's replicas when more than one
was asked for (standbys contending for the leader lock; in that order, each waited on with a deadline), records them in ``<lab_dir>/lab.json`` after every step (so a failed
start is torn down completely) and returns once the trader's ``/ready`` is 200. It is
idempotent: a healthy lab with the same configuration is returned as it is; a lab with another
configuration (or a broken one) is brought down first.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote

import docker
import psycopg
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from chaosaitrapp.aitrapp import LOCK_KEY
from chaosaitrapp.errors import TargetError
from chaosaitrapp.lab.broker.settings import DEFAULT_API_KEY, DEFAULT_API_SECRET
from chaosaitrapp.lab.errors import LabError, LabStartTimeout
from chaosaitrapp.lab.profiles import HEARTBEAT_MAX, get_profile
from chaosaitrapp.lab.runtime import docker_services, processes
from chaosaitrapp.lab.runtime.apps import broker_spec, netproxy_spec, proxy_spec, secrets_for, trader_spec
from chaosaitrapp.lab.runtime.config import DB_NAME, DB_USER, LabConfig, clock_file
from chaosaitrapp.lab.runtime.description import remove_lab_description, write_lab_description
from chaosaitrapp.lab.runtime.postgres_process import (
    init_cluster,
    mount_volume,
    postgres_spec,
    unmount_volume,
    volume_size_mb,
)
from chaosaitrapp.lab.runtime.preflight import check_ports, postgres_bindir, redis_server
from chaosaitrapp.lab.runtime.redis_process import redis_spec
from chaosaitrapp.targets.answers import postgres_answers, redis_answers
from chaosaitrapp.targets.cgroups import from_dict, make_cgroup, to_dict
from chaosaitrapp.targets.labstate import LabState, ServiceSpec, clear_state, load_state, save_state
from chaosaitrapp.waiting import wait_until

log = logging.getLogger("chaosaitrapp.lab.runtime")

SERVICE_ORDER = ("redis", "postgres", "net_proxy", "broker", "broker_proxy", "trader")


def _service_order(services: Dict[str, Any]) -> list:
    """The lab's services in start order, the replicas (``trader_1``, ...) after the first trader."""
    replicas = sorted((n for n in services if n.startswith("trader_")), key=lambda n: int(n.split("_")[1]))
    return list(SERVICE_ORDER) + replicas


def _wait(condition: Callable[[], bool], timeout: float, what: str, spec: Optional[ServiceSpec] = None,
          interval: float = 0.05) -> None:
    """Wait until ``condition()`` holds; LabError at once when ``spec``'s process exits meanwhile,
    LabStartTimeout (pointing at its log) at the deadline."""

    def observe() -> bool:
        if condition():
            return True
        if spec is not None and spec.kind == "process" and processes.exited(spec):
            output = (processes.output_since_launch(spec, 15)
                      or "(none since it was launched: it printed nothing, so it was likely killed by a signal)")
            raise LabError(f"lab service {spec.name} exited while starting; its log since launch:\n{output}",
                           service=spec.name, fatal=True)
        return False

    if not wait_until(observe, bool, timeout=timeout, interval=interval, what=what).held:
        hint = f"; see {spec.log}" if spec is not None and spec.log else ""
        raise LabStartTimeout(f"{what} did not happen within {timeout:.0f}s{hint}", what=what)


def kite_api_key() -> str:
    """The lab Kite app's api key: ``$AITRAPP_LAB_KITE_API_KEY``, else the documented lab default."""
    return os.environ.get("AITRAPP_LAB_KITE_API_KEY") or DEFAULT_API_KEY


def kite_api_secret() -> str:
    """Its api secret: ``$AITRAPP_LAB_KITE_API_SECRET``, else the documented lab default (never stored)."""
    return os.environ.get("AITRAPP_LAB_KITE_API_SECRET") or DEFAULT_API_SECRET


def tail(path: Optional[str], lines: int) -> str:
    """The last ``lines`` lines of the file at ``path`` ('' when absent)."""
    if not path:
        return ""
    try:
        with open(path, "r", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except FileNotFoundError:
        return ""


def _http_ok(url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 1.0) -> bool:
    try:
        return requests.get(url, timeout=timeout, headers=headers or {}).status_code == 200
    except requests.RequestException:
        return False


def _pg_login_ok(port: int, password: str) -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=port, user=DB_USER, password=password, dbname=DB_NAME,
                        connect_timeout=2).close()
        return True
    except psycopg.Error:
        return False


def _clear_stale_lock(port: int) -> None:
    """Delete a leader key left by a trader of an earlier lab (the new trader has a new id and
    would otherwise wait out the old TTL at start; Redis restarts under a running trader keep the quirk)."""

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.delete(LOCK_KEY)
    finally:
        client.close()


def _same_config(state: LabState, config: LabConfig) -> bool:
    public = config.public()
    return (state.runtime == config.runtime and state.profile == config.profile
            and sorted(state.defects) == public["defects"] and state.ports == public["ports"]
            and getattr(state, "mode", "PAPER") == config.mode
            and getattr(state, "api_key_required", False) == public["api_key_required"]
            and len(state.replicas or [None]) == config.replicas
            and [[int(r["api"].rsplit(":", 1)[1]), int(r.get("redis_port") or 0)] for r in state.replicas[1:]]
            == public["replica_ports"]
            and (state.limits or {"cpu": None, "memory": None}) == public["limits"]
            and bool(state.services.get("trader") and state.services["trader"].env.get("AITRAPP_WALL_CLOCK_FILE"))
            == config.fake_clock
            and volume_size_mb(config.lab_dir) == int(config.pg_volume_mb or 0))


def _healthy(state: LabState, api_key: Optional[str]) -> bool:
    for name in list(SERVICE_ORDER) + [r["service"] for r in state.replicas[1:]]:
        spec = state.services.get(name)
        if spec is None:
            return False
        if spec.kind == "process" and processes.running_pid(spec) is None:
            return False
    headers = {"X-API-Key": api_key} if api_key else {}
    return _http_ok(state.api + "/ready", headers)


def lab_up(config: LabConfig) -> LabState:
    """Bring the lab up as ``config`` says and return its state once ``/ready`` is 200.

    Raises ValueError/ConfigError for a bad config (unknown defect, profile...), PortInUse or
    BinaryMissing before starting anything, LabStartTimeout/LabError when a service fails to
    start (everything started is stopped again).
    """
    config.validate()
    lab_dir = config.lab_dir
    existing = load_state(lab_dir)
    if existing is not None:
        if _same_config(existing, config) and _healthy(existing, config.api_key):
            log.info("lab already up in %s with the same configuration", lab_dir)
            write_lab_description(existing, lab_dir)
            return existing
        log.info("lab in %s differs or is unhealthy: bringing it down first", lab_dir)
        lab_down(lab_dir)

    profile = get_profile(config.profile)
    ports = config.ports.as_dict()
    if config.runtime == "process":
        redis_server()
        postgres_bindir()
    check_ports(config.all_ports())

    lab_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "logs"):
        (lab_dir / sub).mkdir(exist_ok=True)
    started_at = time.time()
    redis_url = f"redis://127.0.0.1:{ports['redis']}/0"
    database_url = f"postgresql://{DB_USER}@127.0.0.1:{ports['postgres']}/{DB_NAME}"
    # the trader reaches Redis and Postgres through the TCP fault proxy's routes; the lab's own
    # record (and the extension's probes) name the real ports
    trader_redis_url = f"redis://127.0.0.1:{ports['redis_proxy']}/0"
    trader_database_url = f"postgresql://{DB_USER}@127.0.0.1:{ports['postgres_proxy']}/{DB_NAME}"
    trader_full_database_url = (f"postgresql://{DB_USER}:{quote(config.db_password, safe='')}"
                                f"@127.0.0.1:{ports['postgres_proxy']}/{DB_NAME}")
    state = LabState(runtime=config.runtime, profile=config.profile, api=f"http://127.0.0.1:{ports['trader']}",
                     redis_url=redis_url, database_url=database_url, services={}, defects=list(config.defects),
                     timings=profile.timings(HEARTBEAT_MAX), started_at=started_at, mode=config.mode,
                     api_key_required=bool(config.api_key), lab_dir=str(lab_dir), ports=dict(ports),
                     endpoints={"kite_root": f"http://127.0.0.1:{ports['kite']}",
                                "kite_ticker_root": f"ws://127.0.0.1:{ports['kite']}",
                                "kite_api_key": kite_api_key(),
                                "broker_proxy": f"http://127.0.0.1:{ports['proxy_control']}",
                                "broker": f"http://127.0.0.1:{ports['broker']}",
                                "net_proxy": f"http://127.0.0.1:{ports['net_control']}",
                                "redis_via_proxy": f"127.0.0.1:{ports['redis_proxy']}",
                                "postgres_via_proxy": f"127.0.0.1:{ports['postgres_proxy']}"})
    lab_id = os.urandom(3).hex()
    state.replicas = [{"name": "r0", "api": state.api, "service": "trader", "redis_route": "redis",
                       "redis_port": str(ports["redis_proxy"]), "instance_id": f"r0-{lab_id}"}]
    for i, (api_port, route_port) in enumerate(config.replica_ports, start=1):
        state.replicas.append({"name": f"r{i}", "api": f"http://127.0.0.1:{api_port}", "service": f"trader_{i}",
                               "redis_route": f"redis_{i}", "redis_port": str(route_port),
                               "instance_id": f"r{i}-{lab_id}"})
    state.limits = config.limits()

    def cgroup_for(service: str) -> Optional[List[str]]:
        """Make ``service``'s own cgroup with the limits (none asked: None) and note it in the state."""
        if state.limits["cpu"] is None and state.limits["memory"] is None:
            return None

        group = make_cgroup(f"aitrapp-lab-{lab_id}-{service}", state.limits["cpu"], state.limits["memory"])
        state.cgroups[service] = to_dict(group)
        save_state(state, lab_dir)
        return group.procs_files()

    launch_secrets = dict(broker_secret=kite_api_secret(), database_url_with_password=trader_full_database_url,
                          api_key=config.api_key)
    try:
        # Redis and Postgres
        if config.runtime == "docker":
            state.services["redis"] = docker_services.start_redis(lab_dir, ports["redis"], config.images["redis"])
            save_state(state, lab_dir)
            state.services["postgres"] = docker_services.start_postgres(
                lab_dir, ports["postgres"], config.images["postgres"], DB_USER, config.db_password, DB_NAME)
            save_state(state, lab_dir)
        else:
            spec = redis_spec(lab_dir, ports["redis"])
            state.services["redis"] = spec
            save_state(state, lab_dir)
            processes.launch(spec)
            if config.pg_volume_mb:
                mount_volume(lab_dir, int(config.pg_volume_mb))
            init_cluster(lab_dir, DB_USER, config.db_password, DB_NAME)
            spec_pg = postgres_spec(lab_dir, ports["postgres"])
            state.services["postgres"] = spec_pg
            save_state(state, lab_dir)
            processes.launch(spec_pg)
            _wait(lambda: redis_answers("127.0.0.1", ports["redis"]), 20, "Redis answering PING", spec)
        _wait(lambda: redis_answers("127.0.0.1", ports["redis"]), 60, "Redis answering PING")
        _clear_stale_lock(ports["redis"])
        _wait(lambda: postgres_answers("127.0.0.1", ports["postgres"])
              and _pg_login_ok(ports["postgres"], config.db_password),
              90, "Postgres accepting the trader's login", state.services["postgres"])

        # the TCP fault proxy in front of Redis and Postgres
        routes = {"redis": (ports["redis_proxy"], ports["redis"]), "postgres": (ports["postgres_proxy"], ports["postgres"])}
        for replica in state.replicas[1:]:  # each replica its own route to Redis: one can be cut alone
            routes[replica["redis_route"]] = (int(replica["redis_port"]), ports["redis"])
        spec_n = netproxy_spec(lab_dir, ports["net_control"], routes)
        state.services["net_proxy"] = spec_n
        save_state(state, lab_dir)
        processes.launch(spec_n)

        # broker, the fault proxy in front of it, and the trader behind the proxies
        spec_b = broker_spec(lab_dir, ports["broker"], profile, kite_api_key())
        state.services["broker"] = spec_b
        save_state(state, lab_dir)
        processes.launch(spec_b, secrets_for("broker", **launch_secrets))
        spec_p = proxy_spec(lab_dir, ports["kite"], ports["proxy_control"], ports["broker"])
        state.services["broker_proxy"] = spec_p
        save_state(state, lab_dir)
        processes.launch(spec_p)
        spool = str(lab_dir / "spool") if config.order_intake == "spool" else ""
        spec_t = trader_spec(lab_dir, ports["trader"], profile=profile, mode=config.mode, defects=config.defects,
                             redis_url=trader_redis_url, database_url=trader_database_url, kite_port=ports["kite"],
                             api_key=kite_api_key(), instance_id=state.replicas[0]["instance_id"],
                             cgroup_procs=cgroup_for("trader"), order_spool=spool,
                             clock_file=str(clock_file(lab_dir)) if config.fake_clock else "")
        state.services["trader"] = spec_t
        save_state(state, lab_dir)
        _wait(lambda: _http_ok(f"http://127.0.0.1:{ports['broker']}/health"), 30, "broker /health 200", spec_b)
        _wait(lambda: _http_ok(f"http://127.0.0.1:{ports['proxy_control']}/health"), 30, "broker proxy /health 200",
              spec_p)
        _wait(lambda: _http_ok(f"http://127.0.0.1:{ports['net_control']}/health"), 30, "TCP proxy /health 200", spec_n)
        processes.launch(spec_t, secrets_for("trader", **launch_secrets))
        headers = {"X-API-Key": config.api_key} if config.api_key else {}
        _wait(lambda: _http_ok(state.api + "/ready", headers), config.ready_timeout, "trader /ready 200", spec_t)
        # the standbys, started once the first trader leads (so it is the leader a drill finds)
        for replica in state.replicas[1:]:
            spec_r = trader_spec(lab_dir, int(replica["api"].rsplit(":", 1)[1]), profile=profile, mode=config.mode,
                                 defects=config.defects, redis_url=f"redis://127.0.0.1:{replica['redis_port']}/0",
                                 database_url=trader_database_url, kite_port=ports["kite"], api_key=kite_api_key(),
                                 name=replica["service"], instance_id=replica["instance_id"],
                                 cgroup_procs=cgroup_for(replica["service"]), order_spool=spool,
                                 clock_file=str(clock_file(lab_dir, replica["service"])) if config.fake_clock else "")
            state.services[replica["service"]] = spec_r
            save_state(state, lab_dir)
            processes.launch(spec_r, secrets_for("trader", **launch_secrets))
        for replica in state.replicas[1:]:
            spec_r = state.services[replica["service"]]
            _wait(lambda: _http_ok(replica["api"] + "/health", headers), config.ready_timeout,
                  f"replica {replica['name']} /health 200", spec_r)
    except BaseException:
        try:
            lab_down(lab_dir)
        except Exception as exc:  # keep the original error; report the cleanup trouble in the log
            log.error("cleanup after a failed lab start failed: %s", exc)
        raise
    save_state(state, lab_dir)
    write_lab_description(state, lab_dir)
    return state


def lab_down(lab_dir: Path) -> None:
    """Stop every lab service in ``lab_dir`` (trader first), verify no pid survives, remove ``lab.json``.

    Works from ``lab.json`` (written after every step of ``lab_up``, so a half-started lab is
    covered too); without ``lab.json`` there is nothing to stop. A pid that no longer runs its
    service's program is left alone (recycled pid).
    """
    lab_dir = Path(lab_dir)
    state = load_state(lab_dir)
    services: Dict[str, ServiceSpec] = dict(state.services) if state else {}
    errors = []
    for name in reversed(_service_order(services)):
        spec = services.get(name)
        if spec is None or spec.kind != "process":
            continue
        try:
            processes.stop(spec)
        except LabError as exc:
            errors.append(str(exc))
    docker_specs = [s for s in services.values() if s.kind == "docker"]
    if docker_specs and state is not None:
        docker_services.remove_services(state)
    survivors = {name: processes.running_pid(spec) for name, spec in services.items() if spec.kind == "process"}
    survivors = {name: pid for name, pid in survivors.items() if pid is not None}

    for name, group in (state.cgroups if state else {}).items():
        try:
            from_dict(group).remove()
        except TargetError as exc:
            errors.append(f"{name}: {exc}")
    if not survivors.get("postgres"):
        try:
            unmount_volume(lab_dir)
        except LabError as exc:
            errors.append(str(exc))
    if survivors or errors:
        raise LabError(f"lab down in {lab_dir} left processes running: {survivors} {'; '.join(errors)}",
                       survivors=survivors)
    for spec in services.values():
        if spec.pidfile:
            Path(spec.pidfile).unlink(missing_ok=True)
    remove_lab_description(lab_dir)
    clear_state(lab_dir)


def lab_status(lab_dir: Path) -> Dict[str, Any]:
    """What runs in ``lab_dir``: ``{"up", "lab_dir", "api", "profile", "runtime", "defects", "mode",
    "services": {name: {"kind", "port", "pid", "running", "answers"}}, "health", "leader", "broker"}``;
    ``broker`` names the Kite REST root, ticker URL and api key the trader uses (through the fault
    proxy), the proxy's control URL and the simulator's own address; never a secret or a token."""
    lab_dir = Path(lab_dir)
    state = load_state(lab_dir)
    if state is None:
        return {"up": False, "lab_dir": str(lab_dir), "services": {}}
    services: Dict[str, Any] = {}
    for name, spec in state.services.items():
        pid = processes.running_pid(spec) if spec.kind == "process" else None
        if spec.check == "redis":
            answers = redis_answers(spec.host, spec.port, timeout=2.0)
        elif spec.check == "postgres":
            answers = postgres_answers(spec.host, spec.port, timeout=2.0)
        else:
            answers = _http_ok(f"http://{spec.host}:{spec.port}/health", timeout=2.0)
        services[name] = {"kind": spec.kind, "port": spec.port, "pid": pid, "container": spec.container,
                          "running": pid is not None if spec.kind == "process" else answers, "answers": answers}
    health, leader = None, None
    try:
        health = requests.get(state.api + "/health", timeout=1.0).json()

        text = requests.get(state.api + "/metrics", timeout=1.0).text
        for family in text_string_to_metric_families(text):
            if family.name == "trader_is_leader":
                leader = max((s.value for s in family.samples), default=None)
    except Exception:
        pass
    return {"up": all(s["answers"] for s in services.values()), "lab_dir": str(lab_dir), "api": state.api,
            "profile": state.profile, "runtime": state.runtime, "defects": state.defects,
            "mode": getattr(state, "mode", None), "started_at": state.started_at, "timings": state.timings,
            "services": services, "health": health, "leader": leader, "broker": dict(state.endpoints)}


def lab_logs(lab_dir: Path, service: str, lines: int = 50) -> str:
    """The last ``lines`` lines of ``service``'s log (``redis``, ``postgres``, ``net_proxy``, ``broker``,
    ``broker_proxy``, ``trader``)."""
    lab_dir = Path(lab_dir)
    state = load_state(lab_dir)
    spec = state.services.get(service) if state else None
    if spec is None:
        path = lab_dir / "logs" / f"{service}.log"
        if service not in SERVICE_ORDER:
            raise LabError(f"unknown lab service {service!r}; known: {', '.join(SERVICE_ORDER)}", service=service)
        return tail(str(path), lines)
    if spec.kind == "docker":
        try:
            raw = docker.from_env().containers.get(spec.container).logs(tail=lines)
            return raw.decode(errors="replace")
        except Exception as exc:
            raise LabError(f"logs of container {spec.container!r}: {exc}", service=service) from None
    return tail(spec.log, lines)
