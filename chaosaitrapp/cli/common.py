"""What every ``aitrapp-chaos`` command shares: the exit codes it documents, and output that may be cut short."""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable

EXIT_CODES = """\b
Exit codes:
  0  success: every drill PASSED (or was a DRY run), the command did what it says
  1  a drill FAILED, a regression against --baseline, or faults remain outstanding after cleanup
  2  bad input: unknown drill or file, bad option value, a lab that cannot start, a drill its
     pre-flight refused (nothing was injected)
  3  lab status: no lab is up"""


def quiet_broken_pipe(func: Callable[..., Any]) -> Callable[..., Any]:
    """Let output be cut short (``aitrapp-chaos docs | head``) without a traceback: stdout is pointed
    at /dev/null and the command exits 0 when its reader goes away."""

    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0)

    return inner
