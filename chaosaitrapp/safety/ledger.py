"""The durable fault ledger: every injected fault is written down BEFORE it is injected.

A drill that stops a dependency first calls :meth:`Ledger.record` (the entry is on disk,
fsynced, when it returns), then injects the fault, and calls :meth:`Ledger.clear` once the
dependency is restored. Whatever survives in the ledger is a fault nobody has undone yet: the
watchdog (:mod:`chaosaitrapp.safety.watchdog`) undoes it when the ``chaos`` process dies or the
entry's lease runs out, and ``aitrapp-chaos cleanup`` (:mod:`chaosaitrapp.safety.cleanup`)
undoes whatever is left.

Exceptions::

    ChaosAitrappError (chaosaitrapp.errors)
    └── LedgerError          the ledger could not be read, written or locked (names the path)
        └── LedgerCorrupt    the ledger file is not a ledger (never silently emptied)

``ValueError`` is raised by :meth:`Ledger.record` when the undo recipe, target or note looks
like it holds a secret (a key named like ``password``/``token``/``api_key``, a URL with a
password): the ledger is a plain file and must never hold one.

File format (``$AITRAPP_CHAOS_STATE/ledger.json``)::

    {"version": 1, "entries": [{"id": "...", "what": "stop", "target": "lab:redis",
      "undo": {"driver": "process", ...}, "created_wall": 1764070000.1, "run_id": "...",
      "run_pid": 4242, "run_start": 1764069990.3, "lease_seconds": 300.0,
      "lease_expires_wall": 1764070300.1, "note": ""}, ...]}

Concurrency and durability: every change happens under an exclusive ``fcntl.flock`` on
``<ledger>.lock`` (a read-modify-write, so concurrent processes never lose an entry), and is
written to a temporary file in the same directory, fsynced, ``os.replace``d over the ledger,
and the directory fsynced. Readers need no lock: they always see a whole file, old or new.
A second lock file, ``<ledger>.undo.lock`` (:meth:`Ledger.undo_lock`), serialises the undoing
of entries between the cleanup command and watchdogs so a dependency is never started twice.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

from chaosaitrapp import procs
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.scrub import SECRET_NAME, URL_PASSWORD
from chaosaitrapp.waiting import wait_until

__all__ = [
    "FaultEntry",
    "Ledger",
    "LedgerError",
    "LedgerCorrupt",
    "DEFAULT_LEASE_SECONDS",
    "find_secret_keys",
]

LEDGER_VERSION = 1
DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_LOCK_TIMEOUT = 30.0
_LOCK_POLL = 0.01


class LedgerError(ChaosAitrappError):
    """The fault ledger could not be read, written or locked; the message names the file."""


class LedgerCorrupt(LedgerError):
    """The ledger file exists but is not a valid ledger. Nothing is dropped: fix or move it."""


@dataclass(frozen=True)
class FaultEntry:
    """One injected fault that has not been undone yet.

    ``id``: unique (uuid4 hex). ``what``: the fault, e.g. ``"stop"``. ``target``: the target
    string, e.g. ``"lab:redis"``. ``undo``: the driver's ``undo()`` recipe, from which
    :func:`chaosaitrapp.registry.driver_from_undo` rebuilds the driver in any process.
    ``created_wall``: Unix time of recording. ``run_id``/``run_pid``: the drill run and the
    process that injected the fault; ``run_start``: when that process started (pid reuse is told
    apart by it; None in entries written before it was recorded). ``lease_seconds``/``lease_expires_wall``: after the lease
    expires the fault may be undone even though the run still lives. ``note``: free text.
    """

    id: str
    what: str
    target: str
    undo: dict
    created_wall: float
    run_id: str
    run_pid: int
    lease_seconds: float
    lease_expires_wall: float
    note: str = ""
    run_start: Optional[float] = None

    def expired(self, now: float) -> bool:
        """Whether the lease has run out at Unix time ``now``."""
        return now >= self.lease_expires_wall

    def run_alive(self) -> bool:
        """Whether the process that injected the fault still runs (the same process: same pid and,
        when recorded, the same start time)."""
        if self.run_start is None:
            return procs.alive(self.run_pid)
        return procs.same_process(self.run_pid, self.run_start)

    def stale(self, now: float) -> Optional[str]:
        """Why nobody will undo this fault in time by itself (its lease ran out, or its run is gone),
        or None while its run lives within the lease: a live drill's fault, not ours to undo."""
        if self.expired(now):
            return f"its lease ran out {now - self.lease_expires_wall:.0f} s ago"
        if not self.run_alive():
            return f"its run (pid {self.run_pid}) is gone"
        return None

    def to_dict(self) -> dict:
        """The JSON object stored in the ledger file."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> "FaultEntry":
        """Parse one stored entry; raises ``ValueError`` naming what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError(f"entry is {type(raw).__name__}, expected an object")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in raw and n not in ("note", "run_start")]
        if missing:
            raise ValueError(f"entry {raw.get('id', '?')!r} lacks {', '.join(missing)}")
        values = {n: raw[n] for n in names if n in raw}
        checks = {
            "id": str, "what": str, "target": str, "undo": dict, "run_id": str,
            "run_pid": int, "note": str,
        }
        for name, typ in checks.items():
            if name in values and not isinstance(values[name], typ):
                raise ValueError(f"entry {raw.get('id', '?')!r}: {name} is not {typ.__name__}")
        if values.get("run_start") is not None:
            if isinstance(values["run_start"], bool) or not isinstance(values["run_start"], (int, float)):
                raise ValueError(f"entry {raw.get('id', '?')!r}: run_start is not a number")
            values["run_start"] = float(values["run_start"])
        for name in ("created_wall", "lease_seconds", "lease_expires_wall"):
            if isinstance(values[name], bool) or not isinstance(values[name], (int, float)):
                raise ValueError(f"entry {raw.get('id', '?')!r}: {name} is not a number")
            values[name] = float(values[name])
        return cls(**values)


