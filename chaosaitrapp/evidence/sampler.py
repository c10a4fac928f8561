"""The timeline sampler: observes the target many times a second, whatever its latency.

Every ``interval`` a sample is started on a pool of ``max_in_flight`` workers; a sample whose
answers take longer than the interval overlaps the next one instead of delaying it, so a target
that answers in 100 ms is still sampled 20 times a second (with :class:`ParallelObserver`, the
four reads of one sample also run at once). A tick that finds every worker busy is skipped and
counted (``dropped``). Each observation becomes a ``sample`` line in ``<prefix>.timeline.jsonl``
(format in docs/internals.md), streamed to disk as it completes (lines are in completion order; the
timeline loader sorts them by ``t``, the instant the sample began); memory holds only a ring
buffer, so a long drill costs no more than a short one. Fault and restore events from the actions
are written into the same file by :func:`chaosaitrapp.evidence.recorder.record_event`.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Sequence, Tuple

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.evidence.observe import ParallelObserver
from chaosaitrapp.scrub import scrub_data

#: Samples that may be in flight at once: at a 50 ms interval, answers up to ~150 ms keep the pace.
MAX_IN_FLIGHT = 4


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
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.path = path
        self.observe = observe
        self.interval = interval
        self.secrets = list(secrets)
        self.clock = clock
        self.recent: Deque[Dict[str, Any]] = deque(maxlen=keep)
        self.count = 0
        self.errors = 0
        self.dropped = 0
        self.max_in_flight = max(1, int(max_in_flight))
        self.started_mono = clock()
        self.started_wall = time.time()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stop = threading.Event()
        self._file = open(path, "w", encoding="utf-8")
        self._pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="aitrapp-sample")
        self.write({"kind": "meta", "started_wall": self.started_wall, "interval": interval,
                    "max_in_flight": self.max_in_flight, **(meta or {})})
        self._thread = threading.Thread(target=self._loop, name="aitrapp-sampler", daemon=True)

    def start(self) -> "Sampler":
        """Start sampling; returns self."""
        self._thread.start()
        return self

    def write(self, record: Dict[str, Any]) -> None:
        """Append one record (scrubbed of secrets) to the timeline file."""
        line = json.dumps(scrub_data(record, self.secrets), separators=(",", ":"), default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def _loop(self) -> None:
        next_at = self.clock()
        while not self._stop.is_set():
            with self._lock:
                free = self._in_flight < self.max_in_flight
                if free:
                    self._in_flight += 1
                else:
                    self.dropped += 1
            if free:
                self._pool.submit(self._sample_and_release)
            next_at += self.interval
            delay = next_at - self.clock()
            if delay < 0:  # the loop itself fell behind (a starved process): don't try to catch up
                next_at = self.clock()
                delay = 0
            self._stop.wait(delay)

    def _sample_and_release(self) -> None:
        try:
            self._sample()
        finally:
            with self._lock:
                self._in_flight -= 1

    def _sample(self) -> None:
        t = self.clock() - self.started_mono
        wall = time.time()
        try:
            sample = self.observe()
        except Exception as exc:  # an observer bug must not kill the timeline
            sample = {"error": f"{type(exc).__name__}: {exc}"}
        record = {"kind": "sample", "t": round(t, 4), "wall": wall, **sample}
        with self._lock:
            self.count += 1
            if record.get("error"):
                self.errors += 1
        self.recent.append(record)
        self.write(record)

    def append(self, records: Iterable[Dict[str, Any]]) -> int:
        """Append ``records`` (scrubbed) to the timeline file after :meth:`stop` (evidence gathered at the
        end, e.g. the broker proxy's history); how many were written."""
        count = 0
        with open(self.path, "a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(scrub_data(record, self.secrets), separators=(",", ":"), default=str) + "\n")
                count += 1
        return count

    def stop(self, timeout: float = 5.0) -> Dict[str, Any]:
        """Stop sampling, take a closing sample (begun now, beside the samples in flight: the timeline
        always ends after everything the drill did), wait for them all, close the file; returns
        ``{"samples", "errors", "dropped", "duration_s", "rate_hz"}``."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        closing = threading.Thread(target=self._sample, name="aitrapp-sample-closing", daemon=True)
        closing.start()  # not on the pool: every worker may be busy
        self._pool.shutdown(wait=True)
        closing.join()
        close = getattr(self.observe, "close", None)
        if callable(close):
            close()
        duration = self.clock() - self.started_mono
        summary = {"samples": self.count, "errors": self.errors, "dropped": self.dropped,
                   "duration_s": round(duration, 3),
                   "rate_hz": round(self.count / duration, 2) if duration > 0 else 0.0}
        self.write({"kind": "end", "t": round(duration, 4), "wall": time.time(), **summary})
        with self._lock:
            self._file.close()
        return summary


@dataclass
class SamplerPlan:
    """What the timeline sampler of one drill reads: the API ``client`` it samples (named ``name`` among the
    replicas), the ``others`` whose leader gauges each sample reads too (``(name, api)``), ``extra`` parts
    beside the reads, and ``meta`` added to the timeline's meta record. A fault family adjusts it for its
    drills (:attr:`chaosaitrapp.declare.Family.sampler`)."""

    client: TraderClient
    name: str = "r0"
    others: List[Tuple[str, str]] = field(default_factory=list)
    extra: List[Callable[..., None]] = field(default_factory=list)
    meta: Dict[str, Any] = field(default_factory=dict)

    def observer(self, max_in_flight: int = MAX_IN_FLIGHT) -> ParallelObserver:
        """The sampler's observer for this plan (:func:`target_observer`)."""
        return target_observer(self.client, max_in_flight, replicas=self.others, name=self.name, extra=self.extra)


def target_observer(client: TraderClient, max_in_flight: int = MAX_IN_FLIGHT,
                    replicas: Sequence[Tuple[str, str]] = (), name: str = "r0",
                    extra: Sequence[Callable[..., None]] = ()) -> ParallelObserver:
    """The sampler's observer for the API ``client`` talks to: parallel reads, short timeouts
    (a slow answer must show as a late sample, not a hole longer than the checkers' max gap); with
    ``replicas`` (``(name, api)`` of the others), every replica's leader gauge too (``name``: the sampled one's);
    ``extra`` parts beside the reads (:class:`ParallelObserver`)."""
    return ParallelObserver(client, timeout=0.5, max_in_flight=max_in_flight, replicas=replicas, name=name,
                            extra=extra)
