"""``aitrapp-chaos clock-shim``: build the wall-clock shim and print how to start a trader with it."""
from __future__ import annotations

from pathlib import Path

import click

from chaosaitrapp.cli.common import EXIT_CODES
from chaosaitrapp.errors import ChaosAitrappError


@click.command(name="clock-shim", epilog=EXIT_CODES,
               help="Build the wall-clock shim (an LD_PRELOAD library: the wall clock read from a file, the monotonic "
                    "clock untouched) and print the environment a trader is started with so the clock drills can "
                    "step its clock (CLOCK_FILE).")
@click.option("--clock-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the clock file the trader will read (created holding +0)")
@click.pass_context
def clock_shim(ctx: click.Context, clock_file: Path) -> None:
    """``clock-shim``."""
    from chaosaitrapp.targets.wallclock import wallclock_env  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    try:
        env = wallclock_env(clock_file.absolute())
    except (ChaosAitrappError, OSError) as exc:
        click.echo(f"aitrapp-chaos clock-shim: {exc}", err=True)
        ctx.exit(2)
        return
    for name, value in env.items():
        click.echo(f"{name}={value}")
    click.echo(f"# start the trader with these; then CLOCK_FILE={env['AITRAPP_WALL_CLOCK_FILE']} for the clock drills",
               err=True)
