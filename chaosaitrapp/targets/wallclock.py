"""A process's wall clock moved at run time, its monotonic clock left alone: the wall-clock shim and its file.

A target is started once with :func:`wallclock_env` in its environment: ``LD_PRELOAD`` of the shim
(``shim/wallclock.c``, built here by :func:`build_shim` with the system C compiler) and
``AITRAPP_WALL_CLOCK_FILE``, the clock file. From then on, the offset the file holds (``+0``, ``-300``,
``+3600``: seconds from the real time) is added to its wall clock (``CLOCK_REALTIME``, ``gettimeofday``,
``time``), re-read every 20 ms, so a jump lands when the file is written; with a rate after it (``+0 x0.25``)
the wall clock runs at that rate from when the shim reads it (drift). Its monotonic clock, sleeps and timed
waits are untouched, as after an NTP step.

Why not libfaketime: Debian's 0.9.10 makes every Python ``time.sleep`` fail with EINVAL once told to leave the
monotonic clock alone, and the PyPI build (3.0.1) still shifts the deadline of every timed wait on a monotonic
condition variable by the offset: after a step back of 300 s, CPython's 5 ms GIL hand-over waits became
300 s waits and the lab trader's API stalled for 1.5 s at a time (measured here). The file is libfaketime's
format for an offset and a rate, so one written for one is read by the other.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, NamedTuple, Optional, Union

from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.paths import state_dir

#: The shim's source, shipped with the package.
SOURCE = Path(__file__).with_name("shim") / "wallclock.c"
#: The environment variable naming the clock file, read by the shim at start.
FILE_VARIABLE = "AITRAPP_WALL_CLOCK_FILE"
#: The largest jump a drill may ask for (seconds): a day.
MAX_JUMP_S = 86400.0
#: The ``jump`` that lands the clock :data:`TOKEN_EXPIRY_LEAD_S` seconds before Kite's daily token expiry
#: (06:00 IST).
TOKEN_EXPIRY = "to_token_expiry"
TOKEN_EXPIRY_LEAD_S = 10.0
TOKEN_EXPIRY_HOUR = 6
IST = timezone(timedelta(hours=5, minutes=30), "IST")
_SETTING = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)(?:\s+x(\d+(?:\.\d+)?))?\s*$")
#: The drift rates a drill may ask for, and how far from 1 at least.
MIN_RATE = 0.1
MAX_RATE = 10.0
MIN_DRIFT = 0.05


def build_shim(directory: Optional[Path] = None) -> Path:
    """The shim built for this machine: ``<state dir>/clock/wallclock-<source hash>.so``, compiled with ``cc``
    when not there yet (the file is replaced whole). ConfigError naming the missing compiler, TargetError with
    the compiler's own words when it fails."""
    source = SOURCE.read_bytes()
    target_dir = Path(directory) if directory else state_dir() / "clock"
    library = target_dir / f"wallclock-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if library.is_file():
        return library
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise ConfigError("the wall-clock shim needs a C compiler to build: apt-get install gcc libc6-dev "
                          "(scripts/install/apt.sh installs them)", key="clock_file")
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = library.with_name(f".{library.name}.{os.getpid()}")
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SOURCE), "-ldl", "-lpthread"],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise TargetError(f"building the wall-clock shim failed: {done.stderr.strip()[-500:]}", target="clock")
    os.replace(partial, library)
    return library


