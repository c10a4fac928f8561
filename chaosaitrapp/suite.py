"""The one suite runner: drills run as ``chaos run`` subprocesses, or journals already recorded,
turned into *runs* and written out for CI (JUnit XML, a JSON summary, one HTML index).

A run is ``{"drill", "verdict", "reasons", "duration", "report", "journal", "log", "exit_code", "refused"}``
(``refused``: its pre-flight refused it, so it acted on nothing: bad input, not a failed drill).
Its verdict is the one the evidence control recorded in the journal
(:func:`chaosaitrapp.verdict.recorded`); a journal without it is FAIL, and a PASS whose ``chaos
run`` exited non-zero is FAIL too. Every drill of a suite is run even when an earlier one failed;
the suite fails if any did (a DRY run is not a failure).

Without names, the bundled drills that fit the target run (:func:`default_drills`: the single-instance
ones, or, against several replicas, the split-brain ones). Drills are named by file
(``path/to/my_drill.json``) or by name: ``leader_lock`` is looked up in
the experiments folder given (default ``./experiments`` when it has it, else the experiments this
package ships), so the bundled drills run from any directory after ``pip install``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import yaml

from chaosaitrapp.config import known_secrets
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import stamp
from chaosaitrapp.paths import reports_dir
from chaosaitrapp.report.history import render_history
from chaosaitrapp.report.html import write_drill_report
from chaosaitrapp.report.junit import write_junit, write_summary_json
from chaosaitrapp.report.suite import render_suite_index
from chaosaitrapp.report.trends import (
    DEFAULT_SHARE,
    compare,
    describe,
    drill_trends,
    trends_document,
    trends_of_document,
)
from chaosaitrapp.verdict import extension, recorded, suite_verdict

PACKAGED_EXPERIMENTS = Path(__file__).resolve().parent / "experiments"
EXPERIMENT_SUFFIXES = (".json", ".yaml", ".yml")
Echo = Callable[[str], None]


def bundled_drills(folder: Optional[Path] = None) -> List[str]:
    """The drill names of the experiments in ``folder`` (default: the ones this package ships), sorted."""
    folder = folder or PACKAGED_EXPERIMENTS
    return sorted(p.stem for p in folder.glob("*") if p.suffix in EXPERIMENT_SUFFIXES)


def load_experiment(path: Path) -> Dict[str, Any]:
    """The experiment in ``path`` (JSON, or YAML for ``.yaml``/``.yml``); ConfigError naming the file and
    what is wrong when it cannot be read, is not valid JSON/YAML, or is not an experiment object."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"experiment {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text) if Path(path).suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"experiment {path}: not valid {'YAML' if Path(path).suffix != '.json' else 'JSON'}: "
                          f"{str(exc).splitlines()[0][:200]}") from None
    if not isinstance(data, dict) or not data.get("method"):
        raise ConfigError(f"experiment {path}: not a Chaos Toolkit experiment (no 'method')")
    return data


REPLICAS_TAG = "replicas"


def needs_replicas(experiment: Path) -> bool:
    """True for a drill that needs several replicas of the target (tagged ``replicas``: the split-brain drills)."""
    try:
        return REPLICAS_TAG in (load_experiment(experiment).get("tags") or [])
    except ConfigError:
        return False


def default_drills(experiments: Optional[Path] = None, replicas: int = 1) -> List[Path]:
    """The bundled drills that fit a target with ``replicas`` replicas: with one, every drill of a single
    instance; with several, the drills that need them (the single-instance drills judge the ``API`` as
    the one leader, which a replica set does not promise after a fault)."""
    files = [locate(name, experiments) for name in bundled_drills(experiments)]
    return [f for f in files if needs_replicas(f) == (replicas > 1)]


