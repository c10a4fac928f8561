"""The package's shape, as docs/internals.md draws it: who may import whom, small modules, one place
for each thing."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chaosaitrapp"
MAX_LINES = 420


def imports_of(path: Path):
    """Every chaosaitrapp/chaoslib module a file imports (at any depth), as dotted names."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "chaosaitrapp":  # from chaosaitrapp import aitrapp
                yield from (f"chaosaitrapp.{alias.name}" for alias in node.names)
            else:
                yield node.module


def modules_under(folder: str):
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules_under("targets"), ids=lambda p: p.name)
def test_targets_never_import_the_lab(path):
    bad = [m for m in imports_of(path) if m.startswith("chaosaitrapp.lab")]
    assert not bad, f"{path.name} imports {bad}: the lab is a consumer of targets, never the other way"


@pytest.mark.parametrize("path", modules_under("checks"), ids=lambda p: p.name)
def test_checkers_are_pure(path):
    allowed = ("chaosaitrapp.checks", "chaosaitrapp.aitrapp")
    bad = [m for m in imports_of(path) if m.startswith("chaosaitrapp") and not m.startswith(allowed)]
    bad += [m for m in imports_of(path) if m.split(".")[0] in ("requests", "chaoslib", "redis", "psycopg", "docker")]
    assert not bad, f"{path.name} imports {bad}: checkers are pure functions of a timeline"


def test_nothing_but_tests_and_benchmarks_import_the_testing_package():
    users = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py")
             if "testing" not in p.relative_to(PACKAGE).parts
             and any(m.startswith("chaosaitrapp.testing") for m in imports_of(p))]
    assert not users, f"test-only code imported by the package: {users}"


def test_the_lab_services_run_without_chaos_toolkit():
    code = ("import sys; sys.modules['chaoslib'] = None\n"
            "import chaosaitrapp.lab.trader.__main__, chaosaitrapp.lab.broker.__main__\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it where it holds two jobs"


def test_one_scrubber_one_verdict_one_free_port():
    sources = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    assert [p.name for p, s in sources.items() if "def scrub_text" in s] == ["scrub.py"]
    assert [p.name for p, s in sources.items() if "def judge" in s] == ["verdict.py"]
    assert [str(p.relative_to(PACKAGE)) for p, s in sources.items() if "def free_port" in s] == ["testing/lab.py"]
    assert [p.name for p, s in sources.items() if "/proc/" in s] in ([], ["procs.py"]), \
        "process inspection goes through procs.py"
    assert [p.name for p, s in sources.items() if "LOCK_TTL_S = " in s or "lock_ttl=30" in s] == ["aitrapp.py"]
