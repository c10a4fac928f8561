"""Control groups: this machine's real ones (v1 cpu and memory here: make a group with limits, move a
process in, read it back, remove it) and a v2 tree laid out under a fake root (the same code paths with
the v2 file names: ``cgroup.controllers``, ``subtree_control``, ``cpu.max``, ``memory.max``, ``memory.events``)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets import cgroups
from chaosaitrapp.targets.cgroups import cgroup_of, from_dict, hierarchy, make_cgroup, parse_size, to_dict


@pytest.mark.parametrize("text,expected", [("256M", 256 * 2**20), ("1G", 2**30), ("512MiB", 512 * 2**20),
                                           ("64m", 64 * 2**20), ("1048576", 2**20), (4096, 4096)])
def test_sizes_parse_in_binary_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["lots", "-5M", "0", 0, True, "1.5.3G"])
def test_bad_sizes_are_refused_naming_the_key(bad):
    with pytest.raises(ConfigError, match="vm_bytes"):
        parse_size(bad, "vm_bytes")


def test_this_machine_has_cpu_and_memory_controllers():
    found = hierarchy()
    assert {"cpu", "memory"} <= set(found), f"the stress drills need cpu and memory cgroup controllers: {found}"


def test_a_group_of_ours_gets_its_limits_and_its_process(tmp_path):
    group = make_cgroup(f"aitrapp-test-{os.getpid()}", 0.25, 128 * 2**20)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert group.cpu_limit() == pytest.approx(0.25) and group.memory_limit() == 128 * 2**20
        assert group.oom_kills() == 0
        group.add(sleeper.pid)
        inside = cgroup_of(sleeper.pid)
        assert inside.same_as(group) and not inside.same_as(cgroup_of(None))
        assert sleeper.pid in group.pids() and group.memory_bytes() is not None
        assert from_dict(to_dict(group)) == group
    finally:
        sleeper.kill()
        sleeper.wait()
    group.remove()
    assert not any(d.exists() for d in group.dirs.values())
    group.remove()  # removing again is fine


def fake_v2(root: Path, pid: int = 4242) -> Path:
    """A v2-only machine: one cgroup2 mount at /sys/fs/cgroup, our process in /user.slice/me."""
    (root / "proc/self").mkdir(parents=True)
    (root / f"proc/{pid}").mkdir(parents=True)
    (root / "proc/self/mountinfo").write_text(
        "25 30 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        "26 30 0:5 / /proc rw - proc proc rw\n")
    (root / "proc/self/cgroup").write_text("0::/user.slice/me\n")
    (root / f"proc/{pid}/cgroup").write_text("0::/system.slice/trader.service\n")
    top = root / "sys/fs/cgroup"
    for directory in (top, top / "user.slice/me", top / "system.slice/trader.service"):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cgroup.controllers").write_text("cpu memory pids\n")
        (directory / "cgroup.subtree_control").write_text("")
    service = top / "system.slice/trader.service"
    (service / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (service / "memory.current").write_text("104857600\n")
    (service / "memory.max").write_text("268435456\n")
    (service / "cpu.max").write_text("50000 100000\n")
    return top


def test_v2_is_found_and_read(tmp_path):
    top = fake_v2(tmp_path)
    assert hierarchy(tmp_path) == {"cpu": (2, Path("/sys/fs/cgroup")), "memory": (2, Path("/sys/fs/cgroup"))}
    target = cgroup_of(4242, tmp_path)
    assert target.versions == {"cpu": 2, "memory": 2}
    assert target.dirs["memory"] == top / "system.slice/trader.service"
    assert target.oom_kills() == 1 and target.memory_bytes() == 100 * 2**20
    assert target.memory_limit() == 256 * 2**20 and target.cpu_limit() == pytest.approx(0.5)
    assert not target.same_as(cgroup_of(None, tmp_path))


def test_v2_groups_are_made_with_the_controllers_enabled_and_v2_limits(tmp_path):
    top = fake_v2(tmp_path)
    group = make_cgroup("aitrapp-lab-x-trader", 0.5, 256 * 2**20, root=tmp_path)
    made = top / "user.slice/me/aitrapp-lab-x-trader"
    assert group.dirs == {"cpu": made, "memory": made}
    assert (made / "cpu.max").read_text() == "50000 100000\n"
    assert (made / "memory.max").read_text() == f"{256 * 2**20}\n"
    assert (made / "memory.swap.max").read_text() == "0\n"
    # the parent was given the controllers (the fake file keeps the last write)
    assert (top / "user.slice/me/cgroup.subtree_control").read_text().strip() in ("+cpu", "+memory")
    assert group.procs_files() == [str(made / "cgroup.procs")]
    (made / "memory.max").write_text("max\n")
    assert group.memory_limit() is None
    assert group.paths == {"cpu": "/user.slice/me/aitrapp-lab-x-trader", "memory": "/user.slice/me/aitrapp-lab-x-trader"}


def test_no_controller_at_all_is_a_clear_error(tmp_path):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mountinfo").write_text("26 30 0:5 / /proc rw - proc proc rw\n")
    with pytest.raises(cgroups.TargetError, match="neither a cpu nor a memory cgroup controller"):
        cgroup_of(None, tmp_path)
