"""The faults a campaign draws from, one entry each: which family injects it, which resources it holds while
on (two faults never hold one resource at once: never two faults on one dependency), how long it may last, and
the family's own actions that inject and end it. Pure data (the actions are named, not imported): adding a
fault to campaigns is one entry here.

A fault that needs something of the target names it (``needs``: ``"module:function"`` of its family, called with the
configuration, raising ConfigError when the target lacks it): the clock's jumps need the trader's clock file. A
campaign whose families are not given draws only from the families whose needs are met, and says which it left
out (:func:`chaosaitrapp.campaign.preflight.default_families`).

Families not drawn from yet, and why: ``crash`` (a crash ends the order flow's target; its recovery is a
restart of the trader, a drill of its own), ``replicas`` (needs several replicas), ``orderstates`` (scripts its
own orders at the broker), ``orders`` (the campaign's order flow is the load of every fault). A Redis stall (``gray``) is not drawn either: its length is bound to the
target's lease window (a brief stall below it, a threatening one above it), which a schedule drawn from a seed
alone cannot know; the gray family brings its Postgres write hang instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Tuple

Args = Callable[[float], Dict[str, Any]]


@dataclass(frozen=True)
class CampaignFault:
    """One fault a campaign may schedule: ``name``; ``family`` (the registry's); ``resources`` it holds while
    on; ``min_s``/``max_s`` its length; ``inject``: ``"module:function"`` of the family's action and
    ``inject_args(seconds)`` its arguments; ``restore``/``restore_args`` the action that ends it at its time
    (None: it ends by itself, an instant fault); ``cleanup``: the action that undoes it in a rollback (idempotent);
    ``needs``: what it needs of the target (module docstring; empty: nothing beyond its family's pre-flight)."""

    name: str
    family: str
    resources: Tuple[str, ...]
    min_s: float
    max_s: float
    inject: str
    inject_args: Args
    restore: str = ""
    restore_args: Mapping[str, Any] = field(default_factory=dict)
    cleanup: str = ""
    needs: str = ""


DEPS = "chaosaitrapp.dependencies.actions"
BROKER = "chaosaitrapp.broker.actions"
CLOCK = "chaosaitrapp.clock.actions"

CATALOGUE: Tuple[CampaignFault, ...] = (
    CampaignFault("redis_stop", "dependencies", ("redis",), 2.0, 6.0, f"{DEPS}:stop_dependency",
                  lambda s: {"dependency": "redis", "timeout": 30}, f"{DEPS}:start_dependency",
                  {"dependency": "redis", "timeout": 60}, f"{DEPS}:start_dependency"),
    CampaignFault("postgres_stop", "dependencies", ("postgres",), 2.0, 6.0, f"{DEPS}:stop_dependency",
                  lambda s: {"dependency": "postgres", "timeout": 30}, f"{DEPS}:start_dependency",
                  {"dependency": "postgres", "timeout": 60}, f"{DEPS}:start_dependency"),
    CampaignFault("broker_token_invalidated", "broker", ("broker",), 2.0, 5.0, f"{BROKER}:inject_broker_fault",
                  lambda s: {"kind": "token_invalidated", "duration": s}, f"{BROKER}:clear_broker_faults", {},
                  f"{BROKER}:clear_broker_faults"),
    CampaignFault("broker_rate_limit", "broker", ("broker",), 2.0, 4.0, f"{BROKER}:inject_broker_fault",
                  lambda s: {"kind": "rate_limit", "duration": s}, f"{BROKER}:clear_broker_faults", {},
                  f"{BROKER}:clear_broker_faults"),
    CampaignFault("redis_partition", "network", ("redis", "network"), 2.0, 5.0,
                  "chaosaitrapp.network.actions:partition",
                  lambda s: {"dependency": "redis", "kind": "blackhole", "duration": s + 30},
                  "chaosaitrapp.network.actions:heal_partition", {"timeout": 30},
                  "chaosaitrapp.network.actions:heal_partition"),
    CampaignFault("postgres_write_hang", "gray", ("postgres",), 2.0, 5.0,
                  "chaosaitrapp.gray.postgres_actions:hang_postgres", lambda s: {"fault": "table_lock", "seconds": s},
                  "chaosaitrapp.gray.postgres_actions:wait_hang_over", {"timeout": 30},
                  "chaosaitrapp.gray.postgres_actions:end_hang"),
    CampaignFault("ticker_drop", "broker", ("broker",), 2.0, 5.0, f"{BROKER}:break_market_data",
                  lambda s: {"mode": "close", "code": 1006, "duration": s}, f"{BROKER}:restore_market_data",
                  {"mode": "close"}, f"{BROKER}:clear_broker_faults"),
    CampaignFault("cpu_stress", "stress", ("cpu",), 3.0, 6.0, "chaosaitrapp.stress.actions:stress_cpu",
                  lambda s: {"seconds": s, "workers": 1}, "chaosaitrapp.stress.actions:wait_stress_ended", {},
                  "chaosaitrapp.stress.actions:end_stress"),
    CampaignFault("clock_back", "clock", ("clock",), 3.0, 8.0, f"{CLOCK}:jump_clock",
                  lambda s: {"jump": "-300", "hold": s}, f"{CLOCK}:clock_back", {}, f"{CLOCK}:end_jump",
                  f"{CLOCK}:clock_file"),
    CampaignFault("clock_forward", "clock", ("clock",), 3.0, 8.0, f"{CLOCK}:jump_clock",
                  lambda s: {"jump": "+300", "hold": s}, f"{CLOCK}:clock_back", {}, f"{CLOCK}:end_jump",
                  f"{CLOCK}:clock_file"),
)

BY_NAME: Dict[str, CampaignFault] = {f.name: f for f in CATALOGUE}


def campaign_families() -> Tuple[str, ...]:
    """The families campaigns draw from, in catalogue order, each once."""
    return tuple(dict.fromkeys(f.family for f in CATALOGUE))


def faults_of(families: Tuple[str, ...]) -> Tuple[CampaignFault, ...]:
    """The catalogue's faults of ``families``, in catalogue order."""
    return tuple(f for f in CATALOGUE if f.family in families)
