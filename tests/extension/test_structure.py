"""The package's shape, as docs/internals.md draws it: who may import whom (every import counted, those
inside functions too), small modules, one place for each thing, and fault families that own their faults."""
import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from chaosaitrapp import registry
from chaosaitrapp.registry import FAMILY_MODULES

PACKAGE = Path(__file__).resolve().parents[2] / "chaosaitrapp"
MAX_LINES = 420

#: The layers of docs/internals.md, lowest first: a module may import its own layer and those below.
LAYERS: List[Tuple[str, Tuple[str, ...]]] = [
    ("base", ("", "aitrapp", "errors", "kitestates", "orderids", "paths", "procs", "scrub", "waiting", "declare", "config",
              "verdict", "drill")),
    ("declarations", ("*.family", "*.drills")),
    ("checks", ("checks",)),
    ("registry", ("registry", "api", "description")),
    ("targets", ("targets", "faultproxy")),
    ("lab", ("lab", "evidence")),
    ("safety", ("safety", "deployment")),
    # the API's own activities, then every family the registry lists (adding one never touches this test)
    ("families", ("trader", "metrics", *(m.split(".")[1] for m in FAMILY_MODULES))),
    ("controls", ("controls", "report")),
    ("suite", ("suite",)),
    ("entry", ("cli", "docs", "doctor", "scaffold", "testing")),
]
#: The family folders: ``*.family`` and ``*.drills`` are their declarations.
FAMILY_FOLDERS = dict(LAYERS)["families"]
#: Function-level imports that stay, and why (ruff PLC0415): the reason is written on the import.
LAZY_REASON = "noqa: PLC0415 - "


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: Dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The layer index of a module of this package."""
    rest = module[len("chaosaitrapp."):] if module.startswith("chaosaitrapp.") else ""
    for index, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if pattern.startswith("*.") and rest.endswith(pattern[1:]) and rest.split(".")[0] in FAMILY_FOLDERS \
                    or pattern == "" and rest == "":
                return index
            if pattern != "" and not pattern.startswith("*.") and (rest == pattern or rest.startswith(pattern + ".")):
                return index
    raise AssertionError(f"{module} is in no layer of docs/internals.md")


def internal_imports(path: Path) -> List[Tuple[str, int, bool, str]]:
    """``(imported module, line, inside a function, source line)`` of every import of this package's modules
    (names imported from a package count as modules when they are)."""
    source = path.read_text()
    lines = source.splitlines()
    name = module_name(path)
    found: List[Tuple[str, int, bool, str]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".")[:len(name.split(".")) - child.level + (path.name == "__init__.py")]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in child.names]
            else:
                walk(child, inner)
                continue
            for target in targets:
                if target.split(".")[0] == "chaosaitrapp":
                    found.append((target, child.lineno, in_function, lines[child.end_lineno - 1]))
            walk(child, inner)

    walk(ast.parse(source), False)
    if name == "chaosaitrapp.registry":  # the families are listed by name: a line each
        found += [(m, 0, False, "FAMILY_MODULES") for m in registry.FAMILY_MODULES]
    return found


def import_graph() -> Dict[str, Set[str]]:
    return {name: {t for t, _, _, _ in internal_imports(path) if t != name} for name, path in MODULES.items()}


def test_no_import_cycle_counting_every_import():
    graph = import_graph()
    state: Dict[str, int] = {}
    stack: List[str] = []
    cycles: List[List[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_no_upward_import_counting_every_import():
    upward = []
    for name, path in MODULES.items():
        for target, line, _, text in internal_imports(path):
            if target in MODULES and layer_of(target) > layer_of(name) and LAZY_REASON not in text:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} ({LAYERS[layer_of(name)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_imports_inside_functions_only_with_a_stated_reason():
    """Top-level imports by default; a function-level import says why on its line (CLI start-up, an
    optional extra, the package's own ``__init__`` that every submodule imports first...)."""
    unstated = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text())
        lines = path.read_text().splitlines()

        def walk(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                    text = "\n".join(lines[child.lineno - 1:child.end_lineno])
                    if LAZY_REASON not in text or not re.search(LAZY_REASON + r"\S", text):
                        unstated.append(f"{path.relative_to(PACKAGE)}:{child.lineno}: {ast.unparse(child)}")
                walk(child, inner)

        walk(tree, False)
    assert not unstated, "function-level imports without a stated reason:\n" + "\n".join(unstated)


def test_family_declarations_import_only_the_declaration_types():
    for module in registry.FAMILY_MODULES:
        imported = {t for t, _, _, _ in internal_imports(MODULES[module])}
        assert imported <= {"chaosaitrapp.declare"}, f"{module} imports {imported}: a declaration is pure data"


def test_no_module_outside_a_family_folder_names_a_fault_kind():
    """The centre iterates the registry: only a family's own folder (and the registry's tests) names its kinds."""
    kinds = registry.fault_kinds()
    folders = {m.rsplit(".", 1)[0] for m in registry.FAMILY_MODULES}
    named = []
    for name, path in MODULES.items():
        if any(name == f or name.startswith(f + ".") for f in folders) or name.startswith("chaosaitrapp.lab."):
            continue
        text = path.read_text()
        named += [f"{path.relative_to(PACKAGE)} names {k!r}" for k in kinds
                  if re.search(r"[\"']" + re.escape(k) + r"[\"']", text)]
    assert not named, "\n".join(named)


def test_every_declared_reference_resolves_inside_its_family_or_the_checks():
    for family in registry.FAMILIES:
        folder = next(m.rsplit(".", 1)[0] for m in registry.FAMILY_MODULES
                      if registry.resolve if m.endswith(f"{family.name}.family"))
        refs = [r for r in (family.preflight, family.sampler, family.evidence, family.sweep, family.shading) if r]
        refs += list(family.checkers.values()) + list(family.drivers.values())
        for ref in refs:
            assert registry.resolve(ref) is not None
            module = ref.partition(":")[0]
            assert module.startswith((folder + ".", "chaosaitrapp.checks.", "chaosaitrapp.targets.",
                                      "chaosaitrapp.faultproxy.")), f"{family.name} refers to {ref}"
        for module in family.activity_modules:
            assert module.startswith(folder + "."), f"{family.name} lists {module}"


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
    allowed = ("chaosaitrapp.checks", "chaosaitrapp.aitrapp", "chaosaitrapp.orderids", "chaosaitrapp.kitestates")
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
