"""``aitrapp-chaos lab up|down|status|logs``: the reference lab from the command line.

The API key, if wanted, comes from ``$API_SECRET_KEY`` (never printed) and is passed to the trader only.
"""
from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Optional, Tuple

import click

from chaosaitrapp.cli.common import EXIT_CODES, quiet_broken_pipe
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.lab.defects import KNOWN_DEFECTS
from chaosaitrapp.lab.profiles import DEFAULT_PROFILE, PROFILES
from chaosaitrapp.lab.runtime.config import (
    DEFAULT_IMAGES,
    REPLICA_API_BASE,
    REPLICA_REDIS_BASE,
    RUNTIMES,
    LabConfig,
    LabPorts,
)
from chaosaitrapp.paths import lab_dir as default_lab_dir

#: What the lab's services import (the ``[lab]`` extra).
LAB_MODULES = ("fastapi", "uvicorn", "websockets", "kiteconnect")

LAB_DIR_HELP = "lab state directory (default: $AITRAPP_LAB_DIR or $AITRAPP_CHAOS_STATE/lab)"
_PORTS = LabPorts()


def _directory(lab_dir: Optional[str]) -> Path:
    return Path(lab_dir) if lab_dir else default_lab_dir()


def _fail(ctx: click.Context, action: str, exc: Exception) -> None:
    click.echo(f"aitrapp-chaos lab {action}: {exc}", err=True)
    ctx.exit(2)


@click.group(epilog=EXIT_CODES, help="The reference AITRAPP-compatible lab: Redis, Postgres, the broker "
                                     "simulator and the trader, on loopback.")
def lab() -> None:
    """The ``lab`` command group."""


@lab.command(epilog=EXIT_CODES, help="Bring the lab up (idempotent) and wait until the trader's /ready is 200.")
@click.option("--lab-dir", default=None, help=LAB_DIR_HELP)
@click.option("--runtime", type=click.Choice(RUNTIMES), default="process", show_default=True,
              help="process: everything as local processes; docker: Redis and Postgres as containers")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE, show_default=True,
              help="timing profile: aitrapp (TTL 30 s, refresh 10 s, as the real service) or fast")
@click.option("--defect", "defects", multiple=True, metavar="NAME",
              help=f"start with a defect on purpose (repeatable): {', '.join(sorted(KNOWN_DEFECTS))}")
@click.option("--api-port", type=int, default=_PORTS.trader, show_default=True, help="trader API port")
@click.option("--broker-port", type=int, default=_PORTS.broker, show_default=True, help="broker simulator port")
@click.option("--redis-port", type=int, default=_PORTS.redis, show_default=True, help="Redis port")
@click.option("--postgres-port", type=int, default=_PORTS.postgres, show_default=True, help="Postgres port")
@click.option("--kite-port", type=int, default=_PORTS.kite, show_default=True,
              help="the trader's Kite REST and ticker roots (the broker fault proxy)")
@click.option("--proxy-control-port", type=int, default=_PORTS.proxy_control, show_default=True,
              help="the broker fault proxy's control API")
@click.option("--redis-proxy-port", type=int, default=_PORTS.redis_proxy, show_default=True,
              help="where the trader reaches Redis (the TCP fault proxy's route)")
@click.option("--postgres-proxy-port", type=int, default=_PORTS.postgres_proxy, show_default=True,
              help="where the trader reaches Postgres (the TCP fault proxy's route)")
@click.option("--net-control-port", type=int, default=_PORTS.net_control, show_default=True,
              help="the TCP fault proxy's control API")
@click.option("--redis-image", default=DEFAULT_IMAGES["redis"], show_default=True, help="Redis image (docker runtime)")
@click.option("--postgres-image", default=DEFAULT_IMAGES["postgres"], show_default=True,
              help="Postgres image (docker runtime)")
@click.option("--mode", type=click.Choice(("PAPER", "LIVE")), default="PAPER", show_default=True,
              help="trader mode at start")
@click.option("--ready-timeout", type=float, default=60.0, show_default=True, help="seconds to wait for /ready 200")
@click.option("--replicas", type=int, default=1, show_default=True,
              help="trader instances contending for the leader lock (1-5); the ones after the first listen on "
                   "--replica-api-port and up, each with its own Redis route from --replica-redis-port up")
