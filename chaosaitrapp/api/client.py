"""HTTP access to the AITRAPP API: one requests session, timeouts, the optional API key.

Every failure becomes an :class:`~chaosaitrapp.errors.ApiError` that names the endpoint and
what went wrong (unreachable, 401, non-JSON body), never the key.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

import requests

from chaosaitrapp.config import Settings, api_key, settings_from
from chaosaitrapp.errors import ApiError, GuardRefused

_SESSIONS: Dict[Tuple[str, Optional[str]], requests.Session] = {}
#: This thread's held reads (:func:`hold_reads`): ``{(base, path): response or the ApiError it gave}``.
_HELD = threading.local()


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
        """Send a request; ApiError unless the status is in ``expect``. A plain GET this thread holds (see
        :func:`hold_reads`) is answered from what was read then, judged the same way."""
        url = self.base + path
        held = getattr(_HELD, "reads", None)
        if held is not None and method == "GET" and not kwargs and (self.base, path) in held:
            answer = held[(self.base, path)]
            if isinstance(answer, ApiError):
                raise answer
            return self._judge(method, url, answer, expect)
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


def hold_reads(client: TraderClient, paths: Iterable[str]) -> Dict[str, Union[int, str]]:
    """Read ``paths`` of ``client``'s API all at once (one GET each, in parallel) and hold the answers for
    this thread: until :func:`release_reads`, a plain GET of one of them by any client of that API, in this
    thread only, is answered from that reading (an unreachable API raises the same ApiError). A steady state
    whose probes read /ready, /metrics, /state and /health one after another (six requests, one at a time)
    is so judged on one reading taken at one instant, in the time of the slowest answer. Other threads (the
    timeline's sampler) never see held reads. Returns ``{path: status code or the error}``."""
    wanted = list(dict.fromkeys(paths))

    def read(path: str) -> Union[requests.Response, ApiError]:
        twin = client.fork()
        try:
            return twin._send("GET", client.base + path)
        except ApiError as exc:
            return exc
        finally:
            twin.session.close()

    with ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="aitrapp-hold") as pool:
        answers = dict(zip(wanted, pool.map(read, wanted)))
    _HELD.reads = {(client.base, path): answer for path, answer in answers.items()}
    return {path: (str(a) if isinstance(a, ApiError) else a.status_code) for path, a in answers.items()}


def release_reads() -> None:
    """Forget this thread's held reads (:func:`hold_reads`): every read goes to the API again."""
    _HELD.reads = None