def locate(drill_or_file: str, experiments: Optional[Path] = None) -> Path:
    """The experiment file for ``drill_or_file``: a path to an experiment file as given, else
    ``<experiments>/<name>.json`` (``experiments`` default: ``./experiments`` when it holds the
    drill, else the packaged experiments). FileNotFoundError naming the known drills otherwise; ConfigError
    when the file is not an experiment (:func:`load_experiment`)."""
    given = Path(drill_or_file)
    if given.suffix in EXPERIMENT_SUFFIXES or os.sep in drill_or_file:
        if given.is_file():
            load_experiment(given)  # a malformed file is bad input now, not a failed drill later
            return given
        raise FileNotFoundError(f"no experiment file at {given}")
    folders = [experiments] if experiments is not None else [Path("experiments"), PACKAGED_EXPERIMENTS]
    for folder in folders:
        for suffix in EXPERIMENT_SUFFIXES:
            candidate = Path(folder) / f"{drill_or_file}{suffix}"
            if candidate.is_file():
                return candidate
    known = sorted(set().union(*(bundled_drills(Path(f)) for f in folders if Path(f).is_dir())))
    raise FileNotFoundError(f"unknown drill {drill_or_file!r}; known: {', '.join(known) or 'none'} "
                            "(or give an experiment file)")


def chaos_executable() -> str:
    """The ``chaos`` command beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).with_name("chaos")
    if beside.exists():
        return str(beside)
    found = shutil.which("chaos")
    if not found:
        raise FileNotFoundError("the `chaos` command (chaostoolkit) is not installed")
    return found


def run_from_journal(journal_path: Union[str, Path], exit_code: Optional[int] = None,
                     duration: Optional[float] = None, drill: Optional[str] = None) -> Dict[str, object]:
    """The run dict of one recorded journal (see the module docstring); an unreadable or missing
    journal is a FAIL run saying so."""
    journal_path = Path(journal_path)
    run: Dict[str, object] = {"drill": drill or journal_path.stem.replace(".journal", ""), "exit_code": exit_code,
                              "duration": None if duration is None else round(duration, 3),
                              "journal": str(journal_path), "verdict": "FAIL", "reasons": [], "report": None,
                              "log": None}
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        how = f" (chaos run exited {exit_code})" if exit_code is not None else ""
        run["reasons"] = [f"no journal{how}: {exc}"]
        return run
    verdict, checks, reasons = recorded(journal)
    ext = extension(journal) or {}
    evidence = ext.get("evidence") if isinstance(ext.get("evidence"), dict) else {}
    run.update(verdict=verdict, reasons=reasons, checks=checks, report=evidence.get("report"), start=journal.get("start"),
               log=evidence.get("log"), timeline=evidence.get("timeline"), evidence=evidence,
               refused=bool(ext.get("refused")))
    if drill is None and ext.get("drill"):
        run["drill"] = ext["drill"]
    if run["duration"] is None and isinstance(journal.get("duration"), (int, float)):
        run["duration"] = round(float(journal["duration"]), 3)
    if verdict not in ("FAIL", "SKIP") and exit_code not in (None, 0):
        run["verdict"] = "FAIL"
        run["reasons"] = [f"chaos run exited {exit_code} although the drill's verdict is {verdict}"]
    return run


def write_outputs(runs: Sequence[Dict[str, object]], out_dir: Path, tag: str, *, secrets: Sequence[str] = (),
                  title: str = "chaosaitrapp drills") -> Dict[str, str]:
    """Write ``<tag>.junit.xml``, ``<tag>.summary.json`` and ``<tag>.html`` (the index) for ``runs``
    into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {"junit": str(write_junit(runs, out_dir / f"{tag}.junit.xml", secrets=secrets)),
            "summary": str(write_summary_json(runs, out_dir / f"{tag}.summary.json", secrets=secrets)),
            "index": str(render_suite_index(runs, out_dir / f"{tag}.html", secrets=secrets, title=title))}


