"""``aitrapp-chaos campaign``: draw (or replay) a schedule, write it and its experiment into a folder of their
own, run it with ``chaos run``, and on a FAIL shrink it (:mod:`chaosaitrapp.campaign.shrink`), each candidate a
``chaos run`` of its own in the same folder; ``campaign.json`` there says what was run, what failed and the
smallest schedule found."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Set

from chaosaitrapp.campaign.actions import read_schedule
from chaosaitrapp.campaign.experiment import campaign_experiment
from chaosaitrapp.campaign.schedule import Schedule, overlapping, schedule_text
from chaosaitrapp.campaign.shrink import CandidateNotRun, shrink
from chaosaitrapp.evidence.recorder import stamp
from chaosaitrapp.suite import run_drill
from chaosaitrapp.verdict import suite_exit_code

Echo = Callable[[str], None]


def write_campaign(schedule: Schedule, folder: Path, name: str) -> Path:
    """Write ``<name>.schedule.json`` and the experiment ``<name>.json`` into ``folder``; the experiment's path."""
    folder.mkdir(parents=True, exist_ok=True)
    schedule_path = folder / f"{name}.schedule.json"
    schedule_path.write_text(schedule_text(schedule), encoding="utf-8")
    experiment_path = folder / f"{name}.json"
    experiment_path.write_text(json.dumps(campaign_experiment(schedule, schedule_path), indent=2) + "\n",
                               encoding="utf-8")
    return experiment_path


def replayed(path: Path) -> Schedule:
    """The schedule recorded in ``path`` (:func:`chaosaitrapp.campaign.actions.read_schedule`: ConfigError naming
    the file when it cannot be read or is unsound)."""
    return read_schedule(str(path))


def failed_checks(run: Dict[str, Any]) -> Set[str]:
    """The checks a run failed or could not decide (empty for a PASS)."""
    if run.get("verdict") == "PASS":
        return set()
    found = {str(c.get("name")) for c in run.get("checks") or [] if c.get("status") in ("fail", "unknown")}
    return found or {"verdict"}


def not_played(run: Dict[str, Any]) -> str:
    """Why a run never played its schedule (refused; the target not ready before it), or "" when it did."""
    if run.get("refused"):
        return "the run was refused"
    try:
        journal = json.loads(Path(str(run.get("journal"))).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its journal could not be read"
    before = (journal.get("steady_states") or {}).get("before") or {}
    if before.get("steady_state_met") is False:
        return "the target was not ready before it (left broken by an earlier run?)"
    return ""


def describe(schedule: Schedule) -> str:
    """One line: the schedule's faults and their times."""
    return ", ".join(f"{f.id} {f.kind} t={f.start:g}+{f.seconds:g}s" for f in schedule.faults) or "no fault"


def run_campaign(schedule: Schedule, folder: Path, *, extra_args: Sequence[str] = (), echo: Echo = print,
                 shrink_runs: int = 12, shrink_seconds: float = 900.0, do_shrink: bool = True) -> Dict[str, Any]:
    """Run ``schedule`` (written into ``folder``), shrink it when it fails, write ``campaign.json``; returns
    ``{"exit_code", "verdict", "run", "failed", "shrunk"?...}``."""
    experiment = write_campaign(schedule, folder, "campaign")
    echo(f"== campaign seed {schedule.seed}: {len(schedule.faults)} faults over {schedule.length_s:g}s "
         f"({len(overlapping(schedule))} overlapping pairs); schedule {folder / 'campaign.schedule.json'}")
    first = run_drill(experiment, folder, extra_args, echo)
    failed = failed_checks(first)
    summary: Dict[str, Any] = {"seed": schedule.seed, "schedule": str(folder / "campaign.schedule.json"),
                               "experiment": str(experiment), "verdict": first["verdict"],
                               "reasons": first.get("reasons"), "failed": sorted(failed), "report": first.get("report"),
                               "exit_code": suite_exit_code([first])}
    echo(f"== campaign {first['verdict']}" + (f": failed {', '.join(sorted(failed))}" if failed else ""))
    if failed and do_shrink and not first.get("refused") and len(schedule.faults) > 1:
        counter = {"n": 0}

        def oracle(candidate: Schedule) -> Set[str]:
            counter["n"] += 1
            name = f"shrink_{counter['n']:02d}"
            echo(f"== shrink run {counter['n']}: {describe(candidate)}")
            run = run_drill(write_campaign(candidate, folder, name), folder, extra_args, echo, suffix="")
            unplayed = not_played(run)
            if unplayed:
                echo(f"== shrink run {counter['n']}: not judged ({unplayed})")
                raise CandidateNotRun(f"stopped at run {counter['n']}: {unplayed}; the smallest failing schedule so "
                                      "far stands")
            got = failed_checks(run)
            echo(f"== shrink run {counter['n']}: {run['verdict']}" + (f" ({', '.join(sorted(got))})" if got else ""))
            return got

        found = shrink(schedule, failed, oracle, max_runs=shrink_runs, max_seconds=shrink_seconds)
        smallest = folder / "smallest.schedule.json"
        smallest.write_text(schedule_text(found.smallest), encoding="utf-8")
        summary["shrunk"] = {"schedule": str(smallest), "faults": [f.kind for f in found.smallest.faults],
                             "checks": sorted(found.checks), "runs": found.runs, "stopped": found.stopped,
                             "needs_overlap": [list(p) for p in found.needs],
                             "steps": [{"step": s, "still_failed": kept} for s, kept in found.steps]}
        echo(f"== shrunk in {found.runs} runs from {len(schedule.faults)} to {len(found.smallest.faults)} fault(s): "
             f"{describe(found.smallest)}; still failing {', '.join(sorted(found.checks))}"
             + (f"; the failure needs the overlap of {', '.join('+'.join(p) for p in found.needs)}" if found.needs
                else "") + (f" ({found.stopped})" if found.stopped else "") + f"; replay: --replay {smallest}")
    (folder / "campaign.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def campaign_folder(out_dir: Path, seed: int, given: Optional[Path] = None) -> Path:
    """The campaign's own folder: ``given``, else ``<out_dir>/campaign_<seed>_<stamp>``."""
    return given if given is not None else out_dir / f"campaign_{seed}_{stamp()}"
