"""What every ``aitrapp-chaos`` command shares: the exit codes it documents, and output that may be cut short."""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, Dict, Sequence

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


def described(argv: Sequence[str] = ()) -> Dict[str, Any]:
    """The configuration a drill would start from, with the deployment description applied as ``chaos run`` applies
    it (``AITRAPP_DEPLOYMENT``, a ``--var-file`` in ``argv``, or the lab's) and the ``--var KEY=VALUE`` of ``argv`` over
    it. ConfigError for a description that is named but cannot be read."""
    from chaosaitrapp.deployment.description import apply  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    configuration: Dict[str, Any] = {}
    args = list(argv)
    given = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--var"]
    apply(configuration, {}, argv=args)
    for pair in given:
        key, _, val = pair.partition("=")
        configuration[key.strip()] = val
    return configuration
