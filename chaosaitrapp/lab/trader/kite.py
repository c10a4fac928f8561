"""The trader's broker session through the official ``kiteconnect`` client, as AITRAPP talks to Kite.

``KiteConnect(api_key, root=...)`` is synchronous (requests): every call runs in a worker thread. The
session comes from Kite's login flow (``/connect/login`` redirects with a request token; the lab's
broker approves at once) and ``generate_session(request_token, api_secret)``.

On ``TokenException`` (403: the token expired or was invalidated) the trader refreshes the session
(a new login), counts ``trader_retries_total{type="token_refresh"}``, tells ``on_refresh`` (the ticker
must reconnect with the new token) and retries the call once. Refreshes are bounded: at most one per
``min_refresh_interval``; a call that still gets a TokenException after one is refused (TokenExpired).

Failures become the trader's own exceptions: :class:`RateLimited` (429, Kite's "NetworkException: Too
many requests"), :class:`BrokerUnavailable` (5xx, the broker or the path to it down), :class:`ReplyLost`
(a placement's reply never came: the order may exist at the broker; only a look-up by its tag can
tell), :class:`BrokerRejected` (refused for good), :class:`TokenExpired` (no valid session).

Identity: every request carries ``X-AITRAPP-Instance`` (the instance id: the history's attribution) and,
once :meth:`KiteSession.set_fence` gave one, ``X-AITRAPP-Fence`` (the leader lock grant's fencing
token); a placement refused for a stale token is :class:`FenceRejected`.

Defects: ``no_token_refresh`` (a TokenException is never refreshed), ``refresh_storm`` (from the first
TokenException on, a new session before every call, without bound).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, List, Optional
from urllib.parse import parse_qs, urlsplit

import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from chaosaitrapp.aitrapp import FENCE_HEADER, INSTANCE_HEADER
from chaosaitrapp.lab.broker.book import STALE_FENCE
from chaosaitrapp.orderids import is_kite_tag

log = logging.getLogger("chaosaitrapp.lab.trader.kite")


class BrokerError(Exception):
    """Base class of broker failures."""


class RateLimited(BrokerError):
    """The broker answered 429; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"broker rate limit; retry after {retry_after:.2f}s")
        self.retry_after = retry_after


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or failed (5xx)."""


class ReplyLost(BrokerError):
    """A placement's reply never came: the order's fate is unknown until it is looked up by tag."""


class BrokerRejected(BrokerError):
    """The broker refused the order for good."""


class TokenExpired(BrokerError):
    """No valid session: the token expired and could not (or may not) be refreshed."""


class FenceRejected(BrokerError):
    """The broker refused the order's fencing token as stale: another instance holds a newer grant."""



#: The one tag defect ``reuses_tag`` puts on every order (a strategy's name, not the order's).
REUSED_TAG = "aitrappORB"


def kite_tag(client_order_id: str) -> str:
    """The Kite ``tag`` of an order, the same every time so that it can be looked up after a lost reply: the
    ``client_order_id`` itself when it is a valid tag (alphanumeric, at most 20: the drills' ids are), else the
    first 20 hex digits of its SHA-1."""
    if is_kite_tag(client_order_id):
        return client_order_id
    return hashlib.sha1(client_order_id.encode()).hexdigest()[:20]


