"""The campaign's pre-flight: the schedule file reads and is sound (offline); a campaign of more than
:data:`~chaosaitrapp.campaign.schedule.LISTED_ORDERS` orders knows the target's database (``GET /orders`` may list
the newest orders only: the rest are followed in the ``orders`` table); online, a trader in PAPER mode;
and every scheduled fault passes its own family's pre-flight, as if its drill injected it (a campaign whose
partition has no proxy to act through is refused before anything is injected, naming the fault)."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from chaoslib.types import Configuration, Secrets

from chaosaitrapp import registry
from chaosaitrapp.campaign.actions import read_schedule, require_paper_target
from chaosaitrapp.campaign.catalogue import BY_NAME, CATALOGUE, campaign_families
from chaosaitrapp.campaign.schedule import LISTED_ORDERS, Schedule
from chaosaitrapp.declare import ActivityCall
from chaosaitrapp.deployment.database import target_database
from chaosaitrapp.errors import ChaosAitrappError, ConfigError

FUNCS = ("run_campaign", "undo_campaign")


def default_families(configuration: Configuration) -> Tuple[Tuple[str, ...], Dict[str, str]]:
    """The families a campaign draws from when none are named: every campaign family whose faults' ``needs``
    the target meets (:mod:`chaosaitrapp.campaign.catalogue`), and ``{family: why}`` for each one left out."""
    left: Dict[str, str] = {}
    for fault in CATALOGUE:
        if fault.needs and fault.family not in left:
            try:
                registry.resolve(fault.needs)(configuration)
            except ConfigError as exc:
                left[fault.family] = str(exc)
    return tuple(f for f in campaign_families() if f not in left), left


def fault_calls(schedule: Schedule) -> List[ActivityCall]:
    """Each scheduled fault as the activity its own drill would have (what its family's pre-flight reads)."""
    calls = []
    for fault in schedule.faults:
        spec = BY_NAME[fault.kind]
        module, _, func = spec.inject.partition(":")
        calls.append(ActivityCall(f"{fault.id} {fault.kind}", "action", "method", module, func,
                                  spec.inject_args(fault.seconds)))
    return calls


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """An unreadable or unsound schedule; online, a trader not in PAPER mode; each scheduled fault's own
    family's findings (module docstring)."""
    found: List[str] = []
    for call in (c for c in activities if c.func in FUNCS):
        try:
            schedule = read_schedule(str(call.args.get("schedule", "")))
        except ChaosAitrappError as exc:
            return [f"{call.name}: {exc}"]
        offered = schedule.rate * schedule.length_s
        if offered > LISTED_ORDERS:
            try:
                target_database(configuration, secrets)
            except ConfigError:
                return [f"{call.name}: the campaign offers {offered:.0f} orders; above {LISTED_ORDERS} they are followed "
                        "in the target's orders table, since GET /orders may list the newest only: give the "
                        "target's database (the DATABASE_URL secret, or the orders_database setting)"]
        if online:
            try:
                require_paper_target(configuration, secrets)
            except ChaosAitrappError as exc:
                return [str(exc)]
        calls = fault_calls(schedule)
        for family, check in registry.hooks("preflight"):
            if family.name == "campaign":
                continue
            own = [c for c in calls if c.module in family.activity_modules]
            if own:
                found += [f"campaign: {p}" for p in check(own, configuration, secrets, online)]
        break
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The schedule's faults, one line each, and what each family's preview says of them."""
    for call in (c for c in activities if c.func == "run_campaign"):
        try:
            schedule = read_schedule(str(call.args.get("schedule", "")))
        except ChaosAitrappError as exc:
            return [f"campaign: {exc}"]
        lines = [f"campaign seed {schedule.seed}: {len(schedule.faults)} faults over {schedule.length_s:g}s at "
                 f"{schedule.rate:g} orders/s"]
        lines += [f"  {f.id} t={f.start:g}s {f.kind} for {f.seconds:g}s" for f in schedule.faults]
        calls = fault_calls(schedule)
        for family, show in registry.hooks("preview"):
            own = [c for c in calls if c.module in family.activity_modules]
            if own and family.name != "campaign":
                lines += show(own, configuration, secrets)
        return lines
    return []
