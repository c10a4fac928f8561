"""``python -m chaosaitrapp.lab.broker``: serve the broker simulator on ``BROKER_HOST:BROKER_PORT``."""
from __future__ import annotations

import logging
import sys

import uvicorn

from chaosaitrapp.lab.broker.app import create_app
from chaosaitrapp.lab.broker.settings import BrokerSettings


def main() -> int:
    """Serve until SIGTERM/SIGINT (loopback only; access log off)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = BrokerSettings.from_env()
    if settings.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"broker: refusing to bind {settings.host!r}: loopback only", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False,
                log_level="info", timeout_graceful_shutdown=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
