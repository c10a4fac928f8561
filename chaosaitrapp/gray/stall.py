"""A Redis stalled as a fault the ledger can undo: :class:`RedisStallDriver` (ledger driver ``redis_stall``).

``CLIENT PAUSE <ms> ALL``: Redis keeps every connection and answers nothing (not even ``PING``, nor a
``CLIENT UNPAUSE``: measured on Redis 7.0, an unpause waits out the pause) until ``ms`` has passed, then
carries on by itself. So a stall cannot outlive its length, whatever becomes of the run that asked for it:
undoing it (rollback, watchdog, cleanup) is waiting until Redis answers again, which :meth:`start` does,
and sending ``CLIENT UNPAUSE`` once it does (harmless, and it ends a longer pause a Redis newer than the
one measured lets go early).

How Redis is reached is the lock reader's (:mod:`chaosaitrapp.deployment.lock`): a URL without a password,
the ``REDIS_URL`` secret (the record says so; the run reads it as its other secrets, a deployment description's
included, and hands it to the watchdog's own environment: never to a file), a container, or a process's listening port.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from chaosaitrapp.config import redis_url
from chaosaitrapp.declare import ref_of
from chaosaitrapp.deployment.lock import LockReader, reader_for
from chaosaitrapp.errors import ChaosAitrappError, TargetError
from chaosaitrapp.waiting import wait_until

#: The record's ``access`` when Redis is reached through the ``REDIS_URL`` secret.
SECRET_ACCESS = "secret:REDIS_URL"
#: How long one ``PING`` may take to count as an answer.
PING_TIMEOUT_S = 0.5


class RedisStallDriver:
    """Stalls the Redis ``reader`` reaches for ``seconds`` (``stop``), and waits for it to answer again
    (``start``). ``access``: how the ledger record names the way to it (``redis://...`` without password,
    ``docker:NAME``, ``process:PIDFILE`` or :data:`SECRET_ACCESS`)."""

    def __init__(self, reader: LockReader, access: str, seconds: float) -> None:
        self.reader = reader
        self.access = access
        self.seconds = float(seconds)
        self.until_wall: Optional[float] = None

    def describe(self) -> str:
        """``redis_stall:<how Redis is reached>`` (never a password)."""
        return f"redis_stall:{self.reader.label}"

    def answers(self) -> bool:
        """True when Redis answers ``PING`` within :data:`PING_TIMEOUT_S` (not stalled)."""
        try:
            return bool(self.reader.command("PING", timeout=PING_TIMEOUT_S))
        except ChaosAitrappError:
            return False

    def is_running(self) -> bool:
        """The same as :meth:`answers`."""
        return self.answers()

    def stop(self, timeout: float = 10.0) -> None:
        """Stall Redis for ``seconds`` (``CLIENT PAUSE ms ALL``); TargetError when Redis refuses or cannot be
        reached (nothing stalled then)."""
        self.until_wall = time.time() + self.seconds
        self.reader.command("CLIENT", "PAUSE", str(int(self.seconds * 1000)), "ALL", timeout=timeout)

    def start(self, timeout: float = 60.0) -> None:
        """Wait until Redis answers again (its pause ends by itself), then ``CLIENT UNPAUSE``; TargetError when
        it does not answer within ``timeout`` plus what is left of the stall."""
        left = max(0.0, (self.until_wall or 0.0) - time.time())
        if not wait_until(self.answers, bool, timeout=timeout + left, interval=0.1,
                          what=f"{self.reader.label} answering again").held:
            raise TargetError(f"{self.describe()}: Redis does not answer {timeout + left:.0f}s after the stall was to "
                              "end", target=self.describe())
        try:
            self.reader.command("CLIENT", "UNPAUSE")
        except ChaosAitrappError:
            pass  # a Redis older than 6.2 has no UNPAUSE: its pause ended by itself, as this one's did

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe (no password: :data:`SECRET_ACCESS` stands for the secret)."""
        return {"driver": ref_of(RedisStallDriver), "access": self.access, "label": self.reader.label,
                "seconds": self.seconds, "until_wall": self.until_wall}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "RedisStallDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup); the secret from the environment."""
        access = str(undo.get("access") or "")
        if access == SECRET_ACCESS:
            url = redis_url()  # the environment's, or what the deployment description provided this process
            if not url:
                raise TargetError("redis_stall: the stall's Redis was reached through the REDIS_URL secret, which "
                                  "this process does not have", target="redis_stall")
            reader = LockReader(str(undo.get("label") or "the REDIS_URL secret"), url=url)
        else:
            reader = reader_for(access)
        driver = cls(reader, access, float(undo.get("seconds") or 0))
        driver.until_wall = undo.get("until_wall")
        return driver
