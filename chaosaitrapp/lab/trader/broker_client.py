"""The trader's client for the broker simulator (Kite-like REST), with token refresh.

A ``403`` whose ``error_type`` is ``TokenException`` means the access token expired: the client
refreshes it (``POST /session/token``), counts ``trader_retries_total{type="token_refresh"}``
and retries the request once. A ``429`` raises :class:`RateLimited`; a network error or 5xx
raises :class:`BrokerUnavailable`; another refusal raises :class:`BrokerRejected`.
The access token and the api secret are never logged.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import httpx


class BrokerError(Exception):
    """Base class of broker failures."""


class RateLimited(BrokerError):
    """The broker answered 429; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"broker rate limit; retry after {retry_after:.2f}s")
        self.retry_after = retry_after


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or failed (5xx)."""


class BrokerRejected(BrokerError):
    """The broker refused the order for good."""


class BrokerClient:
    """Kite-like calls to the broker at ``base_url``."""

    def __init__(self, base_url: str, api_key: str, api_secret: str, timeout: float,
                 on_token_refresh: Callable[[], None] = lambda: None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._api_secret = api_secret
        self._token: Optional[str] = None
        self.on_token_refresh = on_token_refresh
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def refresh_token(self) -> None:
        """Get a new access token (``POST /session/token``)."""
        try:
            resp = await self.http.post("/session/token", json={"api_key": self.api_key, "api_secret": self._api_secret})
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(f"broker unreachable during token refresh: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise BrokerRejected(f"token refresh refused: HTTP {resp.status_code}")
        self._token = resp.json()["data"]["access_token"]

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._token is None:
            await self.refresh_token()
        for attempt in (0, 1):
            headers = {"Authorization": f"token {self.api_key}:{self._token}", "X-Kite-Version": "3"}
            try:
                resp = await self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise BrokerUnavailable(f"broker unreachable: {type(exc).__name__}") from None
            if resp.status_code == 403 and _error_type(resp) == "TokenException" and attempt == 0:
                await self.refresh_token()
                self.on_token_refresh()
                continue
            return resp
        return resp

    async def place_order(self, order: Dict[str, Any]) -> str:
        """Place ``order`` (client_order_id as Kite ``tag``); the broker's order id."""
        body = {
            "tradingsymbol": order["symbol"],
            "exchange": "NSE",
            "transaction_type": order["side"],
            "quantity": order["quantity"],
            "price": order.get("price"),
            "order_type": order.get("order_type", "LIMIT"),
            "product": "MIS",
            "tag": order["client_order_id"],
        }
        resp = await self._request("POST", "/orders", json=body)
        if resp.status_code == 429:
            raise RateLimited(float(resp.headers.get("Retry-After", "0.1") or 0.1))
        if resp.status_code >= 500:
            raise BrokerUnavailable(f"broker failed: HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise BrokerRejected(f"HTTP {resp.status_code}: {_message(resp)}")
        return str(resp.json()["data"]["order_id"])

    async def orders(self) -> List[Dict[str, Any]]:
        """The broker's order book (``GET /orders``)."""
        resp = await self._request("GET", "/orders")
        if resp.status_code != 200:
            raise BrokerUnavailable(f"order book: HTTP {resp.status_code}")
        return list(resp.json()["data"])


def _error_type(resp: httpx.Response) -> Optional[str]:
    try:
        return resp.json().get("error_type")
    except Exception:
        return None


def _message(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("message"))[:200]
    except Exception:
        return resp.text[:200]
