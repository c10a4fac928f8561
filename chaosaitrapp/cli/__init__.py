"""``aitrapp-chaos`` and ``chaos aitrapp``: the lab, the drills, reports, cleanup and scaffolding.

One click group serves both: the console script ``aitrapp-chaos`` and the Chaos Toolkit CLI plugin
``chaos aitrapp`` (entry point ``chaostoolkit.cli_plugins``), so ``chaos aitrapp lab up`` and
``aitrapp-chaos lab up`` are the same command.
"""
from __future__ import annotations

from typing import List, Optional

import click

from chaosaitrapp import __version__
from chaosaitrapp.cli import campaign, clock, drills, lab, proxy
from chaosaitrapp.cli.common import EXIT_CODES


@click.group(name="aitrapp", epilog=EXIT_CODES,
             help="AITRAPP's resilience drills: the reference lab, the drills, reports and cleanup.")
@click.version_option(__version__, prog_name="chaosaitrapp")
def cli() -> None:
    """The command group (``aitrapp-chaos`` / ``chaos aitrapp``)."""


cli.add_command(lab.lab)
cli.add_command(drills.target)
cli.add_command(proxy.proxy)
cli.add_command(clock.clock_shim)
cli.add_command(campaign.campaign)
for command in (drills.run, drills.doctor, drills.validate, drills.report, drills.trends, drills.cleanup, drills.docs, drills.new):
    cli.add_command(command)


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
