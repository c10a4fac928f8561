"""``python -m chaosaitrapp.broker.proxy``: run the broker fault proxy in front of a Kite-compatible broker.

    python -m chaosaitrapp.broker.proxy --listen 127.0.0.1:8443 --control 127.0.0.1:8444 \\
        --upstream https://api.kite.trade --ticker-upstream wss://ws.kite.trade

Point the target's ``KiteConnect(root=)`` at ``http://<listen>`` and its ``KiteTicker(root=)`` at
``ws://<listen>``; drills talk to ``http://<control>``. Both ports bind to loopback only (the control API elsewhere with
``--expose-control``: :mod:`chaosaitrapp.faultproxy.addresses`).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import List, Optional

from chaosaitrapp.broker.proxy.server import serve
from chaosaitrapp.faultproxy.addresses import address, check_control, loopback_address


def main(argv: Optional[List[str]] = None) -> int:
    """Parse the arguments and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m chaosaitrapp.broker.proxy", description=__doc__.split("\n")[0])
    parser.add_argument("--listen", type=loopback_address, required=True,
                        help="HOST:PORT the target's Kite roots point at (loopback)")
    parser.add_argument("--control", type=address, required=True, help="HOST:PORT of the control API (loopback)")
    parser.add_argument("--expose-control", action="store_true",
                        help="let --control bind a non-loopback address (inside a container's own network namespace)")
    parser.add_argument("--upstream", required=True, help="the broker's REST root, e.g. https://api.kite.trade")
    parser.add_argument("--ticker-upstream", required=True, help="the broker's ticker root, e.g. wss://ws.kite.trade")
    args = parser.parse_args(argv)
    check_control(parser, args.control, args.expose_control)
    for name, value, schemes in (("--upstream", args.upstream, ("http", "https")),
                                 ("--ticker-upstream", args.ticker_upstream, ("ws", "wss"))):
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in schemes:
            parser.error(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL, got {value!r}")
    if args.listen == args.control:
        parser.error("--listen and --control must be different ports")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args.listen[0], args.listen[1], args.control[0], args.control[1], args.upstream,
                          args.ticker_upstream))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # a port already taken, most often
        print(f"broker fault proxy: cannot listen on {args.listen[0]}:{args.listen[1]} and "
              f"{args.control[0]}:{args.control[1]}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
