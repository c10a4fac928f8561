"""Where the fault proxies listen, as their command lines take it: ``HOST:PORT``, on loopback only. The
one exception is a control API run inside a container's own network namespace (compose's
``network_mode: service:api``), which must bind the container's address for a port published to the
host's loopback to reach it: the proxy's ``--expose-control`` allows that, knowing the control API has no
authentication (anything that reaches it can inject faults)."""
from __future__ import annotations

import argparse
from typing import Tuple

LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: What a refused non-loopback control address is told.
EXPOSE_HINT = ("the control API binds to loopback only, got {host!r} (inside a container's own network namespace, "
               "with its port published to the host's loopback only, pass --expose-control)")


def address(text: str) -> Tuple[str, int]:
    """``HOST:PORT`` parsed; argparse's ArgumentTypeError naming the text when it is not one."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def loopback_address(text: str) -> Tuple[str, int]:
    """:func:`address`, refused (ArgumentTypeError) unless its host is a loopback one."""
    host, port = address(text)
    if host not in LOOPBACK:
        raise argparse.ArgumentTypeError(f"the proxy binds to loopback only, got {host!r}")
    return host, port


def check_control(parser: argparse.ArgumentParser, control: Tuple[str, int], exposed: bool) -> None:
    """Exit through ``parser.error`` (exit 2) when ``control`` is not loopback and ``exposed`` was not given."""
    if control[0] not in LOOPBACK and not exposed:
        parser.error(EXPOSE_HINT.format(host=control[0]))