class KiteSession:
    """One app's session with the broker: login, refresh, calls in threads, error mapping."""

    def __init__(self, root: str, api_key: str, api_secret: str, timeout: float, *,
                 on_refresh: Callable[[str], None] = lambda token: None,
                 count_refresh: Callable[[], None] = lambda: None,
                 defects: FrozenSet[str] = frozenset(), min_refresh_interval: float = 1.0,
                 instance_id: str = "") -> None:
        self.root = root.rstrip("/")
        self.api_key = api_key
        self._api_secret = api_secret
        self.timeout = timeout
        self.on_refresh = on_refresh
        self.count_refresh = count_refresh
        self.defects = defects
        self.min_refresh_interval = min_refresh_interval
        self.kite = KiteConnect(api_key, root=self.root, timeout=timeout)
        if instance_id:
            self.kite.reqsession.headers[INSTANCE_HEADER] = instance_id  # merged into every request
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._storming = False
        self.refreshes = 0

    def set_fence(self, fence: Optional[int]) -> None:
        """Send ``fence`` (a leader lock grant's token) with every request from now on; None: send none."""
        if fence is None:
            self.kite.reqsession.headers.pop(FENCE_HEADER, None)
        else:
            self.kite.reqsession.headers[FENCE_HEADER] = str(int(fence))

    def tag(self, client_order_id: str) -> str:
        """The tag this session sends for ``client_order_id`` (:func:`kite_tag`; defect ``reuses_tag``: one tag,
        :data:`REUSED_TAG`, for every order)."""
        return REUSED_TAG if "reuses_tag" in self.defects else kite_tag(client_order_id)

    @property
    def access_token(self) -> Optional[str]:
        """The current access token (never logged)."""
        return self.kite.access_token

    def _login(self) -> str:
        """Kite's login flow: a request token from ``/connect/login``, exchanged for an access token."""
        try:
            answer = requests.get(f"{self.root}/connect/login", params={"v": 3, "api_key": self.api_key},
                                  allow_redirects=False, timeout=self.timeout)
        except requests.RequestException as exc:
            raise BrokerUnavailable(f"login: broker unreachable ({type(exc).__name__})") from None
        location = answer.headers.get("location", "")
        token = (parse_qs(urlsplit(location).query).get("request_token") or [None])[0]
        if answer.status_code != 302 or not token:
            raise TokenExpired(f"login refused: HTTP {answer.status_code}")
        try:
            self.kite.generate_session(token, self._api_secret)
        except kite_errors.TokenException as exc:
            raise TokenExpired(f"session refused: {exc}") from None
        except (kite_errors.NetworkException, requests.RequestException) as exc:
            raise BrokerUnavailable(f"session: broker unreachable ({type(exc).__name__})") from None
        return str(self.kite.access_token)

    def login(self) -> str:
        """Open the session (at start); returns the access token."""
        with self._lock:
            return self._login()

    def refresh(self, stale: Optional[str]) -> None:
        """A new session unless another thread already replaced ``stale`` or one was made less than
        ``min_refresh_interval`` ago (then TokenExpired: the broker refuses even a fresh session)."""
        with self._lock:
            if self.kite.access_token != stale:
                return
            if time.monotonic() - self._last_refresh < self.min_refresh_interval:
                raise TokenExpired("the broker refused a session refreshed moments ago")
            token = self._login()
            self._last_refresh = time.monotonic()
            self.refreshes += 1
        self.count_refresh()
        log.warning("broker session refreshed (TokenException)")
        self.on_refresh(token)

    def _storm(self) -> None:
        """Defect ``refresh_storm``: a new session, unconditionally (no bound, no check for a newer token)."""
        with self._lock:
            token = self._login()
            self.refreshes += 1
        self.count_refresh()
        self.on_refresh(token)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._storming:  # defect refresh_storm: once it has begun, a new session before every call
            self._storm()
        for attempt in (0, 1):
            stale = self.kite.access_token
            try:
                return getattr(self.kite, name)(*args, **kwargs)
            except kite_errors.TokenException:
                if "counts_refusals_as_refreshes" in self.defects:
                    self.count_refresh()  # AITRAPP: counted before it finds it has no way to refresh
                    raise TokenExpired(f"{name}: TokenException, counted as a refresh, none made") from None
                if attempt == 1 or "no_token_refresh" in self.defects:
                    raise TokenExpired(f"{name}: TokenException and no refresh") from None
                if "refresh_storm" in self.defects:
                    self._storming = True
                    self._storm()
                    continue
                self.refresh(stale)
            except kite_errors.NetworkException as exc:
                if exc.code == 429:
                    raise RateLimited(1.0) from None
                raise BrokerUnavailable(f"{name}: {exc.code} {exc}") from None
            except kite_errors.PermissionException as exc:
                if STALE_FENCE in str(exc):
                    raise FenceRejected(f"{name}: {exc}") from None
                raise BrokerRejected(f"{name}: {exc}") from None
            except (kite_errors.InputException, kite_errors.OrderException) as exc:
                raise BrokerRejected(f"{name}: {exc}") from None
            except kite_errors.KiteException as exc:
                raise BrokerUnavailable(f"{name}: {type(exc).__name__} {exc.code}") from None
            except requests.ConnectTimeout:
                raise BrokerUnavailable(f"{name}: could not connect within {self.timeout:g}s") from None
            except requests.RequestException as exc:
                never_sent = isinstance(exc, requests.ConnectionError) and (
                    "refused" in str(exc).lower() or "NewConnectionError" in str(exc))
                if name == "place_order" and not never_sent:  # sent, no reply: it may exist at the broker
                    raise ReplyLost(f"{name}: no reply ({type(exc).__name__})") from None
                raise BrokerUnavailable(f"{name}: broker unreachable ({type(exc).__name__})") from None
        raise AssertionError("unreachable")

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``KiteConnect.<name>(*args, **kwargs)`` in a worker thread, errors mapped (module docstring)."""
        return await asyncio.to_thread(self._call, name, *args, **kwargs)

    async def place_order(self, order: Dict[str, Any], exchange: str) -> str:
        """Place ``order`` (tagged :meth:`tag` of its ``client_order_id``); the broker's order id."""
        kwargs = dict(variety="regular", exchange=exchange, tradingsymbol=order["symbol"],
                      transaction_type=order["side"], quantity=int(order["quantity"]), product="MIS",
                      order_type=order.get("order_type", "LIMIT"), tag=self.tag(order["client_order_id"]))
        if kwargs["order_type"] == "LIMIT" and order.get("price") is not None:
            kwargs["price"] = float(order["price"])
        return str(await self.call("place_order", **kwargs))

    async def orders(self) -> List[Dict[str, Any]]:
        """The broker's order book (``kite.orders()``)."""
        return list(await self.call("orders"))

    async def order_history(self, order_id: str) -> List[Dict[str, Any]]:
        """One order's states, oldest first (``kite.order_history``: ``GET /orders/{order_id}``): asking about it
        rather than waiting for the book to show its change."""
        return list(await self.call("order_history", order_id))

    async def instruments(self) -> List[Dict[str, Any]]:
        """The instrument dump (``kite.instruments()``)."""
        return list(await self.call("instruments"))
