"""The crash drill's kill and restart of a container (``TARGET_PROCESS=docker:NAME``, as a deployment runs the trader):
the container's main process is SIGKILLed by its host pid, the container is seen stopped, and starting it again
brings the same container back answering. A Redis container stands in for the trader's (the mechanics are the
container's, not the program's)."""
from __future__ import annotations

from chaosaitrapp import procs
from chaosaitrapp.crash.target import crash_target
from chaosaitrapp.targets.answers import redis_answers


def test_a_container_is_killed_by_its_host_pid_and_started_again(make_container):
    made = make_container("redis")
    target = crash_target({"target_process": f"docker:{made.name}"})
    before = target.pid()
    assert before is not None and procs.alive(before)
    killed = target.kill()
    assert killed == before and not procs.alive(before) and not target.driver.is_running()
    made.container.reload()
    assert made.container.attrs["State"]["ExitCode"] == 137, "SIGKILLed, not stopped"
    target.driver.start(30)
    assert target.pid() not in (None, before) and redis_answers("127.0.0.1", made.port)
