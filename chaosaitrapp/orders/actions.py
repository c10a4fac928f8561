"""Order bursts against the throttle queue, with deliberate duplicate submissions.

Against the lab, orders go to ``POST /orders`` (PAPER only). The real service has no
order-injection endpoint; give ``injector_command`` (e.g. ``python scripts/synthetic_plan_injector.py
--symbol NIFTY --side LONG --qty 50 --strategy ORB``) and it is run ``count`` times instead.
Either way the target must report PAPER mode first.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Set
from urllib.parse import urlsplit

import requests
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.deployment.replicas import leader_values, replicas_of, the_leader
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ApiError, ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.orderids import MAX_ORDERS_PER_RUN, order_id, run_prefix
from chaosaitrapp.orders.sources import OrderSource, http_request, order_fields, order_source, run_command
from chaosaitrapp.safety.guards import require_paper
from chaosaitrapp.waiting import pace_until, wait_until

__all__ = ["burst_orders"]

MAX_BURST = 1000


def _validate(count: int, rate: float, duplicate_every: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BURST:
        raise ConfigError(f"burst count must be an integer from 1 to {MAX_BURST}, got {count!r}", key="count")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate <= 1000:
        raise ConfigError(f"burst rate must be between 0 and 1000 orders/s, got {rate!r}", key="rate")
    if not isinstance(duplicate_every, int) or duplicate_every < 0:
        raise ConfigError(f"duplicate_every must be 0 (none) or a positive integer, got {duplicate_every!r}",
                          key="duplicate_every")


#: How long orders sent to the leader look for exactly one leading replica (seconds).
LEADER_LOOKUP_S = 5.0


def _spread(over: Any, configuration: Configuration) -> float:
    """``over`` as seconds: a number (or its text), ``"lease"`` (the target's lock TTL plus its refresh period:
    a cut-off leader's lease runs out at most a TTL after the cut, and a standby may take a refresh period more
    to take over, so orders keep arriving until a standby leads), or 0 / ``""`` (none)."""
    if over in ("", None):
        return 0.0
    if over == "lease":
        timing = target_timing(configuration)
        ttl = timing.lock_ttl
        if ttl is not None and timing.lock_refresh is not None:
            return ttl + timing.lock_refresh
        if ttl is None:
            raise ConfigError("over='lease': the target's lock TTL is unknown; give lock_ttl (the deployment "
                              "description) or let the drill learn it (lock_redis or the REDIS_URL secret)",
                              key="lock_ttl")
        return ttl
    try:
        seconds = float(over)
    except (TypeError, ValueError):
        raise ConfigError(f"over must be a number of seconds or 'lease', got {over!r}", key="over") from None
    if seconds < 0 or seconds > 3600:
        raise ConfigError(f"over must be between 0 and 3600 seconds, got {over!r}", key="over")
    return seconds


def burst_orders(count: int = 40, rate: float = 100.0, duplicate_every: int = 4, symbol: str = "NIFTY",
                 side: str = "BUY", quantity: int = 50, price: float = 100.0, injector_command: str = "",
                 retries: int = 2, over: str = "", expect_failures: bool = False, to: str = "api", first: int = 0,
                 configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Send ``count`` orders at ``rate`` per second through the drill's order source
    (:mod:`chaosaitrapp.orders.sources`: ``POST /orders``, ``injector_command`` / ``order_injector`` run once
    per order, or ``order_url`` with ``order_body``); every ``duplicate_every``-th order is also
    re-submitted concurrently with the same ``client_order_id`` (0: no duplicates; none when the source
    cannot pass the id). An order answered 503/429 over HTTP is retried up to ``retries`` times after its ``Retry-After`` (capped at
    0.5 s), with the same ``client_order_id``. Ids are ``chs<run id><n:05d>``, valid Kite tags as they are
    (:mod:`chaosaitrapp.orderids`), so a second burst in the same drill re-submits the first one's ids (an
    idempotency check of its own).

    ``over`` > 0 spreads the ``count`` orders evenly over that many seconds instead (``"lease"``: the
    target's leader-lock TTL plus its refresh period: orders keep arriving past the instant its lease could
    run out and a standby took over);
    ``expect_failures``: answers that never come (a dependency cut off) are counted, not raised.
    ``first``: the ordinal of the first id (a flow of successive bursts in one run, each with ids of its own).
    ``to``: ``api`` (the drill's ``API``) or ``leader`` (whichever of the target's replicas leads now: the
    split-brain drills queue orders at the instance they are about to pause or cut off; a source that
    cannot aim at one replica is refused).

    The ids the target accepted are kept on the timeline's ``fault_injected`` event (``accepted_ids``; with
    ``source``, ``ids_carried`` and ``accepted``), so the order checks can tell an order the target lost
    from one it was never given; with a source that cannot pass the id only the count is known.

    Refused unless the target reports PAPER mode. Returns what was sent and how it was answered:
    ``{"sent", "accepted", "duplicates_sent", "duplicate_answers", "rejected", "errors", "client_order_ids",
    "source", "ids_carried"}``. Raises ConfigError for a bad count/rate or order source, GuardRefused against
    a LIVE target, ApiError when no order could be sent at all (or the injector took none).
    """
    spread = _spread(over, configuration)
    if spread > 0 and isinstance(count, int) and count > 1:
        rate = (count - 1) / spread
    _validate(count, rate, duplicate_every)
    source = order_source(configuration, injector_command)
    client = TraderClient.from_configuration(configuration, secrets)
    if to == "leader":
        if not source.aims:
            raise ConfigError(f"burst_orders to the leader: the order source ({source.describe()}) cannot aim at "
                              "one replica; name {api} in it or use a path on the API", key="order_injector")
        replicas = replicas_of(configuration)
        # a replica slow to answer (the one just cut off, a loaded machine) is asked again, for a few seconds
        found = wait_until(lambda: the_leader(leader_values(replicas, configuration, secrets, timeout=2.0)),
                           lambda name: name is not None, timeout=LEADER_LOOKUP_S, interval=0.1,
                           what="exactly one replica leading")
        name = found.value
        if not found.held or name is None:
            raise TargetError(f"burst_orders to the leader: not exactly one of the replicas leads (asked for "
                              f"{LEADER_LOOKUP_S:g} s)")
        client = client.fork(api=next(r.api for r in replicas if r.name == name))
    elif to != "api":
        raise ConfigError(f"burst_orders: 'to' must be 'api' or 'leader', got {to!r}", key="to")
    require_paper(client, "send an order burst")
    run = current_run()
    if run is not None:
        run.orders_sent = True  # the evidence control then records what became of them
    prefix = run_prefix(run.run_id if run else uuid.uuid4().hex[:12])
    record_event("fault", "orders", f"burst of {count} at {rate}/s from {source.kind}")
    if not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= MAX_ORDERS_PER_RUN - count:
        raise ConfigError(f"first must be a whole number from 0 to {MAX_ORDERS_PER_RUN - count} (ids stay below "
                          f"{MAX_ORDERS_PER_RUN} in a run), got {first!r}", key="first")
    result = _burst(client, source, prefix, count, rate, duplicate_every, symbol, side, quantity, price,
                    max(0, int(retries)), bool(expect_failures), first)
    accepted_ids = sorted(result.pop("accepted_ids", [])) if source.carries_id else []
    result["source"] = source.kind
    result["ids_carried"] = source.carries_id
    record_event("fault_injected", "orders", f"sent {result['sent']}", accepted_ids=accepted_ids,
                 source=source.kind, ids_carried=source.carries_id, accepted=result["accepted"])
    return result


