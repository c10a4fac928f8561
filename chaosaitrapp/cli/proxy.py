"""``aitrapp-chaos proxy broker|net``: the fault proxies as pieces a team deploys in front of its own
AITRAPP (in staging): the broker fault proxy between the trader and Kite, the TCP fault proxy between the
trader and its Redis and Postgres. Each runs in the foreground until SIGTERM/SIGINT (run it under compose,
systemd or ``&``); with ``--pidfile`` it writes its pid there, so a deployment description can name it as
``broker_proxy_target``/``net_proxy_target: process:PIDFILE`` and a drill starts it again as it ran if it
died with a fault in it. Both bind to loopback only; ``--expose-control`` lets the control API bind the
address of a container's own network namespace (compose: ``network_mode: service:api``, its port published
to the host's loopback), as ``examples/docker-compose.chaos.yml`` does.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import click

from chaosaitrapp.cli.common import EXIT_CODES


def _write_pid(pidfile: Optional[Path]) -> None:
    if pidfile is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{os.getpid()}\n")


@click.group(epilog=EXIT_CODES, help="Run a fault proxy in front of your deployment's broker, Redis or Postgres.")
def proxy() -> None:
    """``proxy``."""


@proxy.command(epilog=EXIT_CODES, help="The broker fault proxy: point the trader's KiteConnect(root=) at "
                                       "http://LISTEN and KiteTicker(root=) at ws://LISTEN; drills talk to "
                                       "http://CONTROL (BROKER_PROXY).")
@click.option("--listen", required=True, metavar="HOST:PORT", help="where the trader's Kite roots point (loopback)")
@click.option("--control", required=True, metavar="HOST:PORT", help="the control API the drills use (loopback)")
@click.option("--upstream", required=True, help="the broker's REST root, e.g. https://api.kite.trade")
@click.option("--ticker-upstream", required=True, help="the broker's ticker root, e.g. wss://ws.kite.trade")
@click.option("--pidfile", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write the proxy's pid here (broker_proxy_target: process:PIDFILE)")
@click.option("--expose-control", is_flag=True,
              help="let --control bind a non-loopback address: only inside a container's own network namespace "
                   "(the control API has no authentication)")
@click.pass_context
def broker(ctx: click.Context, listen: str, control: str, upstream: str, ticker_upstream: str,
           pidfile: Optional[Path], expose_control: bool) -> None:
    """``proxy broker``."""
    from chaosaitrapp.broker.proxy.__main__ import main  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    _write_pid(pidfile)
    ctx.exit(_run(main, ["--listen", listen, "--control", control, "--upstream", upstream,
                         "--ticker-upstream", ticker_upstream] + (["--expose-control"] if expose_control else [])))


@proxy.command(epilog=EXIT_CODES, help="The TCP fault proxy: each --route NAME=LISTEN_PORT:HOST:PORT relays "
                                       "127.0.0.1:LISTEN_PORT to HOST:PORT (point the trader's REDIS_URL and "
                                       "DATABASE_URL at the listen ports); drills talk to http://CONTROL (NET_PROXY) "
                                       "and cut routes by NAME (redis, postgres, or a replica's own route).")
@click.option("--route", "routes", multiple=True, required=True, metavar="NAME=PORT:HOST:PORT",
              help="a route, e.g. redis=6380:127.0.0.1:6379 (repeat)")
@click.option("--control", required=True, metavar="HOST:PORT", help="the control API the drills use (loopback)")
@click.option("--pidfile", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write the proxy's pid here (net_proxy_target: process:PIDFILE)")
@click.option("--expose-control", is_flag=True,
              help="let --control bind a non-loopback address: only inside a container's own network namespace "
                   "(the control API has no authentication)")
@click.pass_context
def net(ctx: click.Context, routes: List[str], control: str, pidfile: Optional[Path], expose_control: bool) -> None:
    """``proxy net``."""
    from chaosaitrapp.network.proxy.__main__ import main  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    _write_pid(pidfile)
    argv: List[str] = []
    for route in routes:
        argv += ["--route", route]
    ctx.exit(_run(main, argv + ["--control", control] + (["--expose-control"] if expose_control else [])))


def _run(main, argv: List[str]) -> int:
    """The proxy's own exit code; its argument errors (argparse exits 2) are bad input, exit 2."""
    try:
        return int(main(argv) or 0)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
