"""The process: driver on a real redis-server: start detached, answer, stop, undo recipe, and no
secret handed down to the restarted process."""
import shutil
from pathlib import Path

import pytest

from chaosaitrapp.registry import driver_from_undo
from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.process import ProcessDriver, pid_alive
from chaosaitrapp.testing.lab import free_port


@pytest.fixture
def redis_driver(tmp_path):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (apt-get install redis-server)"
    port = free_port()
    driver = ProcessDriver(str(tmp_path / "redis.pid"), argv=[binary, "--bind", "127.0.0.1", "--port", str(port),
                                                             "--save", "", "--dir", str(tmp_path)],
                           log=str(tmp_path / "redis.log"), check="redis", port=port)
    yield driver
    driver.stop(10)


def test_start_stop_round_trip_and_undo(redis_driver, monkeypatch):
    monkeypatch.setenv("API_KEY", "never-hand-this-down")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw-never@127.0.0.1/db")
    redis_driver.start(20)
    assert redis_driver.is_running() and redis_driver.answers() and redis_answers("127.0.0.1", redis_driver.port)
    pid = redis_driver.pid()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"never-hand-this-down" not in environ and b"pw-never" not in environ
    redis_driver.start(20)  # idempotent: still the same process
    assert redis_driver.pid() == pid
    redis_driver.stop(10)
    assert not pid_alive(pid) and not redis_driver.answers()
    redis_driver.stop(10)  # idempotent
    clone = driver_from_undo(redis_driver.undo())
    clone.start(20)
    assert redis_driver.answers() and redis_driver.pid() != pid


def test_a_stale_pidfile_whose_pid_runs_another_program_is_never_signalled(redis_driver):
    """A pidfile left behind by a service that died names a pid the kernel gave to another program (the machine
    here recycles pids within minutes): that process is not the service, is never stopped, and a start launches
    the service again (its pid then in the pidfile)."""
    import subprocess

    stranger = subprocess.Popen(["sleep", "60"])
    try:
        redis_driver.pidfile.write_text(f"{stranger.pid}\n")
        assert redis_driver.pid() is None and not redis_driver.is_running()
        redis_driver.stop(2)
        assert stranger.poll() is None, "the stranger was signalled"
        redis_driver.start(20)
        assert redis_driver.pid() not in (None, stranger.pid) and redis_answers("127.0.0.1", redis_driver.port)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_missing_start_command_is_named(tmp_path):
    driver = ProcessDriver(str(tmp_path / "x.pid"), argv=["/nonexistent/redis-server"], check="redis", port=free_port())
    with pytest.raises(Exception, match="start command '/nonexistent/redis-server' not found"):
        driver.start(2)


@pytest.fixture
def hand_started_redis(tmp_path):
    """A Redis a person started by hand (not through a driver), daemonized, with its own pidfile and port."""
    import subprocess

    from chaosaitrapp.testing.waits import wait_for

    port = free_port()
    workdir = tmp_path / "redis-home"
    workdir.mkdir()
    pidfile = tmp_path / "redis.pid"
    subprocess.run([shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                    "--daemonize", "yes", "--pidfile", str(pidfile), "--dir", str(workdir)],
                   cwd=workdir, check=True, timeout=10)
    wait_for(lambda: redis_answers("127.0.0.1", port), timeout=10, what="the hand-started Redis")
    yield pidfile, port, workdir
    ProcessDriver(str(pidfile), check="redis").stop(10)


@pytest.fixture
def hand_started_service(tmp_path):
    """A TCP service a person started by hand: its own directory, environment (a variable of its own and one
    the ledger must never hold) and port; its pidfile written by that person."""
    import subprocess
    import sys

    from chaosaitrapp.targets.answers import tcp_answers
    from chaosaitrapp.testing.waits import wait_for

    port = free_port()
    workdir = tmp_path / "svc-home"
    workdir.mkdir()
    pidfile = tmp_path / "svc.pid"
    env = {"PATH": "/usr/bin:/bin", "OWN_SETTING": "kept-as-it-ran", "TEAM_TOKEN": "tok-not-in-ledger"}
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)], cwd=workdir,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    pidfile.write_text(f"{proc.pid}\n")
    wait_for(lambda: tcp_answers("127.0.0.1", port), timeout=10, what="the hand-started service")
    yield pidfile, port, workdir
    ProcessDriver(str(pidfile)).stop(10)
    proc.poll()


def test_a_redis_named_by_its_pidfile_alone_is_restarted_as_it_ran(hand_started_redis):
    """process:PIDFILE with no start command: Redis rewrites its title over its command line, so the command
    is rebuilt from what it says of itself; it is started again answering on the port it listened on (the
    "is it back" check never PINGs 6379, which may be another Redis)."""
    pidfile, port, workdir = hand_started_redis
    driver = ProcessDriver(str(pidfile), check="redis")
    undo = driver.undo()
    assert undo["port"] == port and undo["argv"][undo["argv"].index("--port") + 1] == str(port)
    assert undo["argv"][undo["argv"].index("--dir") + 1] == str(workdir)
    old = driver.pid()
    driver.stop(10)
    assert not redis_answers("127.0.0.1", port)
    clone = driver_from_undo(undo)  # as the rollback does, from the ledger's recipe
    clone.start(20)
    assert clone.pid() != old and redis_answers("127.0.0.1", port)


def test_a_process_named_by_its_pidfile_alone_keeps_its_directory_and_environment(hand_started_service):
    """The recipe names the environment's variables, never their values; the restart gets the values the
    run kept in memory, and the process runs again in its own directory on its own port."""
    pidfile, port, workdir = hand_started_service
    driver = ProcessDriver(str(pidfile))
    undo = driver.undo()
    assert undo["port"] == port and undo["cwd"] == str(workdir) and "http.server" in undo["argv"]
    assert undo["env_names"] == ["OWN_SETTING", "PATH", "TEAM_TOKEN"]
    assert "tok-not-in-ledger" not in str(undo) and "kept-as-it-ran" not in str(undo)
    driver.stop(10)
    clone = driver_from_undo(undo)
    clone.start(20)
    new = clone.pid()
    environ = dict(item.split("=", 1) for item in Path(f"/proc/{new}/environ").read_text().split("\0") if "=" in item)
    assert environ["OWN_SETTING"] == "kept-as-it-ran" and environ["TEAM_TOKEN"] == "tok-not-in-ledger"
    assert Path(f"/proc/{new}/cwd").resolve() == workdir.resolve() and clone.answers()


def test_another_process_restarts_it_only_with_the_values_it_was_handed(hand_started_service):
    """The watchdog gets the environment in its own environment (AITRAPP_RESTART_ENV); a process without it
    (a later cleanup) refuses, naming the variables it lacks, and starts nothing."""
    import json
    import subprocess
    import sys

    from chaosaitrapp.targets.answers import tcp_answers

    pidfile, port, _ = hand_started_service
    driver = ProcessDriver(str(pidfile))
    recipe = json.dumps(driver.undo())
    handed = driver.restart_env()
    driver.stop(10)
    code = ("import json, sys; from chaosaitrapp.registry import driver_from_undo; "
            "driver_from_undo(json.loads(sys.argv[1])).start(20); print('started')")
    bare = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    refused = subprocess.run([sys.executable, "-c", code, recipe], env=bare, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "OWN_SETTING, TEAM_TOKEN" in refused.stderr, refused.stderr[-1500:]
    assert not tcp_answers("127.0.0.1", port)
    started = subprocess.run([sys.executable, "-c", code, recipe], env={**bare, **handed}, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 0, started.stderr[-2000:]
    assert tcp_answers("127.0.0.1", port)
