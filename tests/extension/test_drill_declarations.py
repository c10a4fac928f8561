"""The shipped experiments are generated from the families' drill declarations (chaosaitrapp.drill): each file
is exactly what its declaration gives, every activity a declaration names exists, and a declaration is short."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from chaosaitrapp import registry
from chaosaitrapp.declare import Setting
from chaosaitrapp.docs import experiment_text, write_experiments
from chaosaitrapp.drill import Drill, action, configuration_entry, experiment, probe

EXPERIMENTS = Path(__file__).resolve().parents[2] / "chaosaitrapp" / "experiments"


def test_every_shipped_experiment_is_its_declaration():
    generated = registry.experiments()
    assert sorted(generated) == sorted(p.stem for p in EXPERIMENTS.glob("*.json")), "a drill without its file or a file without its drill"
    stale = [name for name, e in generated.items() if (EXPERIMENTS / f"{name}.json").read_text() != experiment_text(e)]
    assert stale == [], f"{stale}: edit the drill in <family>/drills.py and run `make docs`, never the JSON"


def test_write_experiments_writes_what_differs_only(tmp_path):
    assert sorted(write_experiments(tmp_path)) == sorted(registry.experiments())
    assert write_experiments(tmp_path) == []
    (tmp_path / "leader_lock.json").write_text("{}")
    assert write_experiments(tmp_path) == ["leader_lock"]


def activities(drill: Drill):
    title, probes = drill.steady
    for activity in (*probes, *drill.method, *drill.rollbacks):
        yield activity
        if isinstance(activity.get("tolerance"), dict) and activity["tolerance"].get("type") == "probe":
            yield activity["tolerance"]


@pytest.mark.parametrize("drill", registry.drills(), ids=lambda d: d.name)
def test_every_activity_of_a_drill_exists(drill):
    modules = set(registry.activity_modules()) | {"chaosaitrapp.evidence.probes", "chaosaitrapp.trader.probes",
                                                  "chaosaitrapp.trader.actions", "chaosaitrapp.metrics.probes"}
    for activity in activities(drill):
        provider = activity["provider"]
        assert provider["module"] in modules, f"{drill.name}/{activity['name']}: {provider['module']} is no activity module"
        assert callable(getattr(importlib.import_module(provider["module"]), provider["func"], None)), activity["name"]


def test_settings_become_configuration_entries():
    assert configuration_entry(Setting("a", "A", 5.0, "", "number")) == {"type": "env", "key": "A", "default": 5,
                                                                         "env_var_type": "float"}
    assert configuration_entry(Setting("b", "B", None, "")) == {"type": "env", "key": "B", "default": ""}
    assert configuration_entry(Setting("c", "C", False, "", "flag")) == {"type": "env", "key": "C", "default": "0"}
    assert configuration_entry(Setting("d", "D", 2, "", "int"), 1) == {"type": "env", "key": "D", "default": 1,
                                                                      "env_var_type": "int"}


def test_a_drill_naming_an_unknown_setting_is_refused():
    drill = Drill("x", "X", "x", (), ("api", "heartbeat_mx"), ("t", ()), (), ())
    with pytest.raises(KeyError, match="drill x: no setting 'heartbeat_mx'"):
        experiment(drill, {s.key: s for s in registry.settings()})


def test_activities_are_built_as_chaos_toolkit_reads_them():
    assert probe("p", "chaosaitrapp.m:f", 1, limit="${x}") == {
        "type": "probe", "name": "p", "tolerance": 1,
        "provider": {"type": "python", "module": "chaosaitrapp.m", "func": "f", "arguments": {"limit": "${x}"}}}
    assert action("a", "chaosaitrapp.m:g", background=True) == {
        "type": "action", "name": "a", "background": True, "provider": {"type": "python", "module": "chaosaitrapp.m",
                                                                         "func": "g"}}
