"""A user outside the docker group gets a clear "permission denied" from the driver."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.docker

_PROBE = """
from chaosaitrapp.errors import TargetError
from chaosaitrapp.targets.docker import DockerDriver
try:
    DockerDriver("redis").is_running()
except TargetError as exc:
    print("ERROR:", exc)
else:
    print("NO ERROR")
"""


def test_permission_denied_on_the_socket(docker_engine):
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", _PROBE],
        capture_output=True, text=True, timeout=60, cwd="/", env={"HOME": "/tmp", "PYTHONPATH": str(ROOT),
                                                                 "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ERROR: docker:redis: permission denied"), proc.stdout
    assert "docker' group" in proc.stdout
