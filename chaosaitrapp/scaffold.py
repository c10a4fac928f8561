"""``aitrapp-chaos new NAME``: a minimal, valid experiment of one's own, ready to run and to edit.

The experiment holds what every drill of this extension needs and nothing more: the evidence and
safety controls, the ``always`` rollback strategy, lower-case configuration read from the
environment with defaults, one fault (Redis stopped through its target), waits on the target's
answer with deadlines, a probe used as a tolerance, and the rollbacks that undo the fault. Its
checks are inferred from the fault, so it is timed like the bundled leader-lock drill. YAML gets
comments; JSON says the same in ``description`` fields.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict

import yaml

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ScaffoldError(ValueError):
    """The experiment cannot be written: a bad name, or a file already there."""


YAML_TEMPLATE = """\
# {name}: a drill of your own. Run it with
#   chaos --no-version-check run {name}.yaml        (or: aitrapp-chaos run {name}.yaml)
# Evidence goes to reports/chaos/{name}_<timestamp>.* (log, timeline, HTML report, journal);
# `chaos run` exits 0 on PASS, 1 on FAIL. Every setting is in the README's configuration table.
version: 1.0.0
title: "{name}: AITRAPP pauses when Redis stops and recovers by itself"
description: "Stop Redis; the target must stop being ready; start Redis; it must be ready again."
tags: [aitrapp, own-drill]

# Lower-case keys, each read from the environment with a default. Only keys chaosaitrapp knows
# (or that an activity below references as ${{key}}) are allowed: a typo is refused with a
# "did you mean".
configuration:
  api: {{type: env, key: API, default: "http://localhost:8000"}}
  detect_timeout: {{type: env, key: DETECT_TIMEOUT, default: 30, env_var_type: float}}
  wait_ready_timeout: {{type: env, key: WAIT_READY_TIMEOUT, default: 90, env_var_type: float}}
  redis_target: {{type: env, key: REDIS_TARGET, default: auto}}

# evidence: samples the target 20 times a second and judges the drill (the checks are inferred
# from the fault below; `arguments: {{checks: [...]}}` would choose them yourself).
# safety: refuses to start on a bad value, an unreachable API or a missing container, and undoes
# faults that dead runs left behind. Their order does not matter.
controls:
  - name: aitrapp-evidence
    provider: {{type: python, module: chaosaitrapp.controls.evidence}}
  - name: aitrapp-safety
    provider: {{type: python, module: chaosaitrapp.controls.safety}}

steady-state-hypothesis:
  title: AITRAPP is ready and its heartbeats are fresh
  probes:
    - type: probe
      name: api-is-ready
      tolerance: ready
      provider: {{type: python, module: chaosaitrapp.trader.probes, func: ready_status}}
    - type: probe
      name: heartbeats-fresh
      provider: {{type: python, module: chaosaitrapp.metrics.probes, func: heartbeat_ages}}
      # a probe as tolerance: it receives the ages as `value` (limit 0: HEARTBEAT_MAX)
      tolerance:
        type: probe
        name: heartbeats-below-heartbeat-max
        provider: {{type: python, module: chaosaitrapp.metrics.probes, func: heartbeats_below}}

method:
  # The fault. It is written to the fault ledger (with a lease) before it is injected; a watchdog
  # outside `chaos` undoes it if this run dies, even by SIGKILL.
  - type: action
    name: stop-redis
    provider:
      type: python
      module: chaosaitrapp.dependencies.actions
      func: stop_dependency
      arguments: {{dependency: redis, target: "${{redis_target}}"}}
  # A wait on a condition with a deadline, never a fixed sleep. timeout 0 means the default
  # deadline of its kind: DETECT_TIMEOUT for detection waits.
  - type: probe
    name: ready-answers-503
    provider:
      type: python
      module: chaosaitrapp.trader.probes
      func: wait_not_ready
      arguments: {{timeout: "${{detect_timeout}}", interval: 0.05}}
  - type: action
    name: start-redis
    provider:
      type: python
      module: chaosaitrapp.dependencies.actions
      func: start_dependency
      arguments: {{dependency: redis, target: "${{redis_target}}"}}
  # recovery waits default to WAIT_READY_TIMEOUT
  - type: probe
    name: ready-again
    provider:
      type: python
      module: chaosaitrapp.trader.probes
      func: wait_ready
      arguments: {{timeout: "${{wait_ready_timeout}}", interval: 0.05}}

# Rollbacks undo the fault whatever happened (start_dependency does nothing when Redis runs) and
# confirm the target is ready again (stable_for -1: long enough to trust it).
rollbacks:
  - type: action
    name: restore-redis
    provider:
      type: python
      module: chaosaitrapp.dependencies.actions
      func: start_dependency
      arguments: {{dependency: redis, target: "${{redis_target}}"}}
  - type: action
    name: confirm-ready-after-rollback
    provider:
      type: python
      module: chaosaitrapp.trader.probes
      func: wait_ready
      arguments: {{timeout: "${{wait_ready_timeout}}", interval: 0.05, stable_for: -1}}

# Play the rollbacks even when the run is interrupted (Ctrl-C, SIGTERM). Without this Chaos
# Toolkit skips them on an interrupt (the safety control says so in the evidence).
runtime:
  rollbacks:
    strategy: always
"""


def experiment_dict(name: str) -> Dict[str, Any]:
    """The scaffold as a dict (what the YAML template says, comments as ``description`` fields)."""
    data = yaml.safe_load(YAML_TEMPLATE.format(name=name))
    notes = {
        "stop-redis": "The fault: written to the fault ledger before it is injected; a watchdog outside "
                      "chaos undoes it if this run dies.",
        "ready-answers-503": "A wait on a condition with a deadline (timeout 0: DETECT_TIMEOUT).",
        "ready-again": "A recovery wait (timeout 0: WAIT_READY_TIMEOUT).",
        "restore-redis": "Undo the fault whatever happened (nothing to do when Redis runs).",
        "confirm-ready-after-rollback": "The target is ready again, long enough to trust it.",
    }
    for activity in data["method"] + data["rollbacks"]:
        if activity["name"] in notes:
            activity["description"] = notes[activity["name"]]
    return data


def write_experiment(name: str, directory: Path, fmt: str = "yaml", force: bool = False) -> Path:
    """Write ``<directory>/<name>.<fmt>`` and return its path. ScaffoldError for a name that is not a
    plain file name, an unknown format, or an existing file without ``force``."""
    if not NAME.match(name):
        raise ScaffoldError(f"NAME must be letters, digits, '_', '-' or '.' (it becomes the drill's name), "
                            f"got {name!r}")
    if fmt not in ("yaml", "json"):
        raise ScaffoldError(f"format must be yaml or json, got {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.{fmt}"
    if path.exists() and not force:
        raise ScaffoldError(f"{path} already exists (use --force to overwrite it)")
    if fmt == "yaml":
        path.write_text(YAML_TEMPLATE.format(name=name))
    else:
        path.write_text(json.dumps(experiment_dict(name), indent=2) + "\n")
    return path
