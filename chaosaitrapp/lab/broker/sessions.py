"""Kite Connect's login and session flow, simulated: request tokens, access tokens, their expiry.

- ``GET /connect/login?v=3&api_key=K`` redirects to the app's redirect URL with a one-time
  ``request_token`` (the lab approves every login at once; Kite would show its login page);
- ``POST /session/token`` (``api_key``, ``request_token``, ``checksum`` = sha256(api_key + request_token +
  api_secret)) exchanges it for an ``access_token``;
- every other call carries ``Authorization: token api_key:access_token``; an unknown, invalidated or
  expired token is a 403 ``TokenException`` (Kite's message: "Incorrect `api_key` or `access_token`.");
- ``DELETE /session/token`` invalidates one, as a logout does; :meth:`Sessions.expire_all` is the
  morning expiry of every token at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

REQUEST_TOKEN_TTL = 300.0
BAD_TOKEN = "Incorrect `api_key` or `access_token`."


class SessionError(Exception):
    """A refused login or call: ``error_type`` and HTTP ``status`` as Kite answers them."""

    def __init__(self, message: str, error_type: str = "TokenException", status: int = 403) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status


@dataclass
class Sessions:
    """The app's request and access tokens. ``clock`` is monotonic seconds (injectable)."""

    api_key: str
    api_secret: str = field(repr=False)
    token_ttl: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    request_tokens: Dict[str, float] = field(default_factory=dict)
    access_tokens: Dict[str, float] = field(default_factory=dict)  # token -> expiry
    issued: int = 0
    refused: int = 0

    def login(self, api_key: str) -> str:
        """A fresh one-time request token for ``api_key`` (SessionError for another app's key)."""
        if api_key != self.api_key:
            raise SessionError("Invalid `api_key`.", "InputException", 400)
        token = secrets.token_hex(16)
        self.request_tokens[token] = self.clock() + REQUEST_TOKEN_TTL
        return token

    def exchange(self, api_key: str, request_token: str, checksum: str) -> Tuple[str, float]:
        """``(access_token, expires_in)`` for a valid request token and checksum; the request token is used up."""
        expected = hashlib.sha256((api_key + request_token + self.api_secret).encode()).hexdigest()
        valid_until = self.request_tokens.pop(request_token, None)
        if api_key != self.api_key or not hmac.compare_digest(checksum or "", expected):
            self.refused += 1
            raise SessionError("Invalid `checksum`.", "TokenException", 403)
        if valid_until is None or valid_until < self.clock():
            self.refused += 1
            raise SessionError("Token is invalid or has expired.", "TokenException", 403)
        access = secrets.token_hex(16)
        self.access_tokens[access] = self.clock() + self.token_ttl
        self.issued += 1
        return access, self.token_ttl

    def check(self, authorization: Optional[str]) -> str:
        """The access token of a valid ``Authorization: token api_key:access_token`` header, else
        SessionError (a 403 TokenException)."""
        if not authorization or not authorization.startswith("token ") or ":" not in authorization:
            self.refused += 1
            raise SessionError(BAD_TOKEN)
        api_key, _, token = authorization[len("token "):].partition(":")
        return self.check_token(api_key, token)

    def check_token(self, api_key: str, token: str) -> str:
        """``token`` when it is a live access token of ``api_key``, else SessionError."""
        expiry = self.access_tokens.get(token)
        if api_key != self.api_key or expiry is None or expiry <= self.clock():
            self.refused += 1
            raise SessionError(BAD_TOKEN)
        return token

    def invalidate(self, api_key: str, token: str) -> bool:
        """Log ``token`` out (``DELETE /session/token``); True when it was live."""
        if api_key != self.api_key:
            raise SessionError("Invalid `api_key`.", "InputException", 400)
        return self.access_tokens.pop(token, None) is not None

    def expire_all(self) -> int:
        """Expire every access token now (Kite's morning expiry); how many were live."""
        count = len(self.access_tokens)
        self.access_tokens.clear()
        return count
