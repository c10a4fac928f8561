"""The seed's drills through the real Docker engine: the lab's Redis and Postgres as containers
named `redis` and `postgres`, the seed scripts with their defaults, and a missing container."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from drills.checks import assert_lab_whole
from drills.kit import ROOT, Lab, drill_env, run_drill

from chaosaitrapp.lab.runtime.config import LabPorts
from chaosaitrapp.lab.runtime.preflight import port_free
from chaosaitrapp.targets.labstate import load_state

pytestmark = pytest.mark.docker
CLI = str(Path(sys.executable).with_name("aitrapp-chaos"))
DEFAULT_PORTS = LabPorts().as_dict()


@pytest.fixture(scope="module")
def docker_lab(docker_engine, tmp_path_factory):
    """`aitrapp-chaos lab up --runtime docker` on the seed's default ports (API http://localhost:8000)."""
    busy = [f"{name} {port}" for name, port in DEFAULT_PORTS.items() if not port_free(port)]
    assert not busy, f"the Docker drill tests need the seed's default ports free, but these are taken: {busy}"
    state_dir = tmp_path_factory.mktemp("docker-lab-state")
    os.chmod(state_dir, 0o711)
    env = {**os.environ, "AITRAPP_CHAOS_STATE": str(state_dir)}
    up = subprocess.run([CLI, "lab", "up", "--runtime", "docker"], capture_output=True, text=True, env=env,
                        cwd=ROOT, timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    lab_dir = state_dir / "lab"
    state = load_state(lab_dir)
    assert state.runtime == "docker" and state.services["redis"].container == "redis"
    yield Lab(lab_dir, state)
    down = subprocess.run([CLI, "lab", "down"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr


def container_running(client, name):
    return client.containers.get(name).status == "running"


def seed_env(lab, workdir):
    """Only what the seed scripts need: NONINTERACTIVE=1; API and REDIS_CONTAINER stay at their defaults."""
    env = drill_env(lab, workdir, {"NONINTERACTIVE": "1"})
    env.pop("API", None)
    env["AITRAPP_CHAOS_STATE"] = str(lab.directory.parent)  # where the lab (and its ledger) live
    env.pop("AITRAPP_LAB_DIR", None)
    return env


def test_leader_lock_seed_script_with_defaults(docker_lab, docker_engine, tmp_path):
    env = seed_env(docker_lab, tmp_path)
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "chaos_test_leader_lock.sh")], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "== leader_lock: PASS (exit 0)" in proc.stdout
    assert "docker:redis" in (tmp_path / "reports" / "leader_lock_journal.json").read_text()
    assert container_running(docker_engine, "redis"), "`docker ps` must show redis running again"
    assert_lab_whole(docker_lab, ledger=Path(env["AITRAPP_CHAOS_STATE"]) / "ledger.json")


@pytest.mark.parametrize("script", ["chaos_test_postgres.sh", "chaos_test_rate_limit.sh"])
def test_other_seed_scripts_on_docker(script, docker_lab, docker_engine, tmp_path):
    env = seed_env(docker_lab, tmp_path)
    proc = subprocess.run(["bash", str(ROOT / "scripts" / script)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert container_running(docker_engine, "redis") and container_running(docker_engine, "postgres")


def test_explicit_docker_targets_without_the_lab(docker_lab, docker_engine, tmp_path):
    """The real-deployment path: no lab state, `auto` resolves to docker:$REDIS_CONTAINER."""
    env = {"AITRAPP_LAB_DIR": str(tmp_path / "no-lab-here"), "API": "http://localhost:8000"}
    run = run_drill("leader_lock", None, tmp_path, env)
    assert run.code == 0, f"{run.extension.get('reasons')}\n{run.output[-3000:]}"
    stop = next(r for r in run.journal["run"] if r["activity"]["name"] == "stop-redis")
    assert stop["output"]["target"] == "docker:redis"
    assert container_running(docker_engine, "redis")


def test_missing_container_fails_clearly_and_changes_nothing(docker_lab, docker_engine, tmp_path):
    before = docker_engine.containers.get("redis").attrs["State"]["StartedAt"]
    env = {"AITRAPP_LAB_DIR": str(tmp_path / "no-lab-here"), "API": "http://localhost:8000",
           "REDIS_CONTAINER": "no-such-redis"}
    run = run_drill("leader_lock", None, tmp_path, env)
    assert run.code != 0 and run.fields["test_result"] == "FAIL"
    assert any("no-such-redis" in r and "no container" in r for r in run.reasons), run.reasons
    assert not any(r["activity"]["name"] == "stop-redis" for r in run.journal.get("run", []))
    assert docker_engine.containers.get("redis").attrs["State"]["StartedAt"] == before, "redis was restarted"
    assert container_running(docker_engine, "redis")


@pytest.mark.parametrize("partition", ["redis", "postgres"])
def test_partition_drills_on_docker(partition, docker_lab, docker_engine, tmp_path):
    """The containers keep running; the trader's path to them (through the lab's TCP fault proxy) is cut."""
    env = {**seed_env(docker_lab, tmp_path), "PARTITION": partition, "PARTITION_SECONDS": "4"}
    started = {name: docker_engine.containers.get(name).attrs["State"]["StartedAt"] for name in ("redis", "postgres")}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "chaos_test_network_partition.sh")], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"== network_partition_{partition}: PASS" in proc.stdout
    after = {name: docker_engine.containers.get(name).attrs["State"]["StartedAt"] for name in ("redis", "postgres")}
    assert after == started, "a partition never stops or restarts the dependency"
    assert_lab_whole(docker_lab, ledger=Path(env["AITRAPP_CHAOS_STATE"]) / "ledger.json")
