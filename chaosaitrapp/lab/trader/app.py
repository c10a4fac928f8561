"""The trader's app factory: :func:`create_app` builds a FastAPI app from one :class:`TraderSettings`.

Nothing happens at import time: settings are read (from the environment, unless given) in the
factory, metrics live on a fresh ``CollectorRegistry``, and the background loops start in the
app's lifespan and stop with it (the leader lock is released on a clean shutdown).
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from chaosaitrapp.lab.trader.auth import ApiKeyMiddleware
from chaosaitrapp.lab.trader.metrics import TraderMetrics
from chaosaitrapp.lab.trader.routes import build_router
from chaosaitrapp.lab.trader.service import Trader
from chaosaitrapp.lab.trader.settings import TraderSettings

log = logging.getLogger("chaosaitrapp.lab.trader")


def create_app(settings: Optional[TraderSettings] = None) -> FastAPI:
    """The trader app; ``settings`` default to :meth:`TraderSettings.from_env`."""
    settings = settings or TraderSettings.from_env()
    metrics = TraderMetrics(CollectorRegistry(), settings.instance_id)
    trader = Trader(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("trader %s starting: mode=%s profile=%s defects=%s api_key=%s", settings.instance_id,
                 settings.mode, settings.profile.name, ",".join(sorted(settings.defects)) or "none",
                 "set" if settings.api_key else "unset")
        await trader.start()
        try:
            yield
        finally:
            await trader.stop()
            log.info("trader %s stopped", settings.instance_id)

    app = FastAPI(title="AITRAPP lab trader", lifespan=lifespan)
    app.state.trader = trader
    app.state.settings = settings
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, key=settings.api_key)
    app.include_router(build_router(trader))
    return app
