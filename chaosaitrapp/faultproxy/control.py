"""The control API both fault proxies serve on their separate control port::

    GET    /health             {"status": "healthy", "pid", ...what the proxy says of itself}
    GET    /faults             the active faults (``biting``: still changing what the target sees)
    POST   /faults             {"kind", "params", "lease_s", "id"?} -> 201 the fault (400 naming a bad value)
    DELETE /faults/{id}        {"cleared": true|false, "biting": true|false}
    DELETE /faults             {"cleared": N}
    GET    /history            what the proxy saw (``?since_wall=`` Unix seconds), with its monotonic
                               (``t``) and wall (``wall``) times
    GET    /stats              the proxy's counters, open connections, active and expired faults

A proxy's state object provides what differs (:class:`ProxyHooks`): the context a new fault is given
(tokens seen, connections open), what an instant fault does when applied, extra fields of the
``fault`` history record, its counters.
"""
from __future__ import annotations

import os
import time
from collections import deque
from typing import Any, Deque, Dict, Set

from aiohttp import web

from chaosaitrapp.faultproxy.table import Fault, FaultError, FaultTable

HISTORY_MAX = 200_000


class ProxyHooks:
    """The part of a proxy's state the control API needs; subclasses override the hooks."""

    def __init__(self, faults: FaultTable) -> None:
        self.faults = faults
        self.history: Deque[Dict[str, Any]] = deque(maxlen=HISTORY_MAX)
        self.stats: Dict[str, int] = {}

    def record(self, kind: str, **fields: Any) -> None:
        """Append one history record (times: the proxy's monotonic and wall clocks)."""
        self.history.append({"kind": kind, "t": round(time.monotonic(), 4), "wall": round(time.time(), 4), **fields})

    def open_sockets(self) -> Set[int]:
        """The ids of the connections open now."""
        return set()

    def fault_context(self) -> Dict[str, Any]:
        """Keyword arguments of :meth:`FaultTable.add` a new fault gets (``old_tokens``, ``sockets``)."""
        return {"sockets": sorted(self.open_sockets())}

    async def applied(self, fault: Fault) -> Dict[str, Any]:
        """Apply ``fault`` where it acts at once (an instant kind, or what a held kind does to what is
        open already); fields to add to the POST answer."""
        return {}

    def fault_fields(self, fault: Fault) -> Dict[str, Any]:
        """Extra fields of the ``fault`` history record."""
        return {}

    async def cleared(self, fault: Fault) -> None:
        """``fault`` was just cleared: let what it held go on before the DELETE is answered."""

    def counters(self) -> Dict[str, Any]:
        """``GET /stats`` besides the active and expired fault counts."""
        return dict(self.stats)


def _error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def control_app(state: ProxyHooks, info: Dict[str, Any]) -> web.Application:
    """The control API (module docstring) over ``state``; ``info`` goes into ``/health``."""
    app = web.Application()

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "healthy", **info, "pid": os.getpid()})

    async def list_faults(request: web.Request) -> web.Response:
        open_now = state.open_sockets()
        return web.json_response({"faults": [f.describe(open_now) for f in state.faults.active()]})

    async def add_fault(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error("the body must be a JSON object")
        if not isinstance(body, dict):
            return _error("the body must be a JSON object")
        try:
            fault = state.faults.add(str(body.get("kind")), body.get("params"), body.get("lease_s", 60),
                                     body.get("id"), **state.fault_context())
        except FaultError as exc:
            return _error(str(exc))
        out = fault.describe()
        out.update(await state.applied(fault))
        state.record("fault", fault=fault.kind, id=fault.id, params=fault.params, **state.fault_fields(fault))
        return web.json_response(out, status=201)

    async def clear_fault(request: web.Request) -> web.Response:
        fault = state.faults.remove(request.match_info["fault_id"])
        biting = fault is not None and fault.biting(state.open_sockets())
        if fault is not None:
            state.record("fault_cleared", fault=fault.kind, id=fault.id, biting=biting)
            await state.cleared(fault)
        return web.json_response({"cleared": fault is not None, "biting": biting})

    async def clear_all(request: web.Request) -> web.Response:
        return web.json_response({"cleared": state.faults.clear()})

    async def history(request: web.Request) -> web.Response:
        try:
            since_wall = float(request.query.get("since_wall", "0") or 0)
        except ValueError:
            return _error("since_wall must be a Unix time in seconds")
        return web.json_response({"history": [h for h in state.history if h["wall"] >= since_wall]})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**state.counters(), "active_faults": len(state.faults.active()),
                                  "expired_faults": state.faults.expired_total})

    app.add_routes([web.get("/health", health), web.get("/faults", list_faults), web.post("/faults", add_fault),
                    web.delete("/faults/{fault_id}", clear_fault), web.delete("/faults", clear_all),
                    web.get("/history", history), web.get("/stats", stats)])
    return app
