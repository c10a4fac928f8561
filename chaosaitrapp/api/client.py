"""HTTP access to the AITRAPP API: one requests session, timeouts, the optional API key.

Every failure becomes an :class:`~chaosaitrapp.errors.ApiError` that names the endpoint and
what went wrong (unreachable, 401, non-JSON body), never the key.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

import requests

from chaosaitrapp.config import Settings, api_key, settings_from
from chaosaitrapp.errors import ApiError, GuardRefused

_SESSIONS: Dict[Tuple[str, Optional[str]], requests.Session] = {}
#: This thread's current reading (:func:`take_reading`): ``answers`` ``{(base, path): response or the ApiError it
#: gave}``, ``served`` (the keys the current activity was answered from it), ``taken`` (monotonic, when the
#: answers were in), ``took_ms``; ``armed`` (:func:`arm_reading`).
_READING = threading.local()
#: A reading older than this is not current, whatever happened since (time alone changes a target).
READING_MAX_AGE_S = 1.0


def _session(base: str, key: Optional[str]) -> requests.Session:
    cached = _SESSIONS.get((base, key))
    if cached is None:
        cached = requests.Session()
        cached.headers["User-Agent"] = "chaosaitrapp"
        if key:
            cached.headers["X-API-Key"] = key
        _SESSIONS[(base, key)] = cached
    return cached


class TraderClient:
    """Calls to one AITRAPP API. Refuses a host outside ``settings.allowed_hosts``."""

    def __init__(self, settings: Settings, key: Optional[str] = None) -> None:
        if settings.api_host not in settings.allowed_hosts and "*" not in settings.allowed_hosts:
            raise GuardRefused(
                f"API host {settings.api_host!r} is not in the allowed hosts {settings.allowed_hosts}; "
                "set AITRAPP_ALLOWED_HOSTS to run drills against it",
                host=settings.api_host,
            )
        self.settings = settings
        self.base = settings.api
        self.timeout = settings.http_timeout
        self.session = _session(self.base, key)

    def fork(self, **changes: Any) -> "TraderClient":
        """A client for the same API with a session of its own (for another thread: sessions are not
        thread-safe), the same headers (API key included), and ``changes`` applied to its settings."""
        twin = TraderClient(replace(self.settings, **changes))
        twin.session = requests.Session()
        twin.session.headers.update(self.session.headers)
        return twin

    @classmethod
    def from_configuration(cls, configuration: Optional[Mapping[str, Any]] = None,
                           secrets: Optional[Mapping[str, Any]] = None) -> "TraderClient":
        """A client for the API the experiment's configuration names."""
        return cls(settings_from(configuration), api_key(secrets))

    def request(self, method: str, path: str, *, expect: Tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response:
        """Send a request; ApiError unless the status is in ``expect``. The first plain GET of a path in this
        thread's current reading, in each activity (:func:`take_reading`), is answered from that reading, judged
        the same way; any other request goes to the API, and the reading is then no longer current."""
        url = self.base + path
        answers = _current()
        armed = getattr(_READING, "armed", None)
        if answers is None and armed is not None and method == "GET" and not kwargs and armed[0] == self.base \
                and path in armed[1]:
            _READING.armed = None
            take_reading(self, armed[1])  # this first read of the activity, with the others at once
            answers = _current()
        if answers is not None:
            key: Tuple[str, str] = (self.base, path)
            if method == "GET" and not kwargs and key in answers and key not in _READING.served:
                _READING.served.add(key)
                answer = answers[key]
                if isinstance(answer, ApiError):
                    raise answer
                return self._judge(method, url, answer, expect)
            forget_reading()  # this request is newer knowledge of the target than the reading
        return self._judge(method, url, self._send(method, url, **kwargs), expect)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise ApiError(f"{method} {url}: no answer within {self.timeout:.1f}s", url=url)
        except requests.ConnectionError as exc:
            reason = type(exc.args[0]).__name__ if exc.args else "connection error"
            raise ApiError(f"{method} {url}: API unreachable ({reason}); is the service running at {self.base}?",
                           url=url)

    @staticmethod
    def _judge(method: str, url: str, response: requests.Response, expect: Tuple[int, ...]) -> requests.Response:
        if response.status_code == 401:
            raise ApiError(f"{method} {url}: 401 unauthorized: the API wants a valid X-API-Key "
                           "(set API_KEY)", url=url, status=401, fatal=True)
        if response.status_code not in expect:
            raise ApiError(f"{method} {url}: expected HTTP {'/'.join(map(str, expect))}, got "
                           f"{response.status_code}: {response.text[:200]!r}", url=url, status=response.status_code)
        return response

    def json(self, method: str, path: str, *, expect: Tuple[int, ...] = (200,), **kwargs: Any) -> Tuple[int, Any]:
        """Status code and decoded JSON body; ApiError on a non-JSON body."""
        response = self.request(method, path, expect=expect, **kwargs)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ApiError(f"{method} {self.base + path}: expected a JSON body, got {response.text[:120]!r}",
                           url=self.base + path)

    def text(self, path: str) -> str:
        """GET ``path`` and return the body text (for ``/metrics``)."""
        return self.request("GET", path).text


def take_reading(client: TraderClient, paths: Iterable[str]) -> Dict[str, Union[int, str]]:
    """Read ``paths`` of ``client``'s API all at once (one GET each, in parallel): this thread's current reading.

    Until it is no longer current, each activity's first plain GET of one of those paths, by any client of that
    API in this thread, is answered from the reading (an unreachable API raises the same ApiError). It stops being
    current when an action begins (:func:`begin_activity`), when this thread sends any request to the API (that
    answer is newer knowledge of the target), or after :data:`READING_MAX_AGE_S`. So a steady state whose
    probes read /ready, /metrics, /state and /health one after another is judged on one reading taken at one instant, in the time of the slowest answer;
    and probes that follow one another with no action between them, each satisfied by the first read (a
    snapshot after the steady state, the checks after a recovery), share one reading. Other threads (the
    timeline's sampler) never see it. Returns ``{path: status code or the error}``."""
    wanted = list(dict.fromkeys(paths))

    def read(path: str) -> Union[requests.Response, ApiError]:
        twin = client.fork()
        try:
            return twin._send("GET", client.base + path)
        except ApiError as exc:
            return exc
        finally:
            twin.session.close()

    started = time.monotonic()
    forget_reading()
    with ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="aitrapp-reading") as pool:
        answers = dict(zip(wanted, pool.map(read, wanted)))
    _READING.answers = {(client.base, path): answer for path, answer in answers.items()}
    _READING.served = set()
    _READING.taken = time.monotonic()
    _READING.took_ms = round((_READING.taken - started) * 1000, 2)
    return {path: (str(a) if isinstance(a, ApiError) else a.status_code) for path, a in answers.items()}


