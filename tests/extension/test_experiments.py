"""Every shipped experiment validates with `chaos validate`, and is shaped as a drill must be."""
import inspect
import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.json"))


def test_top_level_experiments_are_the_packaged_ones():
    from chaosaitrapp.suite import PACKAGED_EXPERIMENTS

    assert (ROOT / "experiments").resolve() == PACKAGED_EXPERIMENTS
    assert EXPERIMENTS, "no experiment found"
TOP_LEVEL = {"version", "title", "description", "tags", "configuration", "secrets", "controls",
             "steady-state-hypothesis", "method", "rollbacks", "runtime", "contributions", "extensions"}
SEED_ENV = {"API": "http://localhost:8000", "HEARTBEAT_MAX": 5, "WAIT_READY_TIMEOUT": 90}


def load(path):
    return json.loads(path.read_text())


def activities(exp):
    yield from exp["steady-state-hypothesis"]["probes"]
    yield from exp["method"]
    yield from exp.get("rollbacks", [])


def test_the_three_seed_drills_ship():
    assert {p.stem for p in EXPERIMENTS} >= {"leader_lock", "postgres_blip", "rate_limit_spike"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_chaos_validate_accepts_it(path):
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "DATABASE_URL")}
    out = subprocess.run([sys.executable, "-m", "chaostoolkit", "--no-version-check", "--no-log-file", "validate",
                          str(path)],
                         capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "experiment syntax and semantic look valid" in out.stdout + out.stderr


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shape(path):
    exp = load(path)
    assert set(exp) <= TOP_LEVEL, f"unknown top-level keys (a typo validates silently): {set(exp) - TOP_LEVEL}"
    assert exp["runtime"]["rollbacks"]["strategy"] == "always", "rollbacks must run on Ctrl-C/SIGTERM too"
    modules = [c["provider"]["module"] for c in exp["controls"]]
    assert modules == ["chaosaitrapp.controls.evidence", "chaosaitrapp.controls.safety"]
    assert "drill" not in exp["controls"][0]["provider"].get("arguments", {}), "the drill's name is its file's name"
    from chaosaitrapp.controls.configuration import configuration_problems

    assert configuration_problems(exp) == ([], []), "every configuration key is a setting or referenced"
    for key in ("redis_container", "postgres_container"):
        if key in exp["configuration"]:
            assert exp["configuration"][key]["default"] == "", f"{key}: an unset container must not look explicit"
    assert exp["steady-state-hypothesis"]["probes"], "a drill needs a steady state"
    funcs = [a["provider"]["func"] for a in exp["rollbacks"]]
    assert "abort_on_failure" in funcs, "PAUSE_ON_FAIL=1 must abort"
    method_funcs = [a["provider"]["func"] for a in exp["method"]]
    if "stop_dependency" in method_funcs:
        assert "start_dependency" in funcs, "a stopped dependency must be restored by a rollback"
    for fault, undo in (("pause_leader", "resume_paused"), ("isolate_leader", "heal_partition"),
                        ("partition", "heal_partition"), ("hold_leader_orders", "clear_broker_faults")):
        if fault in method_funcs:
            assert undo in funcs, f"{fault} must be undone by a rollback ({undo})"
    labels = [a["provider"]["arguments"]["label"] for a in exp["method"] if a["provider"]["func"] == "snapshot_metrics"]
    assert labels == ["before", "after_stop", "after_recovery"]
    for key, value in SEED_ENV.items():
        cfg = exp["configuration"][key.lower()]
        assert cfg["type"] == "env" and cfg["key"] == key and cfg["default"] == value


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_arguments_bind_and_config_references_exist(path):
    exp = load(path)
    for activity in activities(exp):
        provider = activity["provider"]
        func = getattr(import_module(provider["module"]), provider["func"])
        inspect.signature(func).bind(**provider.get("arguments", {}))
        for value in provider.get("arguments", {}).values():
            if isinstance(value, str) and value.startswith("${"):
                assert value[2:-1] in exp["configuration"], f"{activity['name']}: {value} is not configured"
        assert not any(isinstance(v, str) and "sleep" in v for v in provider.get("arguments", {}).values())
        assert activity.get("pauses") is None, f"{activity['name']}: fixed pauses are not allowed; wait on a condition"
