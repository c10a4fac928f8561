"""A jumped wall clock as a fault the ledger can undo: :class:`ClockDriver` (ledger driver ``clock``).

The fault is the offset in a clock file (:mod:`chaosaitrapp.targets.wallclock`); undoing it is writing ``+0``
back, which any process can do at any time (the rollback, the watchdog, ``aitrapp-chaos cleanup``), so a
clock is never left jumped whatever becomes of the run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.targets.wallclock import format_offset, read_offset, write_offset


class ClockDriver:
    """Moves the wall clock of the processes started under ``clock_file`` by ``seconds`` (``stop``) and puts
    it back (``start``)."""

    def __init__(self, clock_file: str, seconds: float) -> None:
        self.clock_file = str(clock_file)
        self.seconds = float(seconds)
        self.hold: Optional[float] = None  # how long the drill keeps it (not part of the recipe)

    def describe(self) -> str:
        """``clock:<clock file>``."""
        return f"clock:{self.clock_file}"

    def is_running(self) -> bool:
        """True when the clock is true (the file holds ``+0``, or is empty)."""
        try:
            return read_offset(self.clock_file) == 0.0
        except ChaosAitrappError:
            return False

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Jump the clock: the file holds ``seconds`` (TargetError when it cannot be written)."""
        write_offset(self.clock_file, self.seconds)

    def start(self, timeout: float = 10.0) -> None:
        """Put the clock back: the file holds ``+0`` (TargetError when it cannot be written); a file that is
        gone is left gone (the target it served is gone with it)."""
        if Path(self.clock_file).exists():
            write_offset(self.clock_file, 0.0)

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe."""
        return {"driver": ref_of(ClockDriver), "clock_file": self.clock_file, "seconds": self.seconds,
                "offset": format_offset(self.seconds)}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "ClockDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup)."""
        return cls(str(undo.get("clock_file") or ""), float(undo.get("seconds") or 0))
