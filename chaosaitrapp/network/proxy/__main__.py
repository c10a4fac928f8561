"""``python -m chaosaitrapp.network.proxy``: run the TCP fault proxy in front of Redis, Postgres or any
TCP service.

    python -m chaosaitrapp.network.proxy --route redis=6380:127.0.0.1:6379 \\
        --route postgres=5433:127.0.0.1:5432 --control 127.0.0.1:8004

Each ``--route NAME=LISTEN_PORT:UPSTREAM_HOST:UPSTREAM_PORT`` listens on ``127.0.0.1:LISTEN_PORT``;
point the target at those ports (``REDIS_URL=redis://127.0.0.1:6380``...). Drills talk to the
control API at ``http://<control>``. Listening and control ports bind to loopback only (the control API
elsewhere with ``--expose-control``: :mod:`chaosaitrapp.faultproxy.addresses`).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from typing import List, Optional

from chaosaitrapp.faultproxy.addresses import address, check_control
from chaosaitrapp.network.proxy.server import Route, serve

ROUTE = re.compile(r"^([a-z][a-z0-9_-]{0,31})=(\d{1,5}):([^:\s]+):(\d{1,5})$")


def _route(text: str) -> Route:
    match = ROUTE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected NAME=LISTEN_PORT:UPSTREAM_HOST:UPSTREAM_PORT, got {text!r}")
    name, listen, host, port = match.groups()
    for label, value in (("listen port", int(listen)), ("upstream port", int(port))):
        if not 0 < value < 65536:
            raise argparse.ArgumentTypeError(f"{label} must be 1-65535, got {value} in {text!r}")
    return Route(name, "127.0.0.1", int(listen), host, int(port))


def main(argv: Optional[List[str]] = None) -> int:
    """Parse the arguments and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m chaosaitrapp.network.proxy", description=__doc__.split("\n")[0])
    parser.add_argument("--route", type=_route, action="append", required=True,
                        help="NAME=LISTEN_PORT:UPSTREAM_HOST:UPSTREAM_PORT (repeatable)")
    parser.add_argument("--control", type=address, required=True, help="HOST:PORT of the control API (loopback)")
    parser.add_argument("--expose-control", action="store_true",
                        help="let --control bind a non-loopback address (inside a container's own network namespace)")
    args = parser.parse_args(argv)
    check_control(parser, args.control, args.expose_control)
    names = [r.name for r in args.route]
    ports = [r.listen_port for r in args.route] + [args.control[1]]
    if len(set(names)) != len(names):
        parser.error(f"route names must be unique, got {names}")
    if len(set(ports)) != len(ports):
        parser.error(f"every route and the control API need a port of their own, got {ports}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args.route, args.control[0], args.control[1]))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # a port already taken, most often
        print(f"TCP fault proxy: cannot listen on ports {ports}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
