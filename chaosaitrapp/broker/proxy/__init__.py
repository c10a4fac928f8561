"""The broker fault proxy (``python -m chaosaitrapp.broker.proxy``): Kite-aware HTTP and WebSocket
reverse proxy with a control API; see :mod:`chaosaitrapp.broker.proxy.server` and
:mod:`chaosaitrapp.broker.proxy.faults`."""
