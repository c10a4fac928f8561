"""A process's wall clock moved at run time, its monotonic clock left alone: the wall-clock shim and its file.

A target is started once with :func:`wallclock_env` in its environment: ``LD_PRELOAD`` of the shim
(``shim/wallclock.c``, built here by :func:`build_shim` with the system C compiler) and
``AITRAPP_WALL_CLOCK_FILE``, the clock file. From then on, the offset the file holds (``+0``, ``-300``,
``+3600``: seconds from the real time) is added to its wall clock (``CLOCK_REALTIME``, ``gettimeofday``,
``time``), re-read every 20 ms, so a jump lands when the file is written; its monotonic clock, sleeps and
timed waits are untouched, as after an NTP step.

Why not libfaketime: Debian's 0.9.10 makes every Python ``time.sleep`` fail with EINVAL once told to leave the
monotonic clock alone, and the PyPI build (3.0.1) still shifts the deadline of every timed wait on a monotonic
condition variable by the offset: after a step back of 300 s, CPython's 5 ms GIL hand-over waits became
300 s waits and the lab trader's API stalled for 1.5 s at a time (measured here). The file is libfaketime's
format for an offset, so one written for one is read by the other.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional, Union

from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.paths import state_dir

#: The shim's source, shipped with the package.
SOURCE = Path(__file__).with_name("shim") / "wallclock.c"
#: The environment variable naming the clock file, read by the shim at start.
FILE_VARIABLE = "AITRAPP_WALL_CLOCK_FILE"
#: The largest jump a drill may ask for (seconds): a day.
MAX_JUMP_S = 86400.0
_OFFSET = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)\s*$")


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
        write_offset(path, 0.0)
    return {"LD_PRELOAD": str(library or build_shim()), FILE_VARIABLE: str(path)}


def format_offset(seconds: float) -> str:
    """``seconds`` as the clock file writes it: ``+3600``, ``-300``, ``+0``, ``+1.5``."""
    text = f"{seconds:+.3f}".rstrip("0").rstrip(".")
    return "+0" if text in ("+", "-", "+0", "-0") else text


def write_offset(clock_file: Union[str, Path], seconds: float) -> None:
    """Set the wall clock of every process started under ``clock_file`` to real time plus ``seconds``: the
    file is replaced whole (a reader never sees half a line). TargetError when it cannot be written."""
    path = Path(clock_file)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text(format_offset(seconds) + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise TargetError(f"clock file {path}: cannot write it: {exc.strerror or exc}", target=str(path)) from None


def read_offset(clock_file: Union[str, Path]) -> float:
    """The offset ``clock_file`` holds (seconds; an empty file is ``+0``). ConfigError when the file is
    missing or holds anything but an offset."""
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
        return 0.0
    match = _OFFSET.match(text)
    if match is None:
        raise ConfigError(f"clock file {path} holds {text.strip()[:40]!r}, not an offset such as +0 or -300",
                          key="clock_file")
    return float(match.group(1))


def check_jump(jump: object) -> float:
    """``jump`` (``+3600``, ``-300``, a number) as seconds, non-zero and within a day either way;
    ConfigError naming the value otherwise."""
    text = str(jump).strip()
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"clock jump must be a signed number of seconds such as +3600 or -300, got {jump!r}",
                          key="clock_jump") from None
    if not math.isfinite(seconds) or seconds == 0 or abs(seconds) > MAX_JUMP_S:
        raise ConfigError(f"clock jump must be non-zero and at most {MAX_JUMP_S:g}s either way, got {jump!r}",
                          key="clock_jump")
    return seconds