def reading_covers(client: TraderClient, paths: Iterable[str]) -> bool:
    """Whether this thread's current reading (:func:`take_reading`) has every one of ``paths`` of ``client``'s
    API, none of them served yet in this activity."""
    answers = _current()
    return answers is not None and all((client.base, p) in answers and (client.base, p) not in _READING.served
                                       for p in paths)


def reading_took_ms() -> Optional[float]:
    """How long this thread's current reading took (its slowest answer), in ms; None without one."""
    return _READING.took_ms if _current() is not None else None


def arm_reading(client: TraderClient, paths: Iterable[str]) -> None:
    """Let this activity's first plain GET of one of ``paths`` of ``client``'s API, when no reading is current,
    take a reading of them all (:func:`take_reading`) and be answered from it: in the time of that one read. An
    activity that never reads that API (a frozen replica's, say) takes none."""
    _READING.armed = (client.base, tuple(paths))


def begin_activity(action: bool) -> None:
    """A new activity begins in this thread: nothing of the current reading is served in it yet, nor is a
    reading armed (:func:`arm_reading`); an action (it may change the target) ends the reading
    (:func:`take_reading`)."""
    _READING.served = set()
    _READING.armed = None
    if action:
        forget_reading()


def _current() -> Optional[Dict[Tuple[str, str], Any]]:
    """This thread's current reading's answers, or None (none taken, forgotten, or older than
    :data:`READING_MAX_AGE_S`)."""
    answers = getattr(_READING, "answers", None)
    if answers is not None and time.monotonic() - _READING.taken > READING_MAX_AGE_S:
        forget_reading()
        return None
    return answers


def forget_reading() -> None:
    """This thread has no current reading (:func:`take_reading`): every read goes to the API."""
    _READING.answers = None