_SECRET_KEY = SECRET_NAME


def find_secret_keys(value: Any, where: str = "") -> List[str]:
    """Where in ``value`` a secret seems to hide, as paths like ``undo.env.API_KEY``.

    Flags dict keys named like a secret (password, passwd, token, secret, api_key, ...),
    command-line flags so named (``--requirepass``, ``--password=x``) in lists, and URLs
    carrying a password (``redis://:pw@host``). Never returns the values themselves.
    """
    found: List[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if _SECRET_KEY.search(str(key)):
                found.append(path)
            found.extend(find_secret_keys(item, path))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            path = f"{where}[{index}]"
            if isinstance(item, str) and item.startswith("-") and _SECRET_KEY.search(item.split("=", 1)[0]):
                found.append(path)
            else:
                found.extend(find_secret_keys(item, path))
    elif isinstance(value, str):
        if URL_PASSWORD.search(value):
            found.append(where or "<value>")
    return found


class Ledger:
    """The fault ledger stored at ``path`` (see the module docstring for format and locking).

    ``Ledger(chaosaitrapp.paths.ledger_path())`` is the machine-wide ledger. The directory is
    created on the first :meth:`record`. ``lock_timeout`` bounds every wait for the lock
    (:class:`LedgerError` beyond it).
    """

    def __init__(self, path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.undo_lock_path = self.path.with_name(self.path.name + ".undo.lock")
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # ---- reading -------------------------------------------------------------------

    def outstanding(self) -> List[FaultEntry]:
        """Every entry not yet cleared, oldest first. Raises :class:`LedgerCorrupt`."""
        return sorted(self._load(), key=lambda e: (e.created_wall, e.id))

    def get(self, entry_id: str) -> Optional[FaultEntry]:
        """The outstanding entry ``entry_id``, or ``None`` once it is cleared (or never was)."""
        for entry in self._load():
            if entry.id == entry_id:
                return entry
        return None

    # ---- writing -------------------------------------------------------------------

    def record(
        self,
        what: str,
        target: str,
        undo: dict,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        run_id: str = "",
        run_pid: Optional[int] = None,
        note: str = "",
        entry_id: Optional[str] = None,
        now: Callable[[], float] = time.time,
    ) -> FaultEntry:
        """Write a new entry durably (fsynced) and return it; call BEFORE injecting the fault.

        ``undo`` is the driver's ``undo()`` dict and must carry ``"driver"``; ``run_pid``
        defaults to this process; ``entry_id`` (default: a new uuid4 hex) lets a watchdog started
        before the entry is written know which entry is its own. Raises ``ValueError`` for a non-positive lease, an undo
        that is not JSON-serialisable or lacks ``driver``, or anything that looks secret
        (see :func:`find_secret_keys`), and :class:`LedgerError` when the file cannot be
        locked or written.
        """
        if not isinstance(undo, dict) or not isinstance(undo.get("driver"), str):
            raise ValueError(f"undo recipe for {target} must be a dict with a 'driver' key")
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds must be > 0, got {lease_seconds!r}")
        suspicious = find_secret_keys({"undo": undo, "target": target, "note": note})
        if suspicious:
            raise ValueError(
                f"refusing to record a fault on {target}: the ledger must hold no secret, "
                f"but these look secret: {', '.join(suspicious)}"
            )
        try:
            undo_copy = json.loads(json.dumps(undo))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"undo recipe for {target} is not JSON-serialisable: {exc}") from None
        created = float(now())
        entry = FaultEntry(
            id=entry_id or uuid.uuid4().hex,
            what=what,
            target=target,
            undo=undo_copy,
            created_wall=created,
            run_id=run_id,
            run_pid=os.getpid() if run_pid is None else int(run_pid),
            run_start=procs.start_time(os.getpid() if run_pid is None else int(run_pid)),
            lease_seconds=float(lease_seconds),
            lease_expires_wall=created + float(lease_seconds),
            note=note,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(self.lock_path):
            entries = self._load()
            entries.append(entry)
            self._write(entries)
        return entry

    def clear(self, entry_id: str) -> bool:
        """Remove entry ``entry_id`` durably; ``True`` if it was outstanding, ``False`` if not."""
        if not self.path.exists():
            return False
        with self._lock(self.lock_path):
            entries = self._load()
            kept = [e for e in entries if e.id != entry_id]
            if len(kept) == len(entries):
                return False
            self._write(kept)
        return True

    @contextlib.contextmanager
    def undo_lock(self, timeout: Optional[float] = None) -> Iterator[None]:
        """Hold the ledger's undo lock: whoever undoes an entry holds it from the moment it
        re-reads the entry until the entry is cleared, so two undoers never start the same
        dependency at once. Waits at most ``timeout`` (default ``lock_timeout``) seconds.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(self.undo_lock_path, timeout):
            yield

    # ---- internals -----------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, lock_path: Path, timeout: Optional[float] = None) -> Iterator[None]:
        wait = self.lock_timeout if timeout is None else timeout
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise LedgerError(f"cannot open lock file {lock_path}: {exc.strerror}", path=str(lock_path)) from None
        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise LedgerError(f"cannot lock {lock_path}: {exc.strerror}", path=str(lock_path)) from None
                return False

        try:
            taken = wait_until(take, bool, timeout=wait, interval=_LOCK_POLL, what=f"the lock {lock_path}",
                               tolerate=())
            if not taken.held:
                raise LedgerError(f"could not lock {lock_path} within {wait:g} s: another process holds it",
                                  path=str(lock_path))
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _load(self) -> List[FaultEntry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read fault ledger {self.path}: {exc}", path=str(self.path)) from None
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise LedgerCorrupt(
                f"fault ledger {self.path} is corrupt (not JSON: {exc}); its entries may be faults "
                f"still injected: inspect it, undo them by hand, then move the file away",
                path=str(self.path),
            ) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
            raise LedgerCorrupt(
                f"fault ledger {self.path} is corrupt: expected an object with an 'entries' list",
                path=str(self.path),
            )
        if raw.get("version") != LEDGER_VERSION:
            raise LedgerCorrupt(
                f"fault ledger {self.path} has version {raw.get('version')!r}, expected {LEDGER_VERSION}",
                path=str(self.path),
            )
        entries = []
        for index, item in enumerate(raw["entries"]):
            try:
                entries.append(FaultEntry.from_dict(item))
            except (TypeError, ValueError) as exc:
                raise LedgerCorrupt(
                    f"fault ledger {self.path} is corrupt at entries[{index}]: {exc}",
                    path=str(self.path),
                ) from None
        return entries

    def _write(self, entries: List[FaultEntry]) -> None:
        data = json.dumps(
            {"version": LEDGER_VERSION, "entries": [e.to_dict() for e in entries]},
            indent=1,
            sort_keys=True,
        ).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise LedgerError(f"cannot write fault ledger {self.path}: {exc}", path=str(self.path)) from None
        with contextlib.suppress(OSError):
            dfd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
