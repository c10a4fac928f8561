"""The order-state family: orders the broker answers 200 and then keeps pending and cancels, rejects, fills in parts,
changes without the book showing it, or fills late (scripted at the broker fault proxy), judged on whether the
trader's view converges to the broker's without ever running ahead of it, and whether its fills equal the broker's."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.orderstates.actions"

ORDER_STATE = Setting("order_state", "ORDER_STATE", "pending_then_cancelled",
                      "what the broker does with the order-state drill's orders: `pending_then_cancelled` (OPEN "
                      "PENDING, then CANCELLED by the exchange), `rejected_after_ack` (200, then REJECTED), "
                      "`partial_fill` (filled in parts, the rest cancelled), `lost_update` (filled, the order book never "
                      "shows it: only asking about the order tells), `late_update` (the fill arrives late)")

FAMILY = Family(
    name="orderstates",
    doc="Kite order states at the broker fault proxy: pending then cancelled, rejected after the 200, partial "
        "fills, lost and late updates",
    activity_modules=(ACTIONS,),
    settings=(
        ORDER_STATE,
        Setting("order_state_s", "ORDER_STATE_S", 2,
                "the order-state drill: seconds until the broker's state changes (pending, validation, a lost or late "
                "update; partial fills: between parts)", "number"),
        Setting("order_state_orders", "ORDER_STATE_ORDERS", 3, "orders sent while the order state is scripted",
                "int"),
        Setting("converge_timeout", "CONVERGE_TIMEOUT", 20,
                "how long after the broker's last word on an order the trader may disagree with it before the "
                "order-state drill fails (seconds)", "number"),
    ),
    kinds=(FaultKind("order_state", checks=("orders_converged", "positions_match_fills"),
                     loaded_checks=("orders_exactly_once",), breaks_steady_state=False, timing="none"),),
    actions=(FaultAction(ACTIONS, "script_order_state", lambda args: "order_state"),),
    checkers={"orders_converged": "chaosaitrapp.checks.orderstates:orders_converged",
              "positions_match_fills": "chaosaitrapp.checks.orderstates:positions_match_fills"},
    seconds_checks=("orders_converged",),
    preflight="chaosaitrapp.orderstates.preflight:problems",
    preview="chaosaitrapp.orderstates.preflight:preview",
    drills="chaosaitrapp.orderstates.drills:DRILLS",
)
