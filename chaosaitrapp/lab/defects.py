"""Defects the lab trader can be started with on purpose, so drills can prove they catch them.

Named in env ``AITRAPP_LAB_DEFECTS`` (comma list) or ``LabConfig.defects``. Never allowed in
LIVE mode (refused at startup and at ``POST /mode`` LIVE).

- ``never_pause``: on leader-lock loss the gauge goes 0 but the orchestrator keeps trading.
- ``never_reacquire``: after a loss the lock is never taken again.
- ``stale_heartbeats``: after the first fault (lock loss) the loops stop recording heartbeats,
  so every age grows past ``HEARTBEAT_MAX`` and never comes back.
- ``duplicate_orders``: the ``orders.client_order_id`` UNIQUE constraint is dropped at startup and
  ``POST /orders`` inserts without checking, so a repeated ``client_order_id`` makes a second row.
- ``ready_lies``: ``/ready`` answers 200 ``ready`` even while not leader.
- ``no_token_refresh``: a broker ``TokenException`` is never refreshed: every call fails until restart.
- ``refresh_storm``: after the first ``TokenException``, a new broker session is made before every call,
  without bound (and the ticker is restarted with each).
- ``duplicate_on_retry``: a placement whose reply was lost is sent again without looking it up by its
  tag (Kite has no idempotency key: the broker then holds it twice).
- ``ws_never_reconnects``: the KiteTicker is made with ``reconnect=False``: a closed feed stays closed.
- ``ws_no_resubscribe``: after a ticker reconnect nothing is subscribed again: the socket is up, no tick comes.
- ``trades_on_stale_feed``: orders leave even while the market-data heartbeat is past ``HEARTBEAT_MAX``.
- ``no_redis_timeout``: the Redis client has no socket timeout: behind a partition (a silent socket, not
  a refusal) the lock refresh waits forever, so the instance keeps leading and trading after its lease.
- ``health_blocks_on_db``: ``/health`` queries Postgres without a timeout, so it hangs while Postgres is
  unreachable.
- ``db_write_without_timeout``: order writes wait for Postgres with no timeout, on the one connection every
  call shares: behind a lock on ``orders`` (a write hang, Postgres up) the insert waits as long as the lock
  does, and every other call waits behind it (``GET /orders``, the fills, the sweep): the API hangs with it.
- ``blind_resend``: an order whose placement reply was lost is re-sent without looking it up by its tag
  (the behaviour of ``duplicate_on_retry``, under the name the partition drill uses).
- ``no_fencing``: AITRAPP's lock as published: a random owner id and nothing else: no fencing token on
  orders (the broker cannot refuse a deposed leader's) and no lease guard (orders leave while the lease
  may already have ended), so a leader paused past its TTL trades on beside its successor when it resumes.
- ``blocking_scan``: each strategy scan burns CPU on the event loop (20 % of a scan period of CPU time), and
  scans missed while behind run back to back, yielding only a 50 ms gap a second: with CPU to spare nothing
  shows; starved (CPU stress within its cgroup's quota) it never catches up: the scan heartbeat stops and the
  API answers only in the gaps, late.
- ``counts_refusals_as_refreshes``: AITRAPP's ``kite_client.py``: a broker ``TokenException`` increments
  ``trader_retries_total{type="token_refresh"}`` and then fails the call, with no new session: the counter
  says refreshes, the broker saw none.
- ``heartbeat_from_simulator``: AITRAPP in PAPER: a tick simulator keeps the market-data heartbeat fresh
  while the real ticker is down (``marketdata_connected`` false), and orders leave on the dead feed.
- ``reuses_tag``: one Kite tag for every order (a strategy's name, not the order's): the broker's book
  cannot tell the orders apart, and a look-up by tag after a lost reply finds another order.
- ``memory_leak_under_load``: every order placed keeps a 12 MiB buffer for ever: under an order flow the
  process grows until its memory limit gets it OOM-killed (without a limit it just stays grown).
- ``lease_on_wall_clock``: the lease is judged, and its next refresh scheduled, on the wall clock: when the
  wall clock steps back, the refresh waits for a wall time that comes that much later, so the key runs out
  in Redis while the instance still believes it leads (and its lease guard lets orders leave).
- ``heartbeat_on_wall_clock``: heartbeats are wall-clock timestamps and ages their differences, unclamped:
  a step back reads negative ages, a step forward ages as large as the step (``/ready`` 503 for nothing).
- ``write_behind_orders``: ``POST /orders`` acknowledges an order (202) before its row is written and writes
  it behind; a write that fails (Postgres out of space, a lock past its timeout, an outage) drops the order:
  acknowledged, never placed.
- ``no_reconcile_on_start``: at a (re)start the orders the store holds unfinished are forgotten, not looked up at
  the broker: an order in flight at a crash (accepted by the broker, its reply never heard) stays PENDING in the
  trader's view for ever, while the broker holds it.
- ``resend_on_start``: at a (re)start the store's PENDING orders are sent again without looking up their tag first:
  one the broker accepted before the crash is then at the broker twice.
- ``queue_in_memory``: ``POST /orders`` acknowledges an order once it is queued in memory; its row is written only
  when the broker accepts it: orders acknowledged and still waiting for the rate limit vanish with a crash.
- ``trusts_placement_ack``: a placement answered 200 is recorded at once as COMPLETE, all of it filled at the
  limit price (a trade, the position): the broker's later word (still pending, cancelled, rejected) is never read.
- ``ignores_partial_fills``: only a COMPLETE order counts as filled: the parts filled before a cancel are never
  recorded (the position misses them) and the order reads CANCELLED with nothing filled.
- ``no_status_poll``: the trader follows the order book only and never asks about an order (``order_history``):
  a status change the book does not show (a lost update) stays unknown to it.
- ``drops_queue_on_paused_refresh``: a broker session refreshed while trading is paused rebuilds the order queue
  empty: the orders acknowledged and waiting there are forgotten (PENDING for ever, never placed). Only the two
  faults together show it: unpaused, the queue is empty at a refresh; paused without a refresh, it is kept.
- ``reconnects_on_wall_clock``: the trader leaves reconnecting its market data to KiteTicker alone (no watchdog of
  its own on the monotonic clock), whose retries wait on Twisted's timers, read from the wall clock: a feed dropped
  while the clock steps back stays down for the length of the step. Each fault alone shows nothing (the WebSocket
  and clock drills pass); a campaign that drops the ticker while the clock is stepped finds it.
"""
from __future__ import annotations

