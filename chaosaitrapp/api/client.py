"""HTTP access to the AITRAPP API: one requests session, timeouts, the optional API key.

Every failure becomes an :class:`~chaosaitrapp.errors.ApiError` that names the endpoint and
what went wrong (unreachable, 401, non-JSON body), never the key.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Mapping, Optional, Tuple

import requests

from chaosaitrapp.config import Settings, api_key, settings_from
from chaosaitrapp.errors import ApiError, GuardRefused

_SESSIONS: Dict[Tuple[str, Optional[str]], requests.Session] = {}


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
        """Send a request; ApiError unless the status is in ``expect``."""
        url = self.base + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise ApiError(f"{method} {url}: no answer within {self.timeout:.1f}s", url=url)
        except requests.ConnectionError as exc:
            reason = type(exc.args[0]).__name__ if exc.args else "connection error"
            raise ApiError(f"{method} {url}: API unreachable ({reason}); is the service running at {self.base}?",
                           url=url)
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
