"""The one place that inspects local processes (through psutil): alive, identity, command line,
descendants, state, memory.

A pid alone does not name a process for good (pids are reused), so identity is the pair
``(pid, start time)``: :func:`start_time` reads it, :func:`same_process` checks it. A zombie counts
as gone everywhere: it runs nothing and will never answer.
"""
from __future__ import annotations

import os
from typing import List, Optional

import psutil

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)


def _process(pid: int) -> Optional[psutil.Process]:
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None
        return process
    except _GONE:
        return None
    except psutil.AccessDenied:  # it exists, owned by someone else
        return psutil.Process(pid)


def alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    return _process(pid) is not None


def start_time(pid: int) -> Optional[float]:
    """When process ``pid`` started (Unix time, as psutil reads it), or None when no such live process."""
    process = _process(pid)
    if process is None:
        return None
    try:
        return process.create_time()
    except (*_GONE, psutil.AccessDenied):
        return None


def same_process(pid: int, started: Optional[float]) -> bool:
    """True when ``pid`` still runs *and* is the process that started at ``started`` (a reused pid
    has another start time). ``started`` None (the process was already gone when recorded) is False."""
    if started is None:
        return False
    now = start_time(pid)
    return now is not None and abs(now - float(started)) < 0.05


def cmdline(pid: int) -> List[str]:
    """The argv of ``pid`` (empty when gone or unreadable)."""
    process = _process(pid)
    if process is None:
        return []
    try:
        return list(process.cmdline())
    except (*_GONE, psutil.AccessDenied):
        return []


def descendants(pid: int) -> List[int]:
    """Every live descendant of ``pid`` (children, grandchildren, ...)."""
    process = _process(pid)
    if process is None:
        return []
    try:
        return [child.pid for child in process.children(recursive=True) if alive(child.pid)]
    except (*_GONE, psutil.AccessDenied):
        return []


def state(pid: int) -> Optional[str]:
    """psutil's status of ``pid`` (``running``, ``sleeping``, ``stopped``, ``disk-sleep``...), None when gone."""
    process = _process(pid)
    if process is None:
        return None
    try:
        return str(process.status())
    except (*_GONE, psutil.AccessDenied):
        return None


def rss_bytes(pid: int) -> Optional[int]:
    """Resident memory of ``pid`` in bytes, None when gone."""
    process = _process(pid)
    if process is None:
        return None
    try:
        return int(process.memory_info().rss)
    except (*_GONE, psutil.AccessDenied):
        return None


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU seconds used by ``pid`` so far, None when gone."""
    process = _process(pid)
    if process is None:
        return None
    try:
        times = process.cpu_times()
        return float(times.user + times.system)
    except (*_GONE, psutil.AccessDenied):
        return None


def netns_path(pid: Optional[int] = None) -> str:
    """The path naming the network namespace of ``pid`` (ours when None), for ``nsenter --net=``."""
    return f"/proc/{int(pid)}/ns/net" if pid else "/proc/self/ns/net"


def has_netns(pid: int) -> bool:
    """True while ``pid``'s network namespace can still be entered (the process lives)."""
    return os.path.exists(netns_path(pid))


def net_interfaces(pid: Optional[int] = None) -> List[str]:
    """The network interfaces of ``pid``'s namespace (ours when None), from its ``net/dev`` table."""
    path = f"/proc/{int(pid)}/net/dev" if pid else "/proc/self/net/dev"
    with open(path, encoding="utf-8") as handle:
        return [line.split(":", 1)[0].strip() for line in handle.readlines()[2:] if ":" in line]


def group_members(pgid: int, since: Optional[float] = None, name: Optional[str] = None) -> List[int]:
    """The live processes whose process group is ``pgid`` (the leader excluded), that started at or after
    ``since`` (Unix time) and, when ``name`` is given, run that program: what is left of a group we
    started, never another's."""
    out = []
    for process in psutil.process_iter(["pid", "name", "create_time", "status"]):
        try:
            info = process.info
            if info["pid"] == pgid or info["status"] in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                continue
            if since is not None and float(info["create_time"]) < float(since) - 0.05:
                continue
            if name is not None and info["name"] != name:
                continue
            if os.getpgid(info["pid"]) == pgid:
                out.append(int(info["pid"]))
        except (*_GONE, psutil.AccessDenied, ProcessLookupError):
            continue
    return out


def proc_file(pid: Optional[int], name: str, root: str = "/") -> str:
    """The path of ``/proc/<pid>/<name>`` (``self`` when ``pid`` is None) under ``root`` (a test's fake tree)."""
    return os.path.join(root, "proc", str(int(pid)) if pid else "self", name)
