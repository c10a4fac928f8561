"""``aitrapp-chaos run|report|cleanup|docs|new``: drills, their reports, the fault ledger, the docs, scaffolding."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from chaosaitrapp.cli.common import EXIT_CODES, described, quiet_broken_pipe


@click.command(epilog=EXIT_CODES, help="Run drills with `chaos run`, every one even when an earlier one fails; "
                                       "write JUnit, a JSON summary and an HTML index. DRILL is a bundled drill's "
                                       "name or an experiment file (default: the bundled drills that fit the "
                                       "target: every single-instance drill, or, when it has several replicas, "
                                       "the split-brain drills).")
@click.argument("drills", nargs=-1, metavar="[DRILL_OR_FILE]...")
@click.option("--experiments", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="folder to look drill names up in (default: ./experiments if it has them, else the bundled ones)")
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="evidence folder (default: $AITRAPP_REPORTS_DIR or reports/chaos)")
@click.option("--dry", default=None, type=click.Choice(["probes", "actions", "activities", "pause"]),
              help="chaos run --dry: inject nothing (verdict DRY)")
@click.option("--strict", is_flag=True,
              help="a drill that does not apply to the deployment (it lacks what the drill needs) is an error (exit 2), "
                   "not skipped")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE",
              help="chaos run --var: a configuration value for every drill (repeatable)")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="chaos run --var-file: configuration and secrets from a JSON/YAML/env file (repeatable)")
@click.option("--rollback-strategy", default=None, type=click.Choice(["default", "always", "never", "deviated"]),
              help="chaos run --rollback-strategy (the bundled drills roll back always)")
@click.option("--hypothesis-strategy", default=None,
              type=click.Choice(["default", "before-method-only", "after-method-only", "during-method-only",
                                 "continuously"]),
              help="chaos run --hypothesis-strategy")
@click.option("--settings", "settings_file", default=None,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="chaos --settings: Chaos Toolkit's own settings file")
@click.option("--repeat", default=1, type=click.IntRange(min=1), metavar="N",
              help="run each drill N times in a row: p50/p95/max of its detection and recovery, its fail rate and "
                   "whether it is flaky, printed and written to <suite>.trends.json")
@click.option("--baseline", default=None, type=click.Path(exists=True, path_type=Path), metavar="TRENDS_OR_DIR",
              help="compare with a stored trends file (or the newest in a folder): a p95 grown by more than "
                   "--regression-share, or a check that always passed there and fails now, is a regression (exit 1)")
@click.option("--regression-share", default=0.2, type=click.FloatRange(min=0.0), show_default=True,
              help="the p95 growth over the baseline's that is a regression")
@click.pass_context
def run(ctx: click.Context, drills: Tuple[str, ...], experiments: Optional[Path], out: Optional[Path],
        dry: Optional[str], strict: bool, variables: Tuple[str, ...], var_files: Tuple[Path, ...],
        rollback_strategy: Optional[str], hypothesis_strategy: Optional[str], settings_file: Optional[Path],
        repeat: int, baseline: Optional[Path], regression_share: float) -> None:
    """``run``."""
    from chaosaitrapp.deployment.replicas import replicas_of  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.errors import ChaosAitrappError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.suite import default_drills, locate, run_suite  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.verdict import suite_exit_code  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    files = []
    try:
        if drills:
            files = [locate(name, experiments) for name in drills]
        else:
            replicas = len(replicas_of(described()))
            files = default_drills(experiments, replicas)
            kind = f"{replicas} replicas: the split-brain drills" if replicas > 1 else "one instance: every drill of one"
            click.echo(f"aitrapp-chaos run: the target has {kind} ({', '.join(f.stem for f in files)})")
    except (FileNotFoundError, ChaosAitrappError) as exc:
        click.echo(f"aitrapp-chaos run: {exc}", err=True)
        ctx.exit(2)
    bad = [v for v in variables if "=" not in v or not v.split("=", 1)[0].strip()]
    if bad:
        click.echo(f"aitrapp-chaos run: --var takes KEY=VALUE, got {bad[0]!r}", err=True)
        ctx.exit(2)
    extra = ["--dry", dry] if dry else []
    for value in variables:
        extra += ["--var", value]
    for path in var_files:
        extra += ["--var-file", str(path)]
    if rollback_strategy:
        extra += ["--rollback-strategy", rollback_strategy]
    if hypothesis_strategy:
        extra += ["--hypothesis-strategy", hypothesis_strategy]
    global_args = ["--settings", str(settings_file)] if settings_file else []
    try:
        result = run_suite(files, out, extra, echo=click.echo, named=bool(drills), global_args=global_args,
                           repeat=repeat, baseline=baseline, share=regression_share)
    except ChaosAitrappError as exc:
        click.echo(f"aitrapp-chaos run: {exc}", err=True)
        ctx.exit(2)
    code = suite_exit_code(result["runs"], strict)
    ctx.exit(1 if code == 0 and result["regressions"] else code)


@click.command(epilog=EXIT_CODES, help="Preview, drill by drill, what a run would do against this deployment, "
                                       "injecting nothing: whether each drill applies, what it would act on "
                                       "(container, pid, proxy route, replica), the timing it would be judged by "
                                       "and where that came from, and every problem, one line each. Exit 0 when "
                                       "every selected drill can run, 2 otherwise.")
@click.argument("drills", nargs=-1, metavar="[DRILL_OR_FILE]...")
@click.option("--experiments", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="folder to look drill names up in (default: ./experiments if it has them, else the bundled ones)")
@click.option("--deployment", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="the deployment description to use (default: $AITRAPP_DEPLOYMENT, else the lab's when a lab "
                   "is the target)")
@click.option("--strict", is_flag=True, help="a drill that does not apply is a problem (exit 2)")
@click.pass_context
def doctor(ctx: click.Context, drills: Tuple[str, ...], experiments: Optional[Path], deployment: Optional[Path],
           strict: bool) -> None:
    """``doctor``."""
    import os  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    from chaosaitrapp.config import core_setting, value  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.deployment.description import apply  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.deployment.replicas import replicas_of  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.doctor import examine, exit_code, kubernetes_access, render  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.errors import ChaosAitrappError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.suite import default_drills, locate  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    if deployment is not None:
        os.environ["AITRAPP_DEPLOYMENT"] = str(deployment.resolve())
    try:
        files = [locate(name, experiments) for name in drills] if drills else \
            default_drills(experiments, len(replicas_of(described())))
    except (FileNotFoundError, ChaosAitrappError) as exc:
        click.echo(f"aitrapp-chaos doctor: {exc}", err=True)
        ctx.exit(2)
        return
    found = [examine(path) for path in files]
    configuration: dict = {}
    applied = apply(configuration, {}, argv=[])
    if value(configuration, core_setting("k8s_namespace")):  # drills on Kubernetes: the run's rights there
        found.append(kubernetes_access(configuration))
    for line in render(found, configuration, applied.applied):
        click.echo(line)
    ctx.exit(exit_code(found, named=bool(drills), strict=strict))


@click.group(epilog=EXIT_CODES, help="Describe the deployment the drills run against (a file a team commits).")
def target() -> None:
    """``target``."""


@target.command(name="init", epilog=EXIT_CODES,
                help="Write a commented deployment description from what runs: a compose project's containers "
                     "(--compose-project), a Kubernetes namespace (--k8s-namespace with --k8s-trader-selector), the "
                     "lab's own (--from-lab), or a template; secrets as references only.")
@click.option("--compose-project", default=None, help="the compose project to describe (its containers' label)")
@click.option("--k8s-namespace", default=None, help="the Kubernetes namespace to describe (KUBECONFIG's cluster)")
@click.option("--k8s-trader-selector", default=None, help="the label selector of the trader's pods (app=aitrapp)")
@click.option("--from-lab", is_flag=True, help="start from the description the lab wrote for itself")
@click.option("--out", default=Path("aitrapp-deployment.yaml"), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="where to write it")
@click.option("--force", is_flag=True, help="overwrite an existing file")
@click.pass_context
def target_init(ctx: click.Context, compose_project: Optional[str], k8s_namespace: Optional[str],
                k8s_trader_selector: Optional[str], from_lab: bool, out: Path, force: bool) -> None:
    """``target init``."""
    from chaosaitrapp.config import settings_from  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.deployment import init  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.description import dump  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.errors import ChaosAitrappError, ConfigError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.targets.lab import lab_description  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    if out.exists() and not force:
        click.echo(f"aitrapp-chaos target init: {out} exists (--force to overwrite)", err=True)
        ctx.exit(2)
        return
    to_fill = init.TO_FILL
    try:
        if k8s_namespace or k8s_trader_selector:
            from chaosaitrapp.deployment import init_kubernetes  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
            if not (k8s_namespace and k8s_trader_selector):
                raise ConfigError("--k8s-namespace and --k8s-trader-selector go together")
            found, notes = init_kubernetes.from_kubernetes(k8s_namespace, k8s_trader_selector)
            to_fill = init_kubernetes.TO_FILL
        elif compose_project:
            found, notes = init.from_compose(compose_project)
        elif from_lab:
            found, notes = init.from_lab(lab_description(settings_from({}).api))
        else:
            found, notes = init.template()
    except ChaosAitrappError as exc:
        click.echo(f"aitrapp-chaos target init: {exc}", err=True)
        ctx.exit(2)
        return
    dump(found, out, trailer=[f"  # seen: {note}" for note in notes] + list(to_fill))
    click.echo(f"wrote {out}; check it with: aitrapp-chaos doctor --deployment {out}")


@click.command(epilog=EXIT_CODES, help="Check drills offline, touching no target: Chaos Toolkit's own validation, "
                                       "then every check of the pre-flight that needs no target (settings and "
                                       "their spelling, activity arguments, each fault family's offline checks, "
                                       "the evidence control's arguments), one line per problem. Exit 0 when "
                                       "every drill is valid, 2 otherwise.")
@click.argument("drills", nargs=-1, metavar="[DRILL_OR_FILE]...")
@click.option("--experiments", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="folder to look drill names up in (default: ./experiments if it has them, else the bundled ones)")
@click.pass_context
def validate(ctx: click.Context, drills: Tuple[str, ...], experiments: Optional[Path]) -> None:
    """``validate``."""
    from chaosaitrapp.doctor import examine  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.errors import ChaosAitrappError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.suite import bundled_drills, locate  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    try:
        names = list(drills) or bundled_drills(experiments)
        files = [locate(name, experiments) for name in names]
    except (FileNotFoundError, ChaosAitrappError) as exc:
        click.echo(f"aitrapp-chaos validate: {exc}", err=True)
        ctx.exit(2)
        return
    bad = 0
    for path in files:
        found = examine(path, online=False)
        problems = found.problems + [f"not applicable: {line}" for line in found.not_applicable]
        click.echo(f"{found.drill}: {'valid' if not found.problems else 'invalid'}")
        for line in problems:
            click.echo(f"  {line}")
        bad += bool(found.problems)
    ctx.exit(2 if bad else 0)


@click.command(epilog=EXIT_CODES, help="One page of the drill runs recorded in a reports folder over time (default: "
                                       "$AITRAPP_REPORTS_DIR or reports/chaos): per drill, each detection and "
                                       "recovery figure drawn over its runs, p50/p95, fail rate, flakiness, and the "
                                       "runs with links to their reports.")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="the page to write (default: FOLDER/trends.html)")
@click.pass_context
def trends(ctx: click.Context, folder: Optional[Path], out: Optional[Path]) -> None:
    """``trends``."""
    from chaosaitrapp.config import known_secrets  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.paths import reports_dir  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.suite import runs_over_time  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    folder = folder or reports_dir()
    if not folder.is_dir():
        click.echo(f"aitrapp-chaos trends: no reports folder at {folder}", err=True)
        ctx.exit(2)
    result = runs_over_time(folder, out, secrets=known_secrets())
    if not result["runs"]:
        click.echo(f"aitrapp-chaos trends: no recorded drill run (Chaos Toolkit journal) in {folder}", err=True)
        ctx.exit(2)
    click.echo(f"{len(result['runs'])} run(s) of {len({r['drill'] for r in result['runs']})} drill(s); "
               f"page {result['page']}")


@click.command(epilog=EXIT_CODES, help="(Re)build the HTML report of a drill journal, or of every journal in a "
                                       "folder plus its index, JUnit and summary (index.*).")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="where to write the reports (default: beside the journals)")
@click.pass_context
def report(ctx: click.Context, path: Path, out: Optional[Path]) -> None:
    """``report``."""
    from chaosaitrapp.config import known_secrets  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.suite import rebuild_reports  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    if not path.exists():
        click.echo(f"aitrapp-chaos report: {path} does not exist", err=True)
        ctx.exit(2)
    try:
        result = rebuild_reports(path, out, secrets=known_secrets())
    except (ValueError, OSError, KeyError, TypeError) as exc:
        click.echo(f"aitrapp-chaos report: {path} is not a readable Chaos Toolkit journal: "
                   f"{type(exc).__name__}: {exc}", err=True)
        ctx.exit(2)
        return
    if not result["runs"]:
        click.echo(f"aitrapp-chaos report: no Chaos Toolkit journal at {path}", err=True)
        ctx.exit(2)
    for item in result["runs"]:
        click.echo(f"{item['drill']}: {item['verdict']}; report {item['report']}")
    click.echo(f"{len(result['runs'])} drill report(s), {result['verdict']}; index {result['index']}; "
               f"JUnit {result['junit']}")


@click.command(epilog=EXIT_CODES, help="Undo the faults left in the fault ledger (restart stopped dependencies, "
                                       "clear proxy faults), one line per entry.")
@click.option("--ledger", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="ledger file (default: $AITRAPP_CHAOS_STATE/ledger.json)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="seconds allowed for each undo")
@click.option("--only-expired", is_flag=True,
              help="undo only faults whose lease ran out or whose run is gone (leave drills in progress alone)")
@click.option("--forget", "forget", default=None, metavar="ENTRY",
              help="drop ledger entry ENTRY (its id or the start of it) without undoing it: after a person restored "
                   "what it stands for by hand (a process whose environment the ledger never holds)")
@click.pass_context
def cleanup(ctx: click.Context, ledger: Optional[Path], timeout: float, only_expired: bool,
            forget: Optional[str]) -> None:
    """``cleanup``."""
    from chaosaitrapp.paths import ledger_path  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.safety.cleanup import cleanup as undo_all  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.safety.cleanup import format_result  # noqa: PLC0415 - CLI start-up: a command imports only what it runs
    from chaosaitrapp.safety.ledger import Ledger, LedgerError  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    book = Ledger(ledger or ledger_path())
    if forget is not None:
        matches = [e for e in book.outstanding() if e.id.startswith(forget.strip())] if forget.strip() else []
        if len(matches) != 1:
            click.echo(f"aitrapp-chaos cleanup --forget: {len(matches)} outstanding entries start with {forget!r} "
                       f"in {book.path} (give one entry's id)", err=True)
            ctx.exit(2)
            return
        book.clear(matches[0].id)
        click.echo(f"forgot {matches[0].target} ({matches[0].what}, entry {matches[0].id[:8]}): not undone, as asked")
        return
    try:
        results = undo_all(book, timeout=timeout, only_expired=only_expired)
        for result in results:
            click.echo(format_result(result))
        remaining = book.outstanding()
    except LedgerError as exc:
        click.echo(f"aitrapp-chaos cleanup: {exc}", err=True)
        ctx.exit(1)
        return
    if not results:
        click.echo(f"no outstanding faults in {book.path}")
    live = [r for r in results if r["status"] == "skipped"]
    stuck = len(remaining) - len(live)
    if stuck > 0:
        click.echo(f"{stuck} fault(s) still outstanding in {book.path}", err=True)
        ctx.exit(1)


@click.command(epilog=EXIT_CODES, help="The activity, control and checker reference (markdown), from the docstrings.")
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write it to this file instead of stdout")
@click.option("--readme", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="also rewrite this README's generated tables (the settings table)")
@click.option("--experiments", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="also write the shipped experiments into this directory, from the families' drill declarations")
@quiet_broken_pipe
def docs(out: Optional[Path], readme: Optional[Path], experiments: Optional[Path]) -> None:
    """``docs``."""
    from chaosaitrapp.docs import activity_reference, update_readme, write_experiments  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    text = activity_reference()
    if out:
        out.write_text(text)
    else:
        click.echo(text)
    if readme:
        update_readme(readme)
    if experiments:
        for name in write_experiments(experiments):
            click.echo(f"wrote {experiments / (name + '.json')}", err=True)


@click.command(epilog=EXIT_CODES, help="Write a minimal, valid, commented experiment of your own: the controls, the "
                                       "rollback strategy, configuration from the environment, a fault, waits and "
                                       "a tolerance probe. NAME becomes the drill's name.")
@click.argument("name")
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="where to write NAME.yaml (or NAME.json)")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="yaml (commented) or json (descriptions instead of comments)")
@click.option("--force", is_flag=True, help="overwrite an existing file")
@click.pass_context
def new(ctx: click.Context, name: str, directory: Path, fmt: str, force: bool) -> None:
    """``new``."""
    from chaosaitrapp.scaffold import ScaffoldError, write_experiment  # noqa: PLC0415 - CLI start-up: a command imports only what it runs

    try:
        path = write_experiment(name, directory, fmt=fmt, force=force)
    except ScaffoldError as exc:
        click.echo(f"aitrapp-chaos new: {exc}", err=True)
        ctx.exit(2)
        return
    click.echo(f"wrote {path}; run it with: chaos --no-version-check run {path}")
