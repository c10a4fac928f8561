"""The trader's Prometheus metrics, every ``trader_*`` family of the contract, on a registry passed in.

Heartbeat families are *ages* in seconds computed at scrape time (``set_function``), never
timestamps. Labelled families are initialised with the label values the contract names so
that each family shows up in ``/metrics`` from the first scrape.
"""
from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ORDER_TYPES = ("LIMIT", "MARKET")
SUPERVISOR_STATES = {"stopped": 0, "running": 1, "done": 2, "exception": 3, "stopping": 4}


class TraderMetrics:
    """All trader metric objects, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry, instance_id: str) -> None:
        self.registry = registry
        self.instance_id = instance_id
        self.is_leader = Gauge("trader_is_leader", "1 when this instance holds the leader lock, else 0",
                               ["instance_id"], registry=registry)
        self.marketdata_heartbeat = Gauge("trader_marketdata_heartbeat_seconds",
                                          "Seconds since the last market-data event", registry=registry)
        self.order_stream_heartbeat = Gauge("trader_order_stream_heartbeat_seconds",
                                            "Seconds since the last order-stream poll", registry=registry)
        self.scan_heartbeat = Gauge("trader_scan_heartbeat_seconds",
                                    "Seconds since the last strategy scan cycle", registry=registry)
        self.throttle_queue_depth = Gauge("trader_throttle_queue_depth",
                                          "Orders waiting for the broker rate limit", ["type"], registry=registry)
        self.leader_changes = Counter("trader_leader_changes_total", "Leadership (re)acquired", registry=registry)
        self.kill_switch = Counter("trader_kill_switch_total", "Pauses forced by the system", ["reason"],
                                   registry=registry)
        self.orders_placed = Counter("trader_orders_placed_total", "Orders sent to the broker",
                                     ["order_type", "status"], registry=registry)
        self.orders_filled = Counter("trader_orders_filled_total", "Orders filled", ["order_type"],
                                     registry=registry)
        self.retries = Counter("trader_retries_total", "Retries", ["type"], registry=registry)
        self.scan_supervisor_state = Gauge("trader_scan_supervisor_state",
                                           "0 stopped, 1 running, 2 done, 3 exception, 4 stopping",
                                           registry=registry)
        self.order_latency_ms = Histogram("trader_order_latency_ms", "Order placement latency (ms)",
                                          buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
                                          registry=registry)
        self.is_leader.labels(instance_id=instance_id).set(0)
        self.throttle_queue_depth.labels(type="order_placement").set(0)
        self.kill_switch.labels(reason="leader_lock_lost")
        for order_type in ORDER_TYPES:
            self.orders_filled.labels(order_type=order_type)
            for status in ("accepted", "rejected"):
                self.orders_placed.labels(order_type=order_type, status=status)
        for kind in ("token_refresh", "rate_limited", "reply_lost", "stale_feed"):
            self.retries.labels(type=kind)
        self.scan_supervisor_state.set(0)

    def bind_heartbeats(self, age: Callable[[str], float]) -> None:
        """Make the three heartbeat gauges report ``age(name)`` at scrape time."""
        self.marketdata_heartbeat.set_function(lambda: age("marketdata"))
        self.order_stream_heartbeat.set_function(lambda: age("order_stream"))
        self.scan_heartbeat.set_function(lambda: age("scan"))

    def set_leader(self, leader: bool) -> None:
        """Set ``trader_is_leader{instance_id}`` to 1.0 or 0.0."""
        self.is_leader.labels(instance_id=self.instance_id).set(1 if leader else 0)

    def set_queue_depth(self, depth: int) -> None:
        """Set ``trader_throttle_queue_depth{type="order_placement"}``."""
        self.throttle_queue_depth.labels(type="order_placement").set(depth)
