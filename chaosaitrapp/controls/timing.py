"""The target's timing for one drill (:mod:`chaosaitrapp.deployment.timing`): learned in the background from
the pre-flight on, waited for before the drill's first action, then the drill's limits set from it."""
from __future__ import annotations

from typing import Any, Dict

from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp import registry
from chaosaitrapp.controls.inference import faults_of
from chaosaitrapp.controls.limits import drill_limits
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.timing import learn_in_background
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.evidence.recorder import Run

#: The sampler's interval when the evidence control's ``sample_interval`` does not say (seconds).
DEFAULT_INTERVAL = 0.05


def sample_interval(arguments: Dict[str, Any]) -> float:
    """The sampler's interval: the control's ``sample_interval`` argument, else :data:`DEFAULT_INTERVAL`."""
    return float(arguments.get("sample_interval", DEFAULT_INTERVAL))


def learn_target_timing(run: Run, context: Experiment, configuration: Configuration,
                        secrets: Secrets) -> Any:
    """Start learning the target's timing in the background (:func:`chaosaitrapp.deployment.timing.
    learn_in_background`; through the lock key when a fault of the drill is judged by the lock's timing and
    the lock can be read); returns the function that waits for it (:func:`settle_timing` calls it)."""
    run.fault_kinds = faults_of(context, configuration)
    needs_lock = any(getattr(registry.fault_kind(k), "timing", "lock") == "lock" for k in run.fault_kinds)
    try:
        reader = target_lock_reader(configuration, secrets) if needs_lock and not run.dry else None
    except ChaosAitrappError as exc:
        reader = None
        run.note(f"lock timing: cannot read the lock to learn it: {exc}")
    return learn_in_background(configuration, reader, run.deployment.applied if run.deployment else (), run.note)


def settle_timing(run: Run, configuration: Configuration) -> None:
    """Wait for the target's timing being learned (before the first action: a fault would cut the learning
    short; else at the run's end), then set the drill's limits from it and add
    both to the timeline's meta. Once per run."""
    pending = run.timing_pending
    if pending is None:
        return
    run.timing_pending = None
    run.timing = pending()
    run.note("target timing: " + "; ".join(run.timing.describe()))
    arguments = run.control_arguments or {}
    run.limits = drill_limits(configuration, arguments, sample_interval(arguments), run.fault_kinds, run.timing)
    if run.sampler is not None:
        run.sampler.write({"kind": "meta", "limits": run.limits.to_dict(), "timing": run.timing.to_dict()})
