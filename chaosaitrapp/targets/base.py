"""The driver interface every target implements."""
from __future__ import annotations

from typing import Protocol


class Driver(Protocol):
    """Stops, starts and inspects one dependency. Every method is idempotent.

    ``describe()`` names the target in messages (never with a secret). ``stop`` returns once
    the dependency no longer runs (or raises :class:`~chaosaitrapp.errors.TargetError` at
    ``timeout``). ``start`` returns once it runs *and answers* (Redis PING, Postgres accepting
    connections), or raises at ``timeout``. ``undo`` is a JSON-serialisable recipe with which
    :func:`chaosaitrapp.registry.driver_from_undo` rebuilds this driver in another
    process (the fault ledger and its watchdog use it).
    """

    def describe(self) -> str: ...

    def is_running(self) -> bool: ...

    def answers(self) -> bool: ...

    def stop(self, timeout: float = 30.0) -> None: ...

    def start(self, timeout: float = 60.0) -> None: ...

    def undo(self) -> dict: ...
