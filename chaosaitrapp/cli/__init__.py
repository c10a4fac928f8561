"""``aitrapp-chaos`` and ``chaos aitrapp``: the lab, the drills, reports, cleanup and scaffolding.

One click group serves both: the console script ``aitrapp-chaos`` and the Chaos Toolkit CLI plugin
``chaos aitrapp`` (entry point ``chaostoolkit.cli_plugins``), so ``chaos aitrapp lab up`` and
``aitrapp-chaos lab up`` are the same command.
"""
from __future__ import annotations

import importlib
from typing import List, Optional

import click

from chaosaitrapp import __version__
from chaosaitrapp.cli.common import EXIT_CODES

#: The group's commands, ``{name: "module:attribute"}``, imported when one is asked for: every ``chaos``
#: command (``chaos run`` too) loads this group as a plugin, and none of them needs the lab's or a drill's code.
COMMANDS = {
    "lab": "chaosaitrapp.cli.lab:lab", "target": "chaosaitrapp.cli.drills:target",
    "proxy": "chaosaitrapp.cli.proxy:proxy", "clock-shim": "chaosaitrapp.cli.clock:clock_shim",
    "campaign": "chaosaitrapp.cli.campaign:campaign", "run": "chaosaitrapp.cli.drills:run",
    "doctor": "chaosaitrapp.cli.drills:doctor", "validate": "chaosaitrapp.cli.drills:validate",
    "report": "chaosaitrapp.cli.drills:report", "trends": "chaosaitrapp.cli.drills:trends",
    "cleanup": "chaosaitrapp.cli.drills:cleanup", "docs": "chaosaitrapp.cli.drills:docs",
    "new": "chaosaitrapp.cli.drills:new",
}


class LazyGroup(click.Group):
    """A click group whose commands (:data:`COMMANDS`) are imported when named (or listed, for ``--help``)."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)


@click.group(name="aitrapp", cls=LazyGroup, epilog=EXIT_CODES,
             help="AITRAPP's resilience drills: the reference lab, the drills, reports and cleanup.")
@click.version_option(__version__, prog_name="chaosaitrapp")
def cli() -> None:
    """The command group (``aitrapp-chaos`` / ``chaos aitrapp``)."""


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