def run_drill(experiment: Path, out_dir: Path, extra_args: Sequence[str] = (), echo: Echo = print,
              started: Optional[float] = None, global_args: Sequence[str] = (), suffix: str = "") -> Dict[str, object]:
    """Run one experiment with ``chaos [global_args] run [extra_args]`` (output echoed, prefixed with the drill
    and the suite's elapsed time); returns its run dict. ``suffix`` tells repeats' journals and logs apart."""
    drill = experiment.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    journal_path = out_dir / f"{drill}{suffix}_journal.json"
    journal_path.unlink(missing_ok=True)
    argv = [chaos_executable(), "--no-version-check", "--log-file", str(out_dir / f"{drill}{suffix}_chaostoolkit.log"),
            *global_args, "run", "--journal-path", str(journal_path), *extra_args, str(experiment)]
    env = {**os.environ, "AITRAPP_REPORTS_DIR": str(out_dir)}
    began = time.monotonic()
    origin = started if started is not None else began
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    for line in process.stdout:
        echo(f"[{drill} +{time.monotonic() - origin:6.1f}s] {line.rstrip()}")
    code = process.wait()
    return run_from_journal(journal_path, code, time.monotonic() - began, drill=drill)


def run_suite(experiments: Sequence[Path], out_dir: Optional[Path] = None, extra_args: Sequence[str] = (),
              echo: Echo = print, named: bool = False, global_args: Sequence[str] = (), repeat: int = 1,
              baseline: Optional[Path] = None, share: float = DEFAULT_SHARE) -> Dict[str, object]:
    """Run every experiment in order (all of them, whatever the earlier ones gave), each ``repeat`` times in a
    row, then write JUnit, summary and index; returns ``{"verdict", "runs", "junit", "summary", "index",
    "regressions"}``. ``extra_args`` go to ``chaos run``, ``global_args`` to ``chaos`` before it
    (``--settings``). ``named``: the drills were named explicitly (one that does not apply is then bad input,
    not skipped). With ``repeat`` > 1 or a ``baseline`` (a trends file, or the folder of the newest one;
    ConfigError before any drill runs when there is none), the drills' trends
    (:mod:`chaosaitrapp.report.trends`) are printed and written to ``<tag>.trends.json`` (``"trends"``), and
    compared with the baseline's (``share``: the p95 growth that is a regression)."""
    if repeat < 1:
        raise ConfigError(f"--repeat must be at least 1, got {repeat}")
    before = load_trends(baseline) if baseline is not None else None
    out_dir = out_dir or reports_dir()
    started = time.monotonic()
    runs: List[Dict[str, object]] = []
    for index, experiment in enumerate(experiments, 1):
        for round_ in range(1, repeat + 1):
            name = experiment.stem + (f" #{round_}/{repeat}" if repeat > 1 else "")
            echo(f"== [{index}/{len(experiments)}] {name}: starting (suite elapsed {time.monotonic() - started:.1f}s)")
            run = run_drill(experiment, out_dir, extra_args, echo, started, global_args,
                            suffix=f"_r{round_}" if repeat > 1 else "")
            run["named"] = named
            runs.append(run)
            reasons = run["reasons"]
            echo(f"== [{index}/{len(experiments)}] {name}: {run['verdict']} in {run['duration'] or 0:.1f}s"
                 + (f" ({reasons[0]})" if reasons else "") + (f"; evidence {run['log']}" if run.get("log") else ""))
    tag = f"suite_{stamp()}"
    outputs: Dict[str, object] = dict(write_outputs(runs, out_dir, tag, secrets=known_secrets()))
    outputs["regressions"] = []
    if repeat > 1 or before is not None:
        trends = drill_trends(runs)
        comparison = compare(trends, before[1], share) if before is not None else None
        path = out_dir / f"{tag}.trends.json"
        path.write_text(json.dumps(trends_document(trends, comparison, str(before[0]) if before else None), indent=2))
        outputs["trends"] = str(path)
        for line in describe(trends):
            echo(f"== trend {line}")
        if comparison is not None:
            outputs["regressions"] = comparison["regressions"]
            for line in comparison["notes"]:
                echo(f"== baseline {before[0]}: {line}")
            for line in comparison["regressions"]:
                echo(f"== REGRESSION against {before[0]}: {line}")
    verdict = suite_verdict(runs)
    passed = sum(1 for r in runs if r["verdict"] == "PASS")
    echo(f"== suite {verdict}: {passed}/{len(runs)} drills passed in {time.monotonic() - started:.1f}s; "
         f"JUnit {outputs['junit']}; summary {outputs['summary']}; report {outputs['index']}"
         + (f"; trends {outputs['trends']}" if outputs.get("trends") else ""))
    return {"verdict": verdict, "runs": runs, **outputs}


