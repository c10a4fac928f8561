"""Discovery: every exported activity is typed, documented, and probes are labelled probes."""
import inspect
import json
import subprocess
import sys
import typing
from importlib import import_module

import pytest

import chaosaitrapp
from chaosaitrapp import discover
from chaosaitrapp.registry import activity_modules

ALLOWED = {str, int, float, bool, dict, list, typing.Dict, typing.List}


def exported():
    for module_name in activity_modules():
        module = import_module(module_name)
        assert module.__all__, f"{module_name} exports nothing"
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


@pytest.mark.parametrize("module_name,name,func", list(exported()), ids=lambda v: v if isinstance(v, str) else "")
def test_activity_is_typed_and_documented(module_name, name, func):
    assert inspect.isfunction(func), f"{module_name}.{name} is not a function"
    doc = inspect.getdoc(func)
    assert doc and len(doc) > 30, f"{module_name}.{name} needs a docstring that is its manual"
    assert "Return" in doc or "return" in doc, f"{module_name}.{name}: the docstring must say what it returns"
    assert "Raise" in doc or "raise" in doc, f"{module_name}.{name}: the docstring must say what it raises"
    sig = inspect.signature(func)
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return annotation"
    params = list(sig.parameters.values())
    assert [p.name for p in params][-2:] == ["configuration", "secrets"], f"{name}: configuration, secrets last"
    for p in params:
        assert p.annotation is not inspect.Parameter.empty, f"{name}({p.name}) is not annotated"
        assert p.kind is p.POSITIONAL_OR_KEYWORD, f"{name}({p.name}): keyword-only/varargs are invisible to discovery"
        if p.name in ("configuration", "secrets"):
            continue
        origin = typing.get_origin(p.annotation) or p.annotation
        assert origin in ALLOWED, f"{name}({p.name}: {p.annotation}) is not a type chaoslib maps"


def test_discover_labels_probes_and_actions():
    result = discover()
    assert result["extension"] == {"name": "chaostoolkit-aitrapp", "version": chaosaitrapp.__version__}
    assert [c["module"] for c in result["controls"]] == ["chaosaitrapp.controls.evidence",
                                                         "chaosaitrapp.controls.safety"]
    assert all(len(c["doc"]) > 200 for c in result["controls"])
    by_name = {(a["mod"], a["name"]): a for a in result["activities"]}
    for module_name, name, _ in exported():
        activity = by_name[(module_name, name)]
        expected = "action" if module_name.endswith(".actions") else "probe"
        assert activity["type"] == expected, f"{module_name}.{name} labelled {activity['type']}"
        assert activity["doc"], name
        for arg in activity["arguments"]:
            if arg["name"] not in ("configuration", "secrets"):
                assert arg["type"] != "object", f"{name}({arg['name']}) shows as 'object' in discovery"

    assert len(by_name) == len(list(exported()))


def test_chaos_discover_and_info_run(tmp_path):
    chaos = [sys.executable, "-m", "chaostoolkit", "--no-version-check"]
    out = subprocess.run(chaos + ["--no-log-file", "discover", "--no-system-info", "--no-install",
                                  "--discovery-path", str(tmp_path / "d.json"), "chaostoolkit-aitrapp"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    found = json.loads((tmp_path / "d.json").read_text())
    assert "stop_dependency" in json.dumps(found) and "chaosaitrapp.controls.safety" in json.dumps(found)
    info = subprocess.run(chaos + ["--no-log-file", "info", "extensions"], capture_output=True, text=True, timeout=120)
    assert info.returncode == 0, info.stderr
    assert "chaostoolkit-aitrapp" in info.stdout
