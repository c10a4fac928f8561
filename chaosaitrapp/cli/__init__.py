"""``aitrapp-chaos`` and ``chaos aitrapp``: the lab, the drills, reports, cleanup and scaffolding.

One click group serves both: the console script ``aitrapp-chaos`` and the Chaos Toolkit CLI plugin
``chaos aitrapp`` (entry point ``chaostoolkit.cli_plugins``), so ``chaos aitrapp lab up`` and
``aitrapp-chaos lab up`` are the same command.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, List, Optional

import click

from chaosaitrapp import __version__

EXIT_CODES = """\b
Exit codes:
  0  success: every drill PASSED (or was a DRY run), the command did what it says
  1  a drill FAILED, or faults remain outstanding after cleanup
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


@click.group(name="aitrapp", epilog=EXIT_CODES,
             help="AITRAPP's resilience drills: the reference lab, the drills, reports and cleanup.")
@click.version_option(__version__, prog_name="chaosaitrapp")
def cli() -> None:
    """The command group (``aitrapp-chaos`` / ``chaos aitrapp``)."""


def _register() -> None:
    from chaosaitrapp.cli import drills, lab

    cli.add_command(lab.lab)
    for command in (drills.run, drills.report, drills.cleanup, drills.docs, drills.new):
        cli.add_command(command)


_register()


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``aitrapp-chaos``; returns the exit code (see :data:`EXIT_CODES`)."""
    try:
        code = cli.main(args=argv, prog_name="aitrapp-chaos", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        return 2
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
