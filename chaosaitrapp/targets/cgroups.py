"""Control groups for the CPU and memory controllers, v1 or v2, found the way the kernel says.

The controllers' mounts come from our ``mountinfo`` (:func:`chaosaitrapp.procs.proc_file`): a ``cgroup`` (v1) mount per controller
(``cpu``, ``memory``; ``cpu,cpuacct`` when they share one), or the ``cgroup2`` unified mount whose
``cgroup.controllers`` lists them. A machine may mix them (this one: v1 ``cpu`` and ``memory``, an empty
v2 mount beside them): each controller is looked up on its own, v1 first.

A :class:`Cgroup` is one group as the controllers see it: ``{controller: directory}`` (v2: one directory
for both). :func:`cgroup_of` finds a process's group (its ``cgroup`` file), :func:`make_cgroup` makes a
child of *our own* group with CPU and memory limits (the lab's ``--cpu-limit``/``--memory-limit``; a group
under ours is one we may make and remove), :meth:`Cgroup.add` moves a process in (its children
follow it at fork). Readings: memory in use and its limit, OOM kills (v1 ``memory.oom_control``
``oom_kill``, v2 ``memory.events``), CPU quota.

``root`` (default ``/``) prefixes every path read or written, so a test can lay out a fake v2 tree.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.procs import proc_file

CONTROLLERS = ("cpu", "memory")
CFS_PERIOD_US = 100_000
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def parse_size(value: object, key: str = "size") -> int:
    """Bytes from ``256M``, ``1G``, ``512MiB``, ``1048576`` (binary units); ConfigError naming ``key`` for
    anything else, zero or a negative."""
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be a size like 256M or 1G, got {value!r}", key=key)
    if isinstance(value, (int, float)):
        size = int(value)
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ConfigError(f"{key} must be a size like 256M or 1G, got {value!r}", key=key)
        size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size <= 0:
        raise ConfigError(f"{key} must be a positive size, got {value!r}", key=key)
    return size


def _mounts(root: Path) -> List[Tuple[str, str, List[str]]]:
    """``(fstype, mount point, super options)`` of every cgroup mount in our mountinfo."""
    found = []
    try:
        lines = Path(proc_file(None, "mountinfo", str(root))).read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        parts, tail = left.split(), right.split()
        if len(parts) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        found.append((tail[0], parts[4], tail[2].split(",")))
    return found


def hierarchy(root: Path = Path("/")) -> Dict[str, Tuple[int, Path]]:
    """``{controller: (version, mount point)}`` for the CPU and memory controllers this machine has."""
    out: Dict[str, Tuple[int, Path]] = {}
    mounts = _mounts(root)
    for fstype, point, options in mounts:
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options and controller not in out:
                    out[controller] = (1, Path(point))
    for fstype, point, _ in mounts:
        if fstype != "cgroup2":
            continue
        try:
            available = (root / point.lstrip("/") / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        for controller in CONTROLLERS:
            if controller in available and controller not in out:
                out[controller] = (2, Path(point))
    return out


def _membership(pid: Optional[int], root: Path) -> Dict[str, str]:
    """``{controller or "": path}`` from process ``pid``'s ``cgroup`` file (ours when None); "" is the v2 line."""
    out: Dict[str, str] = {}
    for line in Path(proc_file(pid, "cgroup", str(root))).read_text().splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            out[""] = path
        for controller in controllers.split(","):
            if controller:
                out[controller] = path
    return out