def wallclock_env(clock_file: Union[str, Path], library: Optional[Path] = None) -> Dict[str, str]:
    """The environment that starts a process with its wall clock read from ``clock_file`` (module docstring);
    the file is created holding ``+0`` when absent, the shim built when needed."""
    path = Path(clock_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_clock(path, ClockSetting(0.0))
    return {"LD_PRELOAD": str(library or build_shim()), FILE_VARIABLE: str(path)}


class ClockSetting(NamedTuple):
    """What a clock file holds: the wall clock is the real time plus ``offset`` seconds, and, with a ``rate``
    other than 1, runs at that rate from when the shim reads it (drift: ``0.25`` a quarter as fast)."""

    offset: float
    rate: float = 1.0

    @property
    def true(self) -> bool:
        """True when the clock is the real time (``+0``, no drift)."""
        return self.offset == 0 and self.rate == 1

    def text(self) -> str:
        """As the clock file writes it: ``+3600``, ``-300``, ``+0``, ``+1.5``, ``+0 x0.25``."""
        text = f"{self.offset:+.3f}".rstrip("0").rstrip(".")
        text = "+0" if text in ("+", "-", "+0", "-0") else text
        return text if self.rate == 1 else f"{text} x{self.rate:g}"


def write_clock(clock_file: Union[str, Path], setting: ClockSetting) -> None:
    """Set the wall clock of every process started under ``clock_file`` to ``setting``: the file is replaced
    whole (a reader never sees half a line). TargetError when it cannot be written."""
    path = Path(clock_file)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text(setting.text() + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise TargetError(f"clock file {path}: cannot write it: {exc.strerror or exc}", target=str(path)) from None


def read_clock(clock_file: Union[str, Path]) -> ClockSetting:
    """What ``clock_file`` holds (an empty file is ``+0``). ConfigError when the file is missing or holds
    anything but a clock setting."""
    path = Path(clock_file)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"clock file {path} does not exist: start the trader with the wall-clock shim "
                          f"(LD_PRELOAD and {FILE_VARIABLE} naming it; aitrapp-chaos lab up --fake-clock does so for "
                          "the lab)", key="clock_file") from None
    except OSError as exc:
        raise ConfigError(f"clock file {path}: cannot read it: {exc.strerror or exc}", key="clock_file") from None
    if not text.strip():
        return ClockSetting(0.0)
    match = _SETTING.match(text)
    if match is None:
        raise ConfigError(f"clock file {path} holds {text.strip()[:40]!r}, not an offset such as +0 or -300 "
                          "(and a rate such as x0.25)", key="clock_file")
    return ClockSetting(float(match.group(1)), float(match.group(2) or 1.0))


def next_token_expiry(now: float) -> float:
    """The Unix time of the next 06:00 IST (Kite's daily token expiry) at or after ``now``."""
    local = datetime.fromtimestamp(now, IST)
    expiry = local.replace(hour=TOKEN_EXPIRY_HOUR, minute=0, second=0, microsecond=0)
    if expiry.timestamp() < now:
        expiry += timedelta(days=1)
    return expiry.timestamp()


def check_jump(jump: object, now: Optional[float] = None) -> ClockSetting:
    """``jump`` as the clock setting it makes: a signed number of seconds (``+3600``, ``-300``: non-zero, within
    a day either way), ``to_token_expiry`` (to :data:`TOKEN_EXPIRY_LEAD_S` seconds before the next 06:00 IST
    from ``now``, default the time now) or a drift ``xR`` (the clock runs at rate R, from 0.1 to 10 and at least
    5 % away from 1: ``x0.25`` a quarter as fast). ConfigError naming the value otherwise."""
    text = str(jump).strip()
    if text == TOKEN_EXPIRY:
        now = time.time() if now is None else now
        return ClockSetting(round(next_token_expiry(now + TOKEN_EXPIRY_LEAD_S + 1) - TOKEN_EXPIRY_LEAD_S - now, 3))
    if text.startswith("x"):
        try:
            rate = float(text[1:])
        except ValueError:
            rate = math.nan
        if not (MIN_RATE <= rate <= MAX_RATE) or abs(rate - 1) < MIN_DRIFT:
            raise ConfigError(f"clock drift must be a rate xR from x{MIN_RATE:g} to x{MAX_RATE:g}, at least "
                              f"{MIN_DRIFT:.0%} away from x1, got {jump!r}", key="clock_jump")
        return ClockSetting(0.0, rate)
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"clock jump must be a signed number of seconds such as +3600 or -300, "
                          f"{TOKEN_EXPIRY} or a drift such as x0.25, got {jump!r}", key="clock_jump") from None
    if not math.isfinite(seconds) or seconds == 0 or abs(seconds) > MAX_JUMP_S:
        raise ConfigError(f"clock jump must be non-zero and at most {MAX_JUMP_S:g}s either way, got {jump!r}",
                          key="clock_jump")
    return ClockSetting(seconds)
