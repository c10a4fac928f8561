"""Playing a GitHub Actions workflow's ``run:`` steps here, as the tests of the workflows we ship do:
``uses:`` steps are GitHub's and are left out, ``sudo`` is a pass-through (the tests run as root),
a step with ``if: always()`` runs even after one failed, and the first failure is kept with what the
JUnit files say about it."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Optional, Set


def shim(directory: Path, name: str, script: str) -> Path:
    """Write an executable ``name`` in ``directory`` (put first on PATH) running ``script``; ``directory``."""
    path = directory / name
    path.write_text(script)
    path.chmod(0o755)
    return directory


def sudo_shim(directory: Path) -> Path:
    """``sudo [-E] CMD...`` runs ``CMD...`` (as root already)."""
    return shim(directory, "sudo", '#!/bin/sh\n# as root here: sudo -E CMD... is CMD...\n[ "$1" = "-E" ] && shift\nexec "$@"\n')


def junit_failures(reports: Path, before: Set[Path]) -> str:
    """The failed drills of the JUnit files a step left, with their messages (the step's output tail may
    not reach them)."""
    lines = []
    for junit in sorted(set(reports.glob("suite_*.junit.xml")) - before):
        for case in ET.parse(junit).getroot().iter("testcase"):
            failure = case.find("failure")
            if failure is not None:
                lines.append(f"{junit.name}: {case.get('name')}: {failure.get('message')}\n{(failure.text or '')[:3000]}")
    return "\n".join(lines) or "(no JUnit failure recorded)"


def new_junit_cases(reports: Path, before: Set[Path]) -> Dict[str, ET.Element]:
    """The test cases of the JUnit files written since ``before``, by drill name."""
    return {c.get("name"): c for junit in sorted(set(reports.glob("suite_*.junit.xml")) - before)
            for c in ET.parse(junit).getroot().iter("testcase")}


def play(steps: List[Dict[str, Any]], cwd: Path, env: Dict[str, str], reports: Path, before: Set[Path],
         timeout: float = 900) -> Dict[str, Any]:
    """Run the ``run:`` steps in order (``bash -eo pipefail``, as GitHub does). Returns ``{"failed": the
    first failure's account or None, "outputs": step name -> stdout+stderr}``."""
    failed: Optional[str] = None
    outputs: Dict[str, str] = {}
    for step in steps:
        if "run" not in step or (failed is not None and step.get("if") != "always()"):
            continue
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        outputs[step.get("name", step["run"][:40])] = proc.stdout + proc.stderr
        if proc.returncode != 0 and failed is None:
            failed = (f"step {step.get('name')!r} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
                      f"\n{junit_failures(reports, before)}")
    return {"failed": failed, "outputs": outputs}