def load_trends(path: Path) -> Tuple[Path, Dict[str, Dict[str, Any]]]:
    """``(file, drills' trends)`` of the trends file at ``path``, or of the newest ``*.trends.json`` in the
    folder ``path``; ConfigError naming what is wrong otherwise."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*.trends.json"))
        if not found:
            raise ConfigError(f"--baseline {path}: no *.trends.json in it (written by aitrapp-chaos run --repeat)")
        path = found[-1]
    try:
        return path, trends_of_document(json.loads(path.read_text(encoding="utf-8")), str(path))
    except OSError as exc:
        raise ConfigError(f"--baseline {path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"--baseline {path}: {exc}") from None


def find_journals(journal_or_dir: Union[str, Path]) -> List[Path]:
    """The journal files at ``journal_or_dir`` (a file, or a folder searched non-recursively), by name:
    any ``*.json`` holding an object with ``experiment`` and ``status``."""
    path = Path(journal_or_dir)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no journal or folder at {path}")
    found = []
    for candidate in sorted(path.glob("*.json")):
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "experiment" in data and "status" in data:
            found.append(candidate)
    return found


def _one_per_run(journals: List[Path]) -> List[Path]:
    """One journal per recorded run: ``chaos run``'s ``<drill>_journal.json`` and the evidence's own
    ``<drill>_<timestamp>.journal.json`` of the same run (same ``run_id``) count once (the latter)."""
    chosen: Dict[str, Path] = {}
    order: List[str] = []
    for path in journals:
        try:
            ext = extension(json.loads(path.read_text(encoding="utf-8"))) or {}
        except (OSError, ValueError):
            ext = {}
        key = str(ext.get("run_id") or path)
        if key not in chosen:
            order.append(key)
            chosen[key] = path
        elif path.name.endswith(".journal.json"):
            chosen[key] = path
    return [chosen[key] for key in order]


def rebuild_reports(journal_or_dir: Union[str, Path], out_dir: Optional[Path] = None,
                    secrets: Sequence[str] = ()) -> Dict[str, object]:
    """``aitrapp-chaos report``: the drill report of every journal at ``journal_or_dir`` (into
    ``out_dir``, default beside the journals), then index, JUnit and summary there (tag ``index``).
    Returns ``{"verdict", "runs", "junit", "summary", "index"}``."""
    base = Path(journal_or_dir)
    folder = out_dir or (base if base.is_dir() else base.parent)
    runs = []
    for journal_path in _one_per_run(find_journals(base)):
        run = run_from_journal(journal_path)
        stem = journal_path.name[: -len(".json")]
        stem = stem[: -len(".journal")] if stem.endswith(".journal") else stem
        target = folder / f"{run['drill'] if stem in ('journal', run['drill'] + '_journal') else stem}.html"
        run["report"] = str(write_drill_report(journal_path, None, target, secrets=secrets))
        runs.append(run)
    outputs = write_outputs(runs, folder, "index", secrets=secrets)
    return {"verdict": suite_verdict(runs), "runs": runs, **outputs}


def runs_over_time(folder: Union[str, Path], out: Optional[Path] = None, secrets: Sequence[str] = ()) -> Dict[str, object]:
    """``aitrapp-chaos trends``: every run recorded in ``folder`` (one per journal, :func:`find_journals`) on one
    page of runs over time (:mod:`chaosaitrapp.report.history`), written to ``out`` (default
    ``<folder>/trends.html``); returns ``{"runs", "page"}``."""
    runs = [run_from_journal(path) for path in _one_per_run(find_journals(folder))]
    page_path = render_history(runs, out or Path(folder) / "trends.html", secrets=secrets)
    return {"runs": runs, "page": str(page_path)}