def _retry_after(response) -> float:
    try:
        return min(0.5, max(0.05, float(response.headers.get("Retry-After", 0.2))))
    except ValueError:
        return 0.2


def _post(client: TraderClient, source: OrderSource, fields: Dict[str, Any]) -> requests.Response:
    """One order over HTTP: ``POST /orders`` (``api``) or the ``http`` source's endpoint and body."""
    expect = (200, 201, 202, 409, 429, 503)
    if source.kind == "api":
        body = {k: fields[k] for k in ("client_order_id", "symbol", "side", "quantity")}
        body["price"] = fields["price"] if fields["price"] != "" else None
        return client.request("POST", "/orders", json=body, expect=expect)
    url, body = http_request(source, fields)
    parts = urlsplit(url)
    if parts.scheme:
        return client.fork(api=f"{parts.scheme}://{parts.netloc}").request(
            "POST", parts.path + (f"?{parts.query}" if parts.query else ""), json=body, expect=expect)
    return client.request("POST", url, json=body, expect=expect)


def _burst(client: TraderClient, source: OrderSource, prefix: str, count: int, rate: float, duplicate_every: int,
           symbol: str, side: str, quantity: int, price: float, retries: int,
           expect_failures: bool = False, first: int = 0) -> Dict[str, Any]:
    tally = {"sent": 0, "accepted": 0, "duplicates_sent": 0, "duplicate_answers": 0, "rejected": 0, "retried": 0}
    errors: List[str] = []
    accepted_ids: Set[str] = set()
    lock = threading.Lock()

    def submit(client_order_id: str) -> None:
        fields = order_fields(client_order_id, symbol, side, quantity, price, client.base)
        if source.kind == "command":
            taken, detail = run_command(source, fields)
            with lock:
                tally["sent"] += 1
                tally["accepted" if taken else "rejected"] += 1
                if taken:
                    accepted_ids.add(client_order_id)
                else:
                    errors.append(detail)
            return
        for attempt in range(retries + 1):
            try:
                response = _post(client, source, fields)
            except ApiError as exc:
                with lock:
                    errors.append(str(exc))
                return
            if response.status_code not in (429, 503) or attempt == retries:
                break
            with lock:
                tally["retried"] += 1
            pace_until(time.monotonic() + _retry_after(response))  # the server's Retry-After backoff
        with lock:
            tally["sent"] += 1
            if response.status_code in (200, 201, 202):
                tally["accepted"] += 1
                accepted_ids.add(client_order_id)
                try:
                    if response.json().get("duplicate"):
                        tally["duplicate_answers"] += 1
                except ValueError:
                    pass
            else:
                tally["rejected"] += 1

    ids = [order_id(prefix, first + i) for i in range(count)]
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i, client_order_id in enumerate(ids):
            pace_until(began + i / rate)  # the burst's rate
            pool.submit(submit, client_order_id)
            if duplicate_every and source.carries_id and (i + 1) % duplicate_every == 0:
                with lock:
                    tally["duplicates_sent"] += 1
                pool.submit(submit, client_order_id)
    if errors and not tally["sent"] and not expect_failures:
        raise ApiError(f"order burst: no order could be sent; first error: {errors[0]}")
    if source.kind == "command" and errors and not tally["accepted"] and not expect_failures:
        raise ApiError(f"order burst: the order injector took none of {count} orders; first: {errors[0]}")
    return {**tally, "errors": errors[:10], "error_count": len(errors),
            "elapsed_s": round(time.monotonic() - began, 3), "client_order_ids": [ids[0], ids[-1]],
            "accepted_ids": sorted(accepted_ids)}


