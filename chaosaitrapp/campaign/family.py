"""The campaign family: a seeded schedule of overlapping faults from the other families, played while orders
flow, judged over the whole order history (:mod:`chaosaitrapp.checks.campaign`). Its faults are injected by
their own families' actions; its one fault action is the campaign itself."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind

ACTIONS = "chaosaitrapp.campaign.actions"
CHECKS = "chaosaitrapp.checks.campaign"

FAMILY = Family(
    name="campaign",
    doc="seeded schedules of overlapping faults over one order history (aitrapp-chaos campaign)",
    activity_modules=(ACTIONS,),
    kinds=(
        FaultKind("campaign_schedule", checks=("orders_exactly_once", "one_placer_at_a_time", "fencing_tokens_monotonic",
                                      "campaign_faults_recovered", "campaign_no_order_past_lease",
                                      "campaign_nothing_left")),
    ),
    actions=(FaultAction(ACTIONS, "run_campaign", lambda args: "campaign_schedule"),),
    checkers={"campaign_faults_recovered": f"{CHECKS}:campaign_faults_recovered",
              "campaign_no_order_past_lease": f"{CHECKS}:campaign_no_order_past_lease",
              "campaign_nothing_left": f"{CHECKS}:campaign_nothing_left"},
    preflight="chaosaitrapp.campaign.preflight:problems",
    preview="chaosaitrapp.campaign.preflight:preview",
)
