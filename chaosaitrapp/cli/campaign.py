"""``aitrapp-chaos campaign``: a seeded schedule of overlapping faults over one order history, replayed from
its file, shrunk when it fails."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from chaosaitrapp.cli.common import EXIT_CODES


@click.command(epilog=EXIT_CODES,
               help="Draw a schedule of faults from the campaign families with --seed (or replay one with --replay), "
                    "write it and its Chaos Toolkit experiment into a folder of their own, and run it with `chaos run` "
                    "while orders flow at --rate; on a FAIL, shrink it to the smallest schedule that still fails. The "
                    "same seed, families, minutes, rate and overlap give the same schedule file, byte for byte.")
@click.option("--seed", type=int, default=None, help="the seed the schedule is drawn from")
@click.option("--minutes", type=float, default=10.0, show_default=True, help="the campaign's length")
@click.option("--families", default="", metavar="A,B", help="families to draw faults from (default: every campaign "
                                                            "family whose needs the target meets)")
@click.option("--rate", type=float, default=1.5, show_default=True,
              help="orders per second throughout (at most 20000 orders over the campaign; above 1000 the target's database must be known)")
@click.option("--overlap", type=float, default=0.4, show_default=True,
              help="the chance that the next fault begins while one is on")
@click.option("--replay", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="run a recorded schedule file again instead of drawing one")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the campaign's folder (default: <reports>/campaign_<seed>_<stamp>)")
@click.option("--schedule-only", is_flag=True, help="write the schedule and its experiment, run nothing")
@click.option("--shrink/--no-shrink", "do_shrink", default=True, show_default=True, help="shrink a failing schedule")
@click.option("--shrink-runs", type=click.IntRange(min=1, max=100), default=12, show_default=True,
              help="at most this many runs to shrink")
@click.option("--shrink-minutes", type=click.FloatRange(min=0.1, max=600), default=15.0, show_default=True,
              help="start no shrink run after this long")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="chaos run --var (repeatable)")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="chaos run --var-file (repeatable)")
@click.pass_context
def campaign(ctx: click.Context, seed: Optional[int], minutes: float, families: str, rate: float, overlap: float,
             replay: Optional[Path], out: Optional[Path], schedule_only: bool, do_shrink: bool, shrink_runs: int,
             shrink_minutes: float, variables: Tuple[str, ...], var_files: Tuple[Path, ...]) -> None:
    """``campaign``."""
    from chaosaitrapp.aitrapp import BROKER_ORDERS_PER_MIN  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.campaign.preflight import default_families  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.campaign.schedule import make_schedule, schedule_text  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.cli.campaign_runner import campaign_folder, replayed, run_campaign, write_campaign  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.cli.common import described  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.errors import ChaosAitrappError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.paths import reports_dir  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    if (seed is None) == (replay is None):
        click.echo("aitrapp-chaos campaign: give --seed (draw a schedule) or --replay FILE (run a recorded one)",
                   err=True)
        ctx.exit(2)
    bad = [v for v in variables if "=" not in v or not v.split("=", 1)[0].strip()]
    if bad:
        click.echo(f"aitrapp-chaos campaign: --var takes KEY=VALUE, got {bad[0]!r}", err=True)
        ctx.exit(2)
    try:
        names = [f.strip() for f in families.split(",") if f.strip()]
        if not names and replay is None:
            argv = [a for v in variables for a in ("--var", v)] + [a for f in var_files for a in ("--var-file", str(f))]
            names, left = default_families(described(argv))  # the target as the drill will see it
            for family, why in left.items():
                click.echo(f"aitrapp-chaos campaign: family {family} not drawn from (name it in --families to "
                           f"insist): {why}", err=True)
        schedule = replayed(replay) if replay is not None else make_schedule(seed, minutes, names, rate, overlap)
    except ChaosAitrappError as exc:
        click.echo(f"aitrapp-chaos campaign: {exc}", err=True)
        ctx.exit(2)
        return
    if schedule.rate * 60 > BROKER_ORDERS_PER_MIN and schedule.length_s > 60:
        click.echo(f"aitrapp-chaos campaign: --rate {schedule.rate:g} is above Kite's {BROKER_ORDERS_PER_MIN} orders a "
                   "minute: the trader's queue grows for the whole campaign, and orders still waiting at its end fail "
                   "orders_exactly_once", err=True)
    folder = campaign_folder(reports_dir(), schedule.seed, out)
    if schedule_only:
        experiment = write_campaign(schedule, folder, "campaign")
        click.echo(f"aitrapp-chaos campaign: {len(schedule.faults)} faults; schedule "
                   f"{folder / 'campaign.schedule.json'}; experiment {experiment}")
        click.echo(schedule_text(schedule), nl=False)
        ctx.exit(0)
    extra = []
    for value in variables:
        extra += ["--var", value]
    for path in var_files:
        extra += ["--var-file", str(path)]
    result = run_campaign(schedule, folder, extra_args=extra, echo=click.echo, shrink_runs=shrink_runs,
                          shrink_seconds=shrink_minutes * 60, do_shrink=do_shrink)
    click.echo(f"aitrapp-chaos campaign: {result['verdict']}; summary {folder / 'campaign.json'}")
    ctx.exit(result["exit_code"])
