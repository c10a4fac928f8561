"""Postgres out of space as a fault the ledger can undo: :class:`BalloonDriver` (ledger driver ``balloon``).

A balloon file of the drill's own fills the filesystem of the volume the user names as Postgres' data volume
(``postgres_volume``; the file goes in ``disk_path``, inside it): space is allocated up to the last block
(``posix_fallocate``, then small writes until ``ENOSPC``), so Postgres' next write that needs a new page or
a new file fails with ``could not extend file ... No space left on device`` (SQLSTATE 53100) while it stays
up, keeps its connections and answers reads. Undoing it is deleting the file, which any process can do at any
time (the end of the fault, rollback, watchdog, ``aitrapp-chaos cleanup``).

Where a balloon may go is checked before anything is written (:func:`balloon_path`): only inside the named
volume and on its filesystem; never on the filesystem of ``/``, of the fault ledger or of the evidence (a
full disk there would stop the host, the undo or the report), and never more than :data:`MAX_BALLOON_BYTES`.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError

#: The largest balloon a drill may make (bytes): a volume with more free space is refused (give Postgres a
#: small volume of its own for the drill).
MAX_BALLOON_BYTES = 8 * 1024 ** 3
#: The balloon's file name (one per run: the run id follows).
PREFIX = ".chaosaitrapp-balloon-"
#: After ``posix_fallocate``, the top-up writes this much at a time, at most :data:`TOP_UP_WRITES` times.
TOP_UP_CHUNK = 64 * 1024
TOP_UP_WRITES = 16384


def _device(path: Path) -> int:
    return os.stat(path).st_dev


def balloon_path(volume: str, disk_path: Optional[str], run_id: str, guarded: Iterable[Path]) -> Path:
    """Where the balloon of run ``run_id`` goes: ``<disk_path or volume>/.chaosaitrapp-balloon-<run id>``.
    ConfigError naming the value when the volume is not an existing directory, ``disk_path`` lies outside it
    or on another filesystem, the volume shares its filesystem with ``/`` or any of the ``guarded`` paths
    (the ledger's, the evidence's), or it has more than :data:`MAX_BALLOON_BYTES` free."""
    root = Path(volume).expanduser()
    if not root.is_dir():
        raise ConfigError(f"postgres volume {volume!r} is not an existing directory: name the directory Postgres' "
                          "data volume is mounted at (POSTGRES_VOLUME)", key="postgres_volume")
    root = root.resolve()
    place = Path(disk_path).expanduser() if disk_path else root
    if not place.is_dir():
        raise ConfigError(f"disk path {disk_path!r} is not an existing directory", key="disk_path")
    place = place.resolve()
    if place != root and root not in place.parents:
        raise ConfigError(f"disk path {place} is outside the named volume {root}: the balloon goes only inside "
                          "POSTGRES_VOLUME", key="disk_path")
    if _device(place) != _device(root):
        raise ConfigError(f"disk path {place} is on another filesystem than the volume {root} (a mount inside "
                          "it): the balloon would fill the wrong disk", key="disk_path")
    for other in [Path("/"), *guarded]:
        probe = other
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent  # a directory not made yet lives on its nearest existing parent's filesystem
        if _device(probe) == _device(root):
            raise ConfigError(f"postgres volume {root} is on the same filesystem as {other}: filling it would fill "
                              "the disk the host, the fault ledger or the evidence need; give Postgres a volume of "
                              "its own for this drill", key="postgres_volume")
    free = free_bytes(root)
    if free > MAX_BALLOON_BYTES:
        raise ConfigError(f"postgres volume {root} has {free / 1024 ** 3:.1f} GiB free, more than the "
                          f"{MAX_BALLOON_BYTES / 1024 ** 3:.0f} GiB a drill fills: give Postgres a smaller volume "
                          "for this drill", key="postgres_volume")
    return place / f"{PREFIX}{run_id}"


def free_bytes(path: Path) -> int:
    """The bytes still free on ``path``'s filesystem (blocks free to the superuser: what a balloon made as
    root can take)."""
    stats = os.statvfs(path)
    return stats.f_bfree * stats.f_frsize


class BalloonDriver:
    """Fills the filesystem of ``path`` with the file ``path`` (``stop``) and deletes it (``start``)."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self.filled: Optional[int] = None
        self.until_wall: Optional[float] = None  # when the drill means to delete it (Unix time; not in the recipe)

    def describe(self) -> str:
        """``balloon:<path>``."""
        return f"balloon:{self.path}"

    def is_running(self) -> bool:
        """True when there is no balloon (the disk has its space)."""
        return not os.path.lexists(self.path)

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Make the balloon: allocate every free block of the filesystem to a new file (none may exist), then
        top it up with small writes until the filesystem says it is full. TargetError when the file cannot be
        made (it is removed again)."""
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise TargetError(f"{self.describe()}: cannot create the balloon: {exc.strerror or exc}",
                              target=self.describe()) from None
        try:
            size = free_bytes(Path(self.path).parent)
            try:
                if size:
                    os.posix_fallocate(fd, 0, size)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
            os.lseek(fd, 0, os.SEEK_END)
            chunk = b"\0" * TOP_UP_CHUNK
            for _ in range(TOP_UP_WRITES):
                try:
                    os.write(fd, chunk if len(chunk) > 1 else b"\0")
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if len(chunk) == 1:
                        break
                    chunk = chunk[:max(1, len(chunk) // 16)]
            self.filled = os.fstat(fd).st_blocks * 512
        except OSError as exc:
            os.close(fd)
            os.unlink(self.path)
            raise TargetError(f"{self.describe()}: cannot fill the disk: {exc.strerror or exc}",
                              target=self.describe()) from None
        os.close(fd)

    def start(self, timeout: float = 10.0) -> None:
        """Delete the balloon (idempotent). TargetError when it cannot be deleted."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise TargetError(f"{self.describe()}: cannot delete the balloon: {exc.strerror or exc}",
                              target=self.describe()) from None

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe."""
        return {"driver": ref_of(BalloonDriver), "path": self.path}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "BalloonDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup); TargetError for a recipe whose path is
        not a balloon's (the watchdog deletes nothing else)."""
        path = str(undo.get("path") or "")
        if not Path(path).name.startswith(PREFIX):
            raise TargetError(f"balloon: the recipe names {path!r}, which is not a balloon file", target="balloon")
        return cls(path)
