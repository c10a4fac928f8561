"""lab_up / lab_down / lab_status / lab_logs and the CLI: idempotent up, nothing left after down, clear errors."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lab_helpers import get

from chaosaitrapp import procs
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.lab.errors import BinaryMissing, PortInUse, UnknownDefect
from chaosaitrapp.lab.runtime import LabConfig, LabPorts, lab_down, lab_logs, lab_status, lab_up, processes
from chaosaitrapp.targets.labstate import load_state, state_path
from chaosaitrapp.testing.lab import free_ports, make_lab_dir, start_lab


def lab_pids(state) -> dict:
    pids = {}
    for name, spec in state.services.items():
        pid = processes.running_pid(spec)
        assert pid is not None, f"{name} is not running"
        pids[name] = [pid, *procs.descendants(pid)]
    return pids


def test_up_is_idempotent_and_down_leaves_no_process():
    directory = make_lab_dir()
    try:
        state = start_lab(directory)
        assert get(state, "/ready").status_code == 200
        pids = lab_pids(state)
        assert len(pids["postgres"]) > 1  # the postmaster and its workers
        config = LabConfig(lab_dir=directory, ports=LabPorts(**state.ports))
        again = lab_up(config)
        assert again.started_at == state.started_at
        assert {n: p[0] for n, p in lab_pids(again).items()} == {n: p[0] for n, p in pids.items()}
        lab_down(directory)
        for name, family in pids.items():
            for pid in family:
                assert not procs.alive(pid), f"{name} pid {pid} survived lab down"
        assert load_state(directory) is None
        assert not list((directory / "run").glob("*.pid"))
        lab_down(directory)  # idempotent
    finally:
        lab_down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def test_state_records_specs_timings_and_no_secret(lab_factory):
    key = "k3y-" + os.urandom(8).hex()
    state = lab_factory(api_key=key)
    assert set(state.services) == {"redis", "postgres", "broker", "broker_proxy", "net_proxy", "trader"}
    for spec in state.services.values():
        assert spec.kind == "process" and spec.pidfile and spec.argv and spec.log and spec.cwd
        assert spec.host == "127.0.0.1"
    assert {s.check for s in state.services.values()} == {"redis", "postgres", "http"}
    assert state.database_url.startswith("postgresql://trader@127.0.0.1:")
    assert state.timings == {"lock_ttl": 3.0, "refresh": 0.5, "backoff_max": 2.1, "heartbeat_max": 5.0,
                             "ticker_max_delay": 5.0}
    assert "--save" in state.services["redis"].argv and "3600 1" in state.services["redis"].argv
    text = state_path(Path(state.lab_dir)).read_text()
    assert key not in text and "trader:trader" not in text
    for log in Path(state.lab_dir, "logs").glob("*.log"):
        assert key not in log.read_text(errors="replace"), f"API key leaked into {log}"


def test_status_and_logs(lab):
    status = lab_status(Path(lab.lab_dir))
    assert status["up"] is True and status["leader"] == 1.0
    assert set(status["services"]) == {"redis", "postgres", "broker", "broker_proxy", "net_proxy", "trader"}
    assert all(s["running"] and s["answers"] and s["pid"] for s in status["services"].values())
    assert "Uvicorn running" in lab_logs(Path(lab.lab_dir), "trader", 200)
    assert lab_status(Path("/nonexistent-lab"))["up"] is False


def test_taken_port_is_named_before_anything_starts():
    directory = make_lab_dir()
    trader, broker, redis_port, postgres = free_ports(4)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", redis_port))
        blocker.listen()
        config = LabConfig(lab_dir=directory, ports=LabPorts(trader=trader, broker=broker, redis=redis_port,
                                                             postgres=postgres))
        with pytest.raises(PortInUse) as err:
            lab_up(config)
    assert str(redis_port) in str(err.value) and "redis" in str(err.value) and "--redis-port" in str(err.value)
    assert load_state(directory) is None
    shutil.rmtree(directory, ignore_errors=True)


def test_unknown_defect_is_refused_before_anything_starts():
    directory = make_lab_dir()
    with pytest.raises(UnknownDefect) as err:
        lab_up(LabConfig(lab_dir=directory, defects=["never_pause", "flaky_everything"]))
    assert "flaky_everything" in str(err.value) and isinstance(err.value, ConfigError)
    assert load_state(directory) is None
    shutil.rmtree(directory, ignore_errors=True)


def test_missing_binary_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    ports = free_ports(4)
    with pytest.raises(BinaryMissing) as err:
        lab_up(LabConfig(lab_dir=tmp_path / "lab", ports=LabPorts(*ports)))
    assert "redis-server" in str(err.value)


def test_cli_up_status_logs_down():
    directory = make_lab_dir()
    trader, broker, redis_port, postgres = free_ports(4)
    base = [str(Path(sys.executable).with_name("aitrapp-chaos")), "lab"]
    env = {k: v for k, v in os.environ.items() if k != "API_SECRET_KEY"}
    try:
        up = subprocess.run([*base, "up", "--lab-dir", str(directory), "--api-port", str(trader), "--broker-port",
                             str(broker), "--redis-port", str(redis_port), "--postgres-port", str(postgres),
                             "--profile", "fast"], capture_output=True, text=True, timeout=120, env=env)
        assert up.returncode == 0, up.stderr
        assert "lab up in" in up.stdout and f"http://127.0.0.1:{trader}" in up.stdout
        status = subprocess.run([*base, "status", "--json", "--lab-dir", str(directory)], capture_output=True,
                                text=True, timeout=60, env=env)
        assert status.returncode == 0 and json.loads(status.stdout)["up"] is True, (status.stdout, status.stderr)
        human = subprocess.run([*base, "status", "--lab-dir", str(directory)], capture_output=True, text=True,
                               timeout=60, env=env)
        assert human.returncode == 0 and "lab up: API" in human.stdout and "redis" in human.stdout
        logs = subprocess.run([*base, "logs", "redis", "--lab-dir", str(directory), "-n", "5"], capture_output=True,
                              text=True, timeout=60, env=env)
        assert logs.returncode == 0 and logs.stdout.strip(), logs.stderr
        bad = subprocess.run([*base, "up", "--lab-dir", str(directory), "--defect", "nope"], capture_output=True,
                             text=True, timeout=60, env=env)
        assert bad.returncode == 2 and "nope" in bad.stderr, (bad.stdout, bad.stderr)
        down = subprocess.run([*base, "down", "--lab-dir", str(directory)], capture_output=True, text=True,
                              timeout=60, env=env)
        assert down.returncode == 0, down.stderr
        assert load_state(directory) is None
        gone = subprocess.run([*base, "status", "--lab-dir", str(directory)], capture_output=True, text=True,
                              timeout=60, env=env)
        assert gone.returncode == 3 and "no lab" in gone.stdout
    finally:
        lab_down(directory)
        shutil.rmtree(directory, ignore_errors=True)
