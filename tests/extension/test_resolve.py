"""Target resolution through the deployment description: the lab's own description is used only when the
lab is the drill's target (its API, its trader alive: lab_for decides, inside the lab's code); an explicit
setting always wins over a description; a target of unknown timing is judged by nothing assumed."""
import os
from pathlib import Path

import pytest

from chaosaitrapp import procs
from chaosaitrapp.config import settings_from
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.deployment.description import apply
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.lab.runtime.description import write_lab_description
from chaosaitrapp.targets.docker import DockerDriver
from chaosaitrapp.targets.labstate import LabState, ServiceSpec, forget_lab_decisions, lab_for, same_api, save_state
from chaosaitrapp.targets.process import ProcessDriver
from chaosaitrapp.trader.probes import settle_time


def fake_lab(directory: Path, api: str, trader_alive: bool = True) -> LabState:
    """A lab.json whose 'trader' is this very test process (alive) or a pid that runs something else."""
    pidfile = directory / "run" / "trader.pid"
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{os.getpid()}\n")
    argv = procs.cmdline(os.getpid()) if trader_alive else ["/usr/bin/not-the-trader"]
    services = {
        "trader": ServiceSpec("trader", "process", "127.0.0.1", 1, "http", pidfile=str(pidfile), argv=argv),
        "redis": ServiceSpec("redis", "process", "127.0.0.1", 6390, "redis", pidfile=str(directory / "r.pid"),
                             argv=["redis-server"]),
    }
    state = LabState(runtime="process", profile="fast", api=api, redis_url="redis://127.0.0.1:6390/0",
                     database_url="postgresql://trader@127.0.0.1:5439/aitrapp", services=services,
                     timings={"lock_ttl": 3.0, "refresh": 0.5, "backoff_max": 2.1}, lab_dir=str(directory))
    save_state(state, directory)
    write_lab_description(state, directory)
    forget_lab_decisions()
    return state


def configured(api: str, **more) -> dict:
    """A drill's configuration after the controls applied the deployment description to it."""
    cfg = {"api": api, **more}
    apply(cfg, {}, argv=[])
    return cfg


@pytest.fixture
def lab_dir(tmp_path, monkeypatch):
    directory = tmp_path / "lab"
    monkeypatch.setenv("AITRAPP_LAB_DIR", str(directory))
    return directory


def test_same_api_treats_loopback_names_as_one():
    assert same_api("http://127.0.0.1:8000", "http://localhost:8000")
    assert same_api("http://[::1]:8000/", "http://127.0.0.1:8000")
    assert not same_api("http://127.0.0.1:8000", "http://127.0.0.1:8001")
    assert not same_api("http://127.0.0.1:8000", "https://127.0.0.1:8000")
    assert not same_api("http://10.0.0.5:8000", "http://127.0.0.1:8000")


def test_lab_for_needs_the_same_api_and_a_live_trader(lab_dir):
    fake_lab(lab_dir, "http://127.0.0.1:18000")
    assert lab_for("http://localhost:18000") is not None
    assert lab_for("http://127.0.0.1:18001") is None, "another API is not the lab"
    fake_lab(lab_dir, "http://127.0.0.1:18000", trader_alive=False)
    assert lab_for("http://127.0.0.1:18000") is None, "a lab whose trader is gone is not the target"


def test_auto_targets_the_lab_only_when_it_is_the_target(lab_dir, monkeypatch):
    fake_lab(lab_dir, "http://127.0.0.1:18000")
    on_lab = dependency_driver("redis", "", configured("http://127.0.0.1:18000"))
    assert isinstance(on_lab, ProcessDriver) and on_lab.describe().endswith("r.pid")
    elsewhere = dependency_driver("redis", "", configured("http://127.0.0.1:18555"))
    assert isinstance(elsewhere, DockerDriver) and elsewhere.describe() == "docker:redis"


def test_an_explicit_container_wins_over_the_labs_description(lab_dir, monkeypatch):
    fake_lab(lab_dir, "http://127.0.0.1:18000")
    monkeypatch.setenv("REDIS_CONTAINER", "no-such-container")
    driver = dependency_driver("redis", "", configured("http://127.0.0.1:18000"))
    assert isinstance(driver, DockerDriver) and driver.describe() == "docker:no-such-container"
    monkeypatch.delenv("REDIS_CONTAINER")
    # the experiments declare the container with an empty default: unset stays "not explicit"
    cfg = configured("http://127.0.0.1:18000", redis_container="")
    assert isinstance(dependency_driver("redis", "", cfg), ProcessDriver)
    assert "redis_container" not in settings_from(cfg).explicit


def test_timing_and_settle_follow_the_labs_description_and_nothing_else(lab_dir):
    fake_lab(lab_dir, "http://127.0.0.1:18000")
    on_lab = {"api": "http://127.0.0.1:18000"}
    applied = apply(on_lab, {}, argv=[])
    assert applied.provider == "lab" and "lock_refresh" in applied.applied
    timing = target_timing(on_lab, from_description=applied.applied)
    assert (timing.lock_ttl, timing.lock_refresh, timing.lock_backoff_max) == (3.0, 0.5, 2.1)
    assert timing.sources["lock_refresh"] == "the deployment description"
    assert settle_time(on_lab) == pytest.approx(1.5)
    unknown = target_timing(configured("http://127.0.0.1:18999"))
    assert unknown.unknown() == ["lock_ttl", "lock_refresh", "lock_backoff_max", "ticker_max_delay"], \
        "a target nobody described and whose lock was not read has no timing: never AITRAPP's assumed"
    assert settle_time(configured("http://127.0.0.1:18999")) == 12.0


def test_the_decision_is_kept_while_lab_json_is_the_same_file(lab_dir):
    state = fake_lab(lab_dir, "http://127.0.0.1:18000")
    assert lab_for("http://127.0.0.1:18000") is not None
    (lab_dir / "run" / "trader.pid").write_text("1\n")  # the trader "dies" mid-drill
    assert lab_for("http://127.0.0.1:18000") is not None, "a drill that started on the lab rolls back on the lab"
    save_state(state, lab_dir)  # a new lab.json is a new decision
    os.utime(lab_dir / "lab.json", ns=(1, 1))
    assert lab_for("http://127.0.0.1:18000") is None
