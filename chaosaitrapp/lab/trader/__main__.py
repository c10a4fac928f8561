"""``python -m chaosaitrapp.lab.trader``: serve the trader with uvicorn on ``TRADER_HOST:TRADER_PORT``.

Access logging is off (query strings may carry ``api_key``); the app logs what matters itself.
"""
from __future__ import annotations

import logging
import sys

import uvicorn

from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.lab.trader.app import create_app
from chaosaitrapp.lab.trader.settings import TraderSettings


def main() -> int:
    """Read settings from the environment, refuse bad ones, serve until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = TraderSettings.from_env()
    except (ValueError, ChaosAitrappError) as exc:
        print(f"trader: refusing to start: {exc}", file=sys.stderr)
        return 2
    if settings.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"trader: refusing to bind {settings.host!r}: loopback only", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False,
                log_level="info", timeout_graceful_shutdown=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
