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
from chaosaitrapp.targets.wallclock import ClockSetting, read_clock, write_clock


class ClockFault:
    """What every clock fault carries, whatever moves the clock: ``seconds`` and ``rate``, and how the drill keeps
    it (not part of any recipe): ``hold``, ``landed`` (monotonic: when the jump was seen landing) and, for a jump to
    the token expiry, ``expiry_wall`` (the trader's time of the expiry, Unix time)."""

    def __init__(self, seconds: float, rate: float = 1.0) -> None:
        self.seconds = float(seconds)
        self.rate = float(rate)
        self.hold: Optional[float] = None
        self.landed: Optional[float] = None
        self.expiry_wall: Optional[float] = None

    def describe(self) -> str:
        """The fault's name in the ledger and the evidence (each kind names its own)."""
        raise NotImplementedError


class ClockDriver(ClockFault):
    """Moves the wall clock of the processes started under ``clock_file`` by ``seconds``, and with a ``rate``
    other than 1 makes it drift (``stop``), and puts it back (``start``)."""

    def __init__(self, clock_file: str, seconds: float, rate: float = 1.0) -> None:
        super().__init__(seconds, rate)
        self.clock_file = str(clock_file)

    def describe(self) -> str:
        """``clock:<clock file>``."""
        return f"clock:{self.clock_file}"

    def is_running(self) -> bool:
        """True when the clock is true (the file holds ``+0``, or is empty)."""
        try:
            return read_clock(self.clock_file).true
        except ChaosAitrappError:
            return False

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Jump the clock: the file holds ``seconds`` and the rate (TargetError when it cannot be written)."""
        write_clock(self.clock_file, ClockSetting(self.seconds, self.rate))

    def start(self, timeout: float = 10.0) -> None:
        """Put the clock back: the file holds ``+0`` (TargetError when it cannot be written); a file that is
        gone is left gone (the target it served is gone with it)."""
        if Path(self.clock_file).exists():
            write_clock(self.clock_file, ClockSetting(0.0))

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe."""
        return {"driver": ref_of(ClockDriver), "clock_file": self.clock_file, "seconds": self.seconds,
                "rate": self.rate, "setting": ClockSetting(self.seconds, self.rate).text()}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "ClockDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup)."""
        return cls(str(undo.get("clock_file") or ""), float(undo.get("seconds") or 0), float(undo.get("rate") or 1))