@click.option("--replica-api-port", type=int, default=REPLICA_API_BASE, show_default=True,
              help="API port of the second trader (then +1 each)")
@click.option("--replica-redis-port", type=int, default=REPLICA_REDIS_BASE, show_default=True,
              help="the second trader's Redis route through the TCP fault proxy (then +1 each)")
@click.option("--cpu-limit", type=float, default=None,
              help="each trader in a cgroup of its own with this CPU quota (CPUs, e.g. 0.5; cgroup v1 or v2)")
@click.option("--memory-limit", default=None,
              help="each trader in a cgroup of its own with this memory limit (256M, 1G; the kernel OOM-kills past it)")
@click.option("--order-intake", type=click.Choice(("api", "spool")), default="api", show_default=True,
              help="api: the lab's POST /orders; spool: like AITRAPP, no POST /orders: orders from "
                   "`python -m chaosaitrapp.lab.injector --spool <lab dir>/spool ...` or POST /plans")
@click.option("--fake-clock", is_flag=True, default=False,
              help="start each trader with the wall-clock shim and a clock file of its own (<lab dir>/clock/<trader>.offset): "
                   "what the clock drills need (CLOCK_FILE); its wall clock moves when the file says, its monotonic one never")
@click.option("--pg-volume-mb", type=click.IntRange(min=0), default=0, show_default=True,
              help="keep Postgres' cluster on a data volume of its own, a tmpfs of this many MiB (96-4096; as root): "
                   "what the disk-full drill fills (POSTGRES_VOLUME); 0: none")
