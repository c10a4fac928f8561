"""scripts/docker/*.sh: idempotent on a running engine, loud when dockerd is missing."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "docker"


def run(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_start_engine_leaves_a_running_engine_alone(docker_engine):
    proc = run("start-engine.sh")
    assert proc.returncode == 0, proc.stderr
    assert "already answers; leaving it alone" in proc.stdout


def test_start_engine_says_when_dockerd_is_missing(docker_engine):
    proc = run("start-engine.sh", env={"DOCKER_HOST": "unix:///nonexistent.sock", "DOCKERD": "/nonexistent/dockerd"})
    assert proc.returncode == 1
    assert "dockerd is not installed at /nonexistent/dockerd" in proc.stderr


def test_build_images_is_idempotent(docker_engine):
    proc = run("build-images.sh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("is up to date") == 2


def test_images_speak_the_official_interface(docker_engine):
    redis_image = docker_engine.images.get(os.environ.get("CHAOSAITRAPP_REDIS_IMAGE", "chaosaitrapp/redis:7-local"))
    pg_image = docker_engine.images.get(os.environ.get("CHAOSAITRAPP_POSTGRES_IMAGE", "chaosaitrapp/postgres:15-local"))
    assert redis_image.attrs["Config"]["Entrypoint"] == ["docker-entrypoint.sh"]
    assert redis_image.attrs["Config"]["Cmd"][0] == "redis-server"
    assert pg_image.attrs["Config"]["Entrypoint"] == ["docker-entrypoint.sh"]
    assert pg_image.attrs["Config"]["Cmd"] == ["postgres"]
    assert pg_image.attrs["Config"]["StopSignal"] == "SIGINT"
    assert "PGDATA=/var/lib/postgresql/data" in pg_image.attrs["Config"]["Env"]
