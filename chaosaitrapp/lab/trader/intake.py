"""The ``spool`` order intake: the lab shaped like AITRAPP, which has no ``POST /orders``.

Orders arrive as *plans* (:mod:`chaosaitrapp.lab.plans`), either as JSON files the injector
(:mod:`chaosaitrapp.lab.injector`) drops into the spool directory, taken in name order every
:data:`SPOOL_POLL_S` seconds and removed once stored, or over ``POST /plans``. A plan's ``plan_id`` is the
order's ``client_order_id``. While Postgres is down a file stays in the spool and is taken later; a file
that is no plan is renamed ``*.bad`` (its reason logged).
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Tuple

from chaosaitrapp.lab.plans import plan_order
from chaosaitrapp.lab.trader.store import StoreUnavailable

log = logging.getLogger("chaosaitrapp.lab.trader.intake")
#: How often the spool directory is looked at (seconds).
SPOOL_POLL_S = 0.1

async def drain_spool(directory: Path, submit: Callable[[Dict[str, Any]], Awaitable[Tuple[Dict[str, Any], bool]]]
                      ) -> None:
    """Take the spool's plans for ever (module docstring): each one ``submit`` stores and queues."""
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        for path in sorted(directory.glob("*.json")):
            try:
                order = plan_order(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                log.warning("spool: %s is no plan (%s); set aside as .bad", path.name, exc)
                path.rename(path.with_suffix(".bad"))
                continue
            try:
                await submit(order)
            except StoreUnavailable:
                break  # Postgres is down: the plan waits in the spool
            path.unlink()
        await asyncio.sleep(SPOOL_POLL_S)  # the spool's poll period, not a wait for a state