from typing import FrozenSet, Iterable, Optional, Union

from chaosaitrapp.lab.errors import DefectRefused, UnknownDefect

KNOWN_DEFECTS: FrozenSet[str] = frozenset(
    {"never_pause", "never_reacquire", "stale_heartbeats", "duplicate_orders", "ready_lies",
     "no_token_refresh", "refresh_storm", "duplicate_on_retry", "ws_never_reconnects", "ws_no_resubscribe",
     "trades_on_stale_feed", "no_redis_timeout", "health_blocks_on_db", "db_write_without_timeout", "blind_resend",
     "no_fencing", "blocking_scan", "memory_leak_under_load", "counts_refusals_as_refreshes",
     "heartbeat_from_simulator", "reuses_tag", "lease_on_wall_clock", "heartbeat_on_wall_clock",
     "write_behind_orders", "no_reconcile_on_start", "resend_on_start", "queue_in_memory", "trusts_placement_ack",
     "ignores_partial_fills", "no_status_poll", "drops_queue_on_paused_refresh", "reconnects_on_wall_clock"}
)
ENV_VAR = "AITRAPP_LAB_DEFECTS"


def parse_defects(value: Union[None, str, Iterable[str]]) -> FrozenSet[str]:
    """Defect names from a comma list or an iterable; UnknownDefect names any unknown one."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = {str(item).strip() for item in items if str(item).strip()}
    unknown = sorted(names - KNOWN_DEFECTS)
    if unknown:
        raise UnknownDefect(
            f"unknown lab defect(s) {', '.join(unknown)}; known defects: {', '.join(sorted(KNOWN_DEFECTS))}",
            unknown=unknown,
        )
    return frozenset(names)


def refuse_in_live(mode: Optional[str], defects: Iterable[str]) -> None:
    """DefectRefused when ``mode`` is LIVE and any defect is on."""
    active = sorted(defects)
    if (mode or "").upper() == "LIVE" and active:
        raise DefectRefused(
            f"defects {', '.join(active)} are refused in LIVE mode; they exist only for PAPER drills",
            defects=active,
        )
