"""The timeline sampler: a background thread that observes the target many times a second.

Each observation becomes a ``sample`` line in ``<prefix>.timeline.jsonl`` (format in
docs/internals.md), streamed to disk as it is taken; memory holds only a ring buffer, so a
long drill costs no more than a short one. Fault and restore events from the actions are
written into the same file by :func:`chaosaitrapp.evidence.recorder.record_event`.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterable, Optional

from chaosaitrapp.redact import redact
from chaosaitrapp.trader.client import TraderClient


class Sampler:
    """Samples ``observe()`` every ``interval`` seconds into ``path`` until :meth:`stop`."""

    def __init__(
        self,
        path: Path,
        observe: Callable[[], Dict[str, Any]],
        *,
        interval: float = 0.05,
        meta: Optional[Dict[str, Any]] = None,
        secrets: Iterable[str] = (),
        keep: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.observe = observe
        self.interval = interval
        self.secrets = list(secrets)
        self.clock = clock
        self.recent: Deque[Dict[str, Any]] = deque(maxlen=keep)
        self.count = 0
        self.errors = 0
        self.started_mono = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._file = open(path, "w", encoding="utf-8")
        self.write({"kind": "meta", "started_wall": time.time(), "interval": interval, **(meta or {})})
        self._thread = threading.Thread(target=self._loop, name="aitrapp-sampler", daemon=True)

    def start(self) -> "Sampler":
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def write(self, record: Dict[str, Any]) -> None:
        """Append one record (redacted) to the timeline file."""
        line = json.dumps(redact(record, self.secrets), separators=(",", ":"), default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def _loop(self) -> None:
        next_at = self.clock()
        while not self._stop.is_set():
            self._sample()
            next_at += self.interval
            delay = next_at - self.clock()
            if delay < 0:  # observation slower than the interval: don't try to catch up
                next_at = self.clock()
                delay = 0
            self._stop.wait(delay)

    def _sample(self) -> None:
        t = self.clock() - self.started_mono
        try:
            sample = self.observe()
        except Exception as exc:  # an observer bug must not kill the timeline
            sample = {"error": f"{type(exc).__name__}: {exc}"}
        record = {"kind": "sample", "t": round(t, 4), "wall": time.time(), **sample}
        self.count += 1
        if record.get("error"):
            self.errors += 1
        self.recent.append(record)
        self.write(record)

    def stop(self, timeout: float = 5.0) -> Dict[str, Any]:
        """Stop sampling, close the file, and return ``{"samples", "errors", "duration_s", "rate_hz"}``."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sample()  # a closing sample: the timeline always ends after everything the drill did
        duration = self.clock() - self.started_mono
        summary = {"samples": self.count, "errors": self.errors, "duration_s": round(duration, 3),
                   "rate_hz": round(self.count / duration, 2) if duration > 0 else 0.0}
        self.write({"kind": "end", "t": round(duration, 4), "wall": time.time(), **summary})
        with self._lock:
            self._file.close()
        return summary


def target_observer(client: TraderClient) -> Callable[[], Dict[str, Any]]:
    """An ``observe`` callable for :class:`Sampler` using its own HTTP session (thread-safe)."""
    from dataclasses import replace

    import requests

    from chaosaitrapp.evidence.observe import observe

    # short timeouts: a slow answer must show as a late sample, not a hole longer than the checkers' max gap
    private = TraderClient(replace(client.settings, http_timeout=min(0.5, client.settings.http_timeout)))
    private.session = requests.Session()
    private.session.headers.update(client.session.headers)
    return lambda: observe(private)
