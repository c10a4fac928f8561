"""The lab's own Python services as processes: the TCP fault proxy in front of Redis and Postgres, the
broker simulator, the broker fault proxy in front of it, and the trader (which reaches all three
through the proxies).

Their ServiceSpecs hold no secret: the Kite api secret, the API key and the database URL with its
password are passed at launch through :func:`secrets_for` only. Restarting the trader from
``lab.json`` alone therefore needs ``DATABASE_URL`` (and ``API_SECRET_KEY`` if one was set) in the
caller's environment. The proxy holds no secret at all, so the fault ledger can restart it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Optional

from chaosaitrapp.lab.profiles import HEARTBEAT_MAX, Profile
from chaosaitrapp.targets.labstate import ServiceSpec
from chaosaitrapp.targets.wallclock import wallclock_env


def broker_spec(lab_dir: Path, port: int, profile: Profile, api_key: str) -> ServiceSpec:
    """The broker simulator's ServiceSpec."""
    env = {"BROKER_HOST": "127.0.0.1", "BROKER_PORT": str(port), "BROKER_RATE_LIMIT": "10",
           "BROKER_TOKEN_TTL": str(profile.broker_token_ttl), "AITRAPP_LAB_KITE_API_KEY": api_key,
           "PYTHONUNBUFFERED": "1"}
    return ServiceSpec(name="broker", kind="process", host="127.0.0.1", port=port, check="http",
                       pidfile=str(lab_dir / "run" / "broker.pid"),
                       argv=[sys.executable, "-m", "chaosaitrapp.lab.broker"], env=env, cwd=str(lab_dir),
                       log=str(lab_dir / "logs" / "broker.log"))


def proxy_spec(lab_dir: Path, port: int, control_port: int, broker_port: int) -> ServiceSpec:
    """The broker fault proxy's ServiceSpec: it listens on ``port`` (the trader's Kite roots), takes
    faults on ``control_port`` and forwards to the simulator on ``broker_port``."""
    argv = [sys.executable, "-m", "chaosaitrapp.broker.proxy", "--listen", f"127.0.0.1:{port}",
            "--control", f"127.0.0.1:{control_port}", "--upstream", f"http://127.0.0.1:{broker_port}",
            "--ticker-upstream", f"ws://127.0.0.1:{broker_port}"]
    return ServiceSpec(name="broker_proxy", kind="process", host="127.0.0.1", port=control_port, check="http",
                       pidfile=str(lab_dir / "run" / "broker_proxy.pid"), argv=argv, env={"PYTHONUNBUFFERED": "1"},
                       cwd=str(lab_dir), log=str(lab_dir / "logs" / "broker_proxy.log"))


def netproxy_spec(lab_dir: Path, control_port: int, routes: Dict[str, tuple]) -> ServiceSpec:
    """The TCP fault proxy's ServiceSpec: ``routes`` maps a name to ``(listen_port, upstream_port)`` on
    loopback (the trader's Redis and Postgres); faults on ``control_port``. No secret."""
    argv = [sys.executable, "-m", "chaosaitrapp.network.proxy", "--control", f"127.0.0.1:{control_port}"]
    for name, (listen, upstream) in routes.items():
        argv += ["--route", f"{name}={listen}:127.0.0.1:{upstream}"]
    return ServiceSpec(name="net_proxy", kind="process", host="127.0.0.1", port=control_port, check="http",
                       pidfile=str(lab_dir / "run" / "net_proxy.pid"), argv=argv, env={"PYTHONUNBUFFERED": "1"},
                       cwd=str(lab_dir), log=str(lab_dir / "logs" / "net_proxy.log"))


def trader_spec(lab_dir: Path, port: int, *, profile: Profile, mode: str, defects: list, redis_url: str,
                database_url: str, kite_port: int, api_key: str, name: str = "trader",
                instance_id: str = "", cgroup_procs: Optional[List[str]] = None, order_spool: str = "",
                clock_file: str = "") -> ServiceSpec:
    """The trader's ServiceSpec (``database_url`` without password; Kite roots on ``kite_port``); ``name``
    ``trader_1``, ... for the replicas after the first; ``instance_id`` its lock owner id (default: random);
    ``cgroup_procs`` the ``cgroup.procs`` files it joins before it starts (its limits; restarts too);
    ``order_spool`` the spool directory of the ``spool`` order intake (none: ``POST /orders``); ``clock_file``:
    started with the wall-clock shim reading its wall clock from that file (:mod:`chaosaitrapp.targets.wallclock`)."""
    env = {
        "TRADER_HOST": "127.0.0.1",
        "TRADER_PORT": str(port),
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "KITE_ROOT": f"http://127.0.0.1:{kite_port}",
        "KITE_TICKER_ROOT": f"ws://127.0.0.1:{kite_port}",
        "KITE_API_KEY": api_key,
        "TRADER_MODE": mode,
        "HEARTBEAT_MAX": str(HEARTBEAT_MAX),
        "AITRAPP_LAB_DEFECTS": ",".join(sorted(defects)),
        "AITRAPP_LAB_PROFILE": profile.name,
        "PYTHONUNBUFFERED": "1",
    }
    if instance_id:
        env["TRADER_INSTANCE_ID"] = instance_id
    if cgroup_procs:
        env["AITRAPP_CGROUP_PROCS"] = " ".join(cgroup_procs)
    if order_spool:
        env["AITRAPP_LAB_ORDER_SPOOL"] = order_spool
    if clock_file:
        env.update(wallclock_env(clock_file))
    return ServiceSpec(name=name, kind="process", host="127.0.0.1", port=port, check="http",
                       pidfile=str(lab_dir / "run" / f"{name}.pid"),
                       argv=[sys.executable, "-m", "chaosaitrapp.lab.trader"], env=env, cwd=str(lab_dir),
                       log=str(lab_dir / "logs" / f"{name}.log"))


def secrets_for(service: str, *, broker_secret: str, database_url_with_password: str,
                api_key: Optional[str]) -> Dict[str, str]:
    """Environment added at launch only (never stored)."""
    if service == "broker":
        return {"AITRAPP_LAB_KITE_API_SECRET": broker_secret}
    if service == "trader":
        extra = {"KITE_API_SECRET": broker_secret, "DATABASE_URL": database_url_with_password}
        if api_key:
            extra["API_SECRET_KEY"] = api_key
        return extra
    return {}