@click.pass_context
def up(ctx: click.Context, lab_dir: Optional[str], runtime: str, profile: str, defects: Tuple[str, ...],
       api_port: int, broker_port: int, redis_port: int, postgres_port: int, kite_port: int,
       proxy_control_port: int, redis_proxy_port: int, postgres_proxy_port: int, net_control_port: int,
       redis_image: str, postgres_image: str, mode: str, ready_timeout: float, replicas: int,
       replica_api_port: int, replica_redis_port: int, cpu_limit: Optional[float],
       memory_limit: Optional[str], order_intake: str, fake_clock: bool, pg_volume_mb: int) -> None:
    """``lab up``."""
    from chaosaitrapp.lab.runtime import lab_up  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    missing = [name for name in LAB_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        click.echo(f"aitrapp-chaos lab up: the lab needs {', '.join(missing)}, which this Python lacks: "
                   "pip install 'chaostoolkit-aitrapp[lab]' (from a checkout: pip install '.[lab]')", err=True)
        ctx.exit(2)
        return
    click.echo(f"lab up: starting Redis, Postgres, the broker simulator, the fault proxies and the trader "
               f"(profile {profile}, runtime {runtime}; waits up to {ready_timeout:g} s for /ready 200)")

    directory = _directory(lab_dir)
    try:
        config = LabConfig(
            lab_dir=directory, runtime=runtime, profile=profile, defects=list(defects),
            ports=LabPorts(trader=api_port, broker=broker_port, redis=redis_port, postgres=postgres_port,
                           kite=kite_port, proxy_control=proxy_control_port, redis_proxy=redis_proxy_port,
                           postgres_proxy=postgres_proxy_port, net_control=net_control_port),
            api_key=os.environ.get("API_SECRET_KEY") or None, mode=mode,
            images={"redis": redis_image, "postgres": postgres_image}, ready_timeout=ready_timeout,
            replicas=replicas,
            replica_ports=[[replica_api_port + i, replica_redis_port + i] for i in range(max(0, replicas - 1))],
            cpu_limit=cpu_limit, memory_limit=memory_limit, order_intake=order_intake, fake_clock=fake_clock,
            pg_volume_mb=pg_volume_mb,
        )
        started = time.monotonic()
        state = lab_up(config)
    except (ChaosAitrappError, ValueError) as exc:
        _fail(ctx, "up", exc)
        return
    click.echo(f"lab up in {time.monotonic() - started:.1f}s: API {state.api} (profile {state.profile}, "
               f"runtime {state.runtime}, defects {', '.join(state.defects) or 'none'}, lab dir {directory})")
    if state.cgroups:
        from chaosaitrapp.targets.cgroups import from_dict  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

        click.echo("limits: " + ", ".join(f"{name} in {from_dict(g).describe()}" for name, g in state.cgroups.items())
                   + f" (cpu {state.limits.get('cpu') or 'unlimited'}, memory {state.limits.get('memory') or 'unlimited'})")
    clock = state.services["trader"].env.get("AITRAPP_WALL_CLOCK_FILE")
    if clock:
        click.echo(f"fake clock: the trader's wall clock reads {clock} (export CLOCK_FILE={clock} for the clock drills)")
    if pg_volume_mb:
        from chaosaitrapp.lab.runtime.postgres_process import volume_dir  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

        click.echo(f"Postgres volume: {pg_volume_mb} MiB at {volume_dir(directory)} (export POSTGRES_VOLUME="
                   f"{volume_dir(directory)} for POSTGRES_FAULT disk_full)")
    if len(state.replicas) > 1:
        click.echo("replicas: " + ", ".join(f"{r['name']} {r['api']}" for r in state.replicas))


@lab.command(epilog=EXIT_CODES, help="Stop every lab process (verified by pid) and remove lab.json.")
@click.option("--lab-dir", default=None, help=LAB_DIR_HELP)
@click.pass_context
def down(ctx: click.Context, lab_dir: Optional[str]) -> None:
    """``lab down``."""
    from chaosaitrapp.lab.runtime import lab_down  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    directory = _directory(lab_dir)
    try:
        lab_down(directory)
    except (ChaosAitrappError, ValueError) as exc:
        _fail(ctx, "down", exc)
        return
    click.echo(f"lab down: no lab process left in {directory}")


@lab.command(epilog=EXIT_CODES, help="What runs, where: the services, the API, the broker's REST root, ticker "
                                     "URL and api key (never a secret or a token).")
@click.option("--lab-dir", default=None, help=LAB_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="print the status as JSON")
@click.pass_context
@quiet_broken_pipe
def status(ctx: click.Context, lab_dir: Optional[str], as_json: bool) -> None:
    """``lab status``."""
    from chaosaitrapp.lab.runtime import lab_status  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    info = lab_status(_directory(lab_dir))
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True, default=str))
    elif not info.get("up") and not info.get("services"):
        click.echo(f"no lab in {info['lab_dir']}")
    else:
        click.echo(f"lab {'up' if info.get('up') else 'NOT healthy'}: API {info.get('api')} "
                   f"(profile {info.get('profile')}, runtime {info.get('runtime')}, mode {info.get('mode')}, "
                   f"defects {', '.join(info.get('defects') or []) or 'none'})")
        for name, service in sorted(info.get("services", {}).items()):
            where = f"pid {service.get('pid')}" if service.get("pid") else (service.get("container") or "-")
            click.echo(f"  {name:<9} port {service.get('port'):<6} {where:<14} "
                       f"{'answers' if service.get('answers') else 'DOES NOT ANSWER'}")
        for key, value in sorted((info.get("broker") or {}).items()):
            click.echo(f"  broker {key}: {value}")
    ctx.exit(0 if info.get("up") else 3)


@lab.command(epilog=EXIT_CODES, help="The last lines of one lab service's log.")
@click.argument("service", type=click.Choice(("redis", "postgres", "broker", "broker_proxy", "trader")))
@click.option("--lab-dir", default=None, help=LAB_DIR_HELP)
@click.option("-n", "--lines", type=int, default=50, show_default=True, help="how many lines")
@click.pass_context
@quiet_broken_pipe
def logs(ctx: click.Context, service: str, lab_dir: Optional[str], lines: int) -> None:
    """``lab logs``."""
    from chaosaitrapp.lab.runtime import lab_logs  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    try:
        click.echo(lab_logs(_directory(lab_dir), service, lines), nl=False)
    except (ChaosAitrappError, ValueError) as exc:
        _fail(ctx, "logs", exc)