@dataclass
class Cgroup:
    """One control group: ``dirs`` ``{controller: directory}`` (absolute, ``root`` included), ``versions``
    ``{controller: 1 or 2}``, ``paths`` ``{controller: the group's path inside that hierarchy}`` (``/``
    is the top group; on v1 a process may sit at different paths in different controllers)."""

    dirs: Dict[str, Path]
    versions: Dict[str, int]
    paths: Dict[str, str]
    root: Path = field(default=Path("/"))

    def describe(self) -> str:
        """``cgroup cpu v1:/PATH, memory v1:/PATH``."""
        return "cgroup " + ", ".join(f"{c} v{self.versions[c]}:{self.paths.get(c, '?')}" for c in sorted(self.dirs))

    def same_as(self, other: "Cgroup") -> bool:
        """True when both are the same group in every controller they have."""
        return self.dirs == other.dirs

    def _file(self, controller: str, v1: str, v2: str) -> Optional[Path]:
        directory = self.dirs.get(controller)
        if directory is None:
            return None
        return directory / (v1 if self.versions[controller] == 1 else v2)

    def _read(self, controller: str, v1: str, v2: str) -> Optional[str]:
        path = self._file(controller, v1, v2)
        try:
            return path.read_text() if path is not None else None
        except OSError:
            return None

    def add(self, pid: int) -> None:
        """Move process ``pid`` into this group (every controller); TargetError when the kernel refuses."""
        for controller, directory in sorted(self.dirs.items()):
            try:
                (directory / "cgroup.procs").write_text(f"{int(pid)}\n")
            except OSError as exc:
                raise TargetError(f"cannot move pid {pid} into {self.describe()} ({controller}): {exc}") from None

    def procs_files(self) -> List[str]:
        """The ``cgroup.procs`` file of each controller's directory (one for v2), for a launcher that moves
        itself in before it execs (so every child it forks starts inside)."""
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def pids(self) -> List[int]:
        """The processes in the group (the union over its controllers)."""
        out = set()
        for directory in self.dirs.values():
            try:
                out.update(int(x) for x in (directory / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue
        return sorted(out)

    def memory_bytes(self) -> Optional[int]:
        """Memory the group uses now, or None without a memory controller."""
        text = self._read("memory", "memory.usage_in_bytes", "memory.current")
        return int(text) if text and text.strip().isdigit() else None

    def memory_limit(self) -> Optional[int]:
        """The group's memory limit in bytes, None when unlimited or unknown."""
        text = (self._read("memory", "memory.limit_in_bytes", "memory.max") or "").strip()
        if not text.isdigit() or int(text) >= 2 ** 62:
            return None
        return int(text)

    def oom_kills(self) -> Optional[int]:
        """How many processes the kernel's OOM killer ended in this group so far, None when it does not say."""
        text = self._read("memory", "memory.oom_control", "memory.events")
        for line in (text or "").splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip().isdigit():
                return int(value)
        return None

    def cpu_limit(self) -> Optional[float]:
        """The group's CPU quota in CPUs (0.5: half a core), None when unlimited."""
        if "cpu" not in self.dirs:
            return None
        if self.versions["cpu"] == 2:
            fields = (self._read("cpu", "", "cpu.max") or "max").split()
            quota, period = fields[0], (fields[1] if len(fields) > 1 else str(CFS_PERIOD_US))
            return None if not quota.isdigit() else int(quota) / int(period)
        quota_text = (self._read("cpu", "cpu.cfs_quota_us", "") or "-1").strip()
        period_text = (self._read("cpu", "cpu.cfs_period_us", "") or str(CFS_PERIOD_US)).strip()
        quota = int(quota_text) if quota_text.lstrip("-").isdigit() else -1
        return None if quota <= 0 else quota / int(period_text)

    def set_limits(self, cpu: Optional[float] = None, memory: Optional[int] = None) -> None:
        """Write the CPU quota (CPUs) and memory limit (bytes) given; TargetError when refused."""
        writes: List[Tuple[Path, str]] = []
        if cpu is not None:
            quota = max(1000, int(cpu * CFS_PERIOD_US))
            if self.versions.get("cpu") == 1:
                writes += [(self.dirs["cpu"] / "cpu.cfs_period_us", str(CFS_PERIOD_US)),
                           (self.dirs["cpu"] / "cpu.cfs_quota_us", str(quota))]
            elif self.versions.get("cpu") == 2:
                writes.append((self.dirs["cpu"] / "cpu.max", f"{quota} {CFS_PERIOD_US}"))
        if memory is not None:
            if self.versions.get("memory") == 1:
                writes.append((self.dirs["memory"] / "memory.limit_in_bytes", str(int(memory))))
            elif self.versions.get("memory") == 2:
                writes += [(self.dirs["memory"] / "memory.max", str(int(memory))),
                           (self.dirs["memory"] / "memory.swap.max", "0")]
        for path, value in writes:
            try:
                path.write_text(value + "\n")
            except FileNotFoundError:
                if path.name != "memory.swap.max":  # no swap accounting: nothing to turn off
                    raise TargetError(f"{self.describe()}: no {path.name} to write") from None
            except OSError as exc:
                raise TargetError(f"{self.describe()}: writing {value} to {path.name} failed: {exc}") from None

    def remove(self) -> None:
        """Remove the group's directories (it must be empty: its processes ended); missing ones are fine."""
        for directory in sorted(set(self.dirs.values()), reverse=True):
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise TargetError(f"cannot remove {self.describe()}: {exc} (processes {self.pids()} still in it)") \
                    from None


def cgroup_of(pid: Optional[int] = None, root: Path = Path("/")) -> Cgroup:
    """The group process ``pid`` (ours when None) is in, for the CPU and memory controllers this machine
    has; TargetError when it has neither or the process is gone."""
    found = hierarchy(root)
    if not found:
        raise TargetError("this machine mounts neither a cpu nor a memory cgroup controller (see our mountinfo)")
    try:
        membership = _membership(pid, root)
    except OSError:
        raise TargetError(f"no process with pid {pid}: its cgroup cannot be read") from None
    dirs: Dict[str, Path] = {}
    versions: Dict[str, int] = {}
    paths: Dict[str, str] = {}
    for controller, (version, point) in found.items():
        relative = membership.get(controller if version == 1 else "")
        if relative is None:
            continue
        dirs[controller] = root / str(point).lstrip("/") / relative.lstrip("/")
        versions[controller] = version
        paths[controller] = relative or "/"
    return Cgroup(dirs, versions, paths, root)


def make_cgroup(name: str, cpu: Optional[float] = None, memory: Optional[int] = None,
                root: Path = Path("/")) -> Cgroup:
    """Make (or reuse) the child ``name`` of our own group with the limits given and return it; on v2 the
    parent's ``cgroup.subtree_control`` is given ``+cpu +memory`` first. TargetError when the kernel
    refuses (no controller, no permission, the parent has processes on v2...)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(f"cgroup name {name!r}: letters, digits, '.', '_' and '-' only", key="cgroup")
    ours = cgroup_of(None, root)
    needed = [c for c, v in ((c, cpu if c == "cpu" else memory) for c in CONTROLLERS) if v is not None]
    missing = [c for c in needed if c not in ours.dirs]
    if missing:
        raise TargetError(f"no {', '.join(missing)} cgroup controller on this machine: the limits cannot be set")
    dirs = {c: d / name for c, d in ours.dirs.items()}
    for controller, parent in ours.dirs.items():
        if ours.versions[controller] == 2:
            control = parent / "cgroup.subtree_control"
            try:
                if controller not in control.read_text().split():
                    control.write_text(f"+{controller}\n")
            except OSError as exc:
                raise TargetError(f"cannot enable the {controller} controller below {ours.describe()}: {exc}") \
                    from None
    for directory in set(dirs.values()):
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot make cgroup {directory}: {exc}") from None
    group = Cgroup(dirs, dict(ours.versions), {c: os.path.join(p, name) for c, p in ours.paths.items()}, root)
    group.set_limits(cpu, memory)
    return group


def from_dict(data: Dict[str, object]) -> Cgroup:
    """Rebuild a :class:`Cgroup` from :func:`to_dict`'s dict (the lab's state file)."""
    return Cgroup({k: Path(str(v)) for k, v in dict(data["dirs"]).items()},  # type: ignore[arg-type]
                  {k: int(v) for k, v in dict(data["versions"]).items()},  # type: ignore[arg-type]
                  {k: str(v) for k, v in dict(data.get("paths") or {}).items()},  # type: ignore[arg-type]
                  Path(str(data.get("root") or "/")))


def to_dict(group: Cgroup) -> Dict[str, object]:
    """A JSON-ready dict of ``group``."""
    return {"dirs": {k: str(v) for k, v in group.dirs.items()}, "versions": dict(group.versions),
            "paths": dict(group.paths), "root": str(group.root)}
