"""Where a drill's orders come from: the target's own path, one of three sources.

============  =====================================================================================
source        how one order is made
============  =====================================================================================
``api``       ``POST /orders`` on the drill's API (the lab's injection endpoint; the default)
``command``   ``order_injector``: a command run once per order (AITRAPP's own ``python
              scripts/synthetic_plan_injector.py --symbol NIFTY --side LONG --qty 50 --strategy ORB``);
              exit 0 means the service took it
``http``      ``order_url`` (a path on the drill's API, or a whole URL) POSTed once per order with the
              JSON body ``order_body``; a 2xx answer means the service took it
============  =====================================================================================

The command and the body are templates: ``{client_order_id}``, ``{symbol}``, ``{side}``, ``{quantity}``,
``{price}`` and ``{api}`` (the API the order is aimed at) are replaced per order. With ``{client_order_id}``
the drill's own id (a valid Kite tag, :mod:`chaosaitrapp.orderids`) reaches the service and every check
follows each order by it; without it the service's ids are unknown, and the checks can only count the
placements the broker saw in the drill's window. A source aims at one replica (the split-brain drills)
only when it names ``{api}`` or is a path on the API.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from chaoslib.types import Configuration

from chaosaitrapp import config
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.orders.family import FAMILY

#: The placeholders a command or body template may use.
PLACEHOLDERS = ("client_order_id", "symbol", "side", "quantity", "price", "api")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: How long one run of the injector command may take (seconds).
COMMAND_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class OrderSource:
    """One drill's order source (module docstring): ``kind`` ``api``, ``command`` or ``http``; ``command``
    (argv templates), ``url`` and ``body`` (templates) as the kind needs."""

    kind: str
    command: Tuple[str, ...] = ()
    url: str = ""
    body: str = ""

    @property
    def carries_id(self) -> bool:
        """True when each order reaches the service with the drill's ``client_order_id``."""
        if self.kind == "api":
            return True
        text = " ".join(self.command) if self.kind == "command" else self.body
        return "{client_order_id}" in text

    @property
    def aims(self) -> bool:
        """True when an order can be aimed at one replica's API (``{api}``, a path, or ``POST /orders``)."""
        if self.kind == "command":
            return any("{api}" in arg for arg in self.command)
        return self.kind == "api" or not re.match(r"^[a-z]+://", self.url) or "{api}" in self.url

    def describe(self) -> str:
        """One line for ``doctor`` and the evidence: the source and whether the drill's ids reach the service."""
        what = {"api": "POST /orders on the API",
                "command": f"the command `{' '.join(self.command)}`, once per order",
                "http": f"POST {self.url} with the body template, once per order"}[self.kind]
        ids = ("the drill's client_order_id reaches the service" if self.carries_id else
               "no {client_order_id} placeholder: the service's ids are unknown, placements are counted")
        return f"{what}; {ids}"


def _check_template(text: str, what: str, key: str) -> None:
    unknown = sorted({m for m in _PLACEHOLDER.findall(text)} - set(PLACEHOLDERS))
    if unknown:
        raise ConfigError(f"{what}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                          f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}", key=key)


def render(template: str, fields: Mapping[str, Any]) -> str:
    """``template`` with each ``{placeholder}`` of :data:`PLACEHOLDERS` replaced by ``fields``' value; other
    braces (a JSON body's) are left as they are."""
    return _PLACEHOLDER.sub(lambda m: str(fields[m.group(1)]) if m.group(1) in PLACEHOLDERS else m.group(0),
                            template)


def order_source(configuration: Configuration, injector_command: str = "") -> OrderSource:
    """The source the settings name (``injector_command`` as given to the action, else ``order_injector``;
    ``order_url`` with ``order_body``; else ``api``). Raises ConfigError when both a command and a URL are
    set, for a URL without a body, a body that is no JSON object once rendered, an unknown placeholder, or a
    command that is not found."""
    rows = {s.key: s for s in FAMILY.settings}
    command = (injector_command or config.value(configuration, rows["order_injector"]) or "").strip()
    url = (config.value(configuration, rows["order_url"]) or "").strip()
    body = (config.value(configuration, rows["order_body"]) or "").strip()
    if command and url:
        raise ConfigError("set one order source: order_injector (a command) or order_url (an HTTP endpoint), "
                          "not both", key="order_url")
    if command:
        argv = tuple(shlex.split(command))
        _check_template(command, "order_injector", "order_injector")
        if shutil.which(argv[0]) is None:
            raise ConfigError(f"order_injector: command {argv[0]!r} not found", key="order_injector")
        return OrderSource("command", command=argv)
    if url:
        if not body:
            raise ConfigError("order_url needs order_body: the JSON body template of one order", key="order_body")
        _check_template(url + body, "order_url/order_body", "order_body")
        sample = render(body, {p: "0" for p in PLACEHOLDERS})
        try:
            parsed = json.loads(sample)
        except ValueError as exc:
            raise ConfigError(f"order_body is not JSON once its placeholders are filled: {exc}",
                              key="order_body") from None
        if not isinstance(parsed, dict):
            raise ConfigError("order_body must be a JSON object", key="order_body")
        return OrderSource("http", url=url, body=body)
    return OrderSource("api")


def run_command(source: OrderSource, fields: Mapping[str, Any]) -> Tuple[bool, str]:
    """Run the injector once for the order ``fields``: ``(taken, detail)``; taken when it exited 0."""
    argv: List[str] = [render(arg, fields) for arg in source.command]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False, f"{argv[0]} did not finish within {COMMAND_TIMEOUT_S:g} s"
    if done.returncode == 0:
        return True, ""
    tail = (done.stderr or done.stdout or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return False, f"{argv[0]} exited {done.returncode}: {tail[0][:200]}"


def http_request(source: OrderSource, fields: Mapping[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """``(url or path, JSON body)`` of one order for the ``http`` source."""
    return render(source.url, fields), json.loads(render(source.body, fields))


def order_fields(client_order_id: str, symbol: str, side: str, quantity: int, price: Optional[float],
                 api: str) -> Dict[str, Any]:
    """The values the templates' placeholders take for one order."""
    return {"client_order_id": client_order_id, "symbol": symbol, "side": side, "quantity": quantity,
            "price": "" if price is None else price, "api": api.rstrip("/")}
