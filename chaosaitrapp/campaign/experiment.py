"""The Chaos Toolkit experiment of one campaign, generated beside its schedule (``chaos run`` runs it as any
drill; ``chaos validate`` accepts it): steady state, the campaign, ready again and orders settled, then the
rollbacks that undo whatever a campaign may leave."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

from chaosaitrapp import drill as d
from chaosaitrapp import registry
from chaosaitrapp.campaign.catalogue import BY_NAME
from chaosaitrapp.campaign.schedule import Schedule
from chaosaitrapp.drill import Drill, action

#: The settings every campaign reads, before those of the families its faults come from.
CORE = ("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "rollback_settle")


def campaign_settings(schedule: Schedule) -> List[str]:
    """The setting keys the campaign's experiment reads: the core's, the order source's, each family's."""
    keys = list(CORE)
    families = {"orders"} | {BY_NAME[f.kind].family for f in schedule.faults}
    for family in registry.FAMILIES:
        if family.name in families:
            keys += [s.key for s in family.settings if s.key not in keys]
    return keys


def campaign_experiment(schedule: Schedule, schedule_path: Path) -> Dict[str, Any]:
    """The experiment that plays the schedule in ``schedule_path`` (an absolute path is written)."""
    path = str(Path(schedule_path).resolve())
    kinds = sorted({f.kind for f in schedule.faults})
    drill = Drill(
        "campaign",
        title=f"Campaign seed {schedule.seed}: {len(schedule.faults)} faults over {schedule.length_s:g}s",
        description=(f"A campaign drawn from seed {schedule.seed} over the families {', '.join(schedule.families)} "
                     f"({schedule.origin}): {', '.join(kinds) or 'no fault'}, overlapping as scheduled, while orders "
                     f"arrive at {schedule.rate:g}/s. Judged over the whole history: every acknowledged order once at "
                     "the broker, one placer at a time, fencing tokens never backwards, no order past a lease, "
                     "recovery after each group of faults, nothing left injected. Schedule: " + path),
        tags=("aitrapp", "campaign"),
        settings=tuple(campaign_settings(schedule)),
        defaults={"redis_container": "", "postgres_container": ""},
        steady=("AITRAPP is ready, leading and healthy", (d.READY, d.LEADING, d.HEALTHY)),
        method=(
            d.SNAPSHOT_BEFORE,
            action("run-campaign", "chaosaitrapp.campaign.actions:run_campaign", schedule=path),
            d.READY_AGAIN,
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            action("undo-campaign", "chaosaitrapp.campaign.actions:undo_campaign", schedule=path),
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    )
    table = {s.key: s for s in registry.settings()}
    return d.experiment(drill, table)
