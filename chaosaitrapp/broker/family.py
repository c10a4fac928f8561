"""The broker family: faults at the Kite-aware broker fault proxy between the target and its broker
(session, REST and market-data faults), judged on the market-data feed's timing."""
from chaosaitrapp.declare import Family, FaultAction, FaultKind, Setting

ACTIONS = "chaosaitrapp.broker.actions"
FEED = "feed"
#: Orders arriving during a broker fault: each is placed exactly once (or visibly refused).
ONCE = ("orders_exactly_once",)
#: A dead market-data feed: no order may reach the broker while it is dead.
DEAD_FEED = ("no_order_on_stale_feed",) + ONCE


def _market_data_kind(args) -> str:
    return "broker_ws_close" if args.get("mode", "close") == "close" else "broker_ws_stall"


BROKER_PROXY = Setting("broker_proxy", "BROKER_PROXY", None,
                       "control URL of the broker fault proxy the target's Kite roots point at (default: the lab's)", "url")
BROKER_PROXY_TARGET = Setting("broker_proxy_target", "BROKER_PROXY_TARGET", None,
                              "how to start the broker fault proxy again if it died with a fault in it: "
                              "`process:PIDFILE` (restarted as it ran), `docker:NAME` (its container) or `lab:broker_proxy`")

FAMILY = Family(
    name="broker",
    doc="broker session, REST and market-data faults at the broker fault proxy",
    activity_modules=("chaosaitrapp.broker.probes", ACTIONS),
    settings=(
        BROKER_PROXY,
        BROKER_PROXY_TARGET,
        Setting("broker_orders", "BROKER_ORDERS", 5,
                "orders sent while a broker fault is in place (the broker drills)", "int"),
        Setting("drop_replies", "DROP_REPLIES", 1,
                "the token drill: how many placement replies are lost during the expiry (the order reaches the "
                "broker)", "int"),
        Setting("ws_fault", "WS_FAULT", "close",
                "the WebSocket drill's variant: `close` (closed, reconnects refused until detected), `stall` "
                "(blackholed), `restart` (blackholed, remedied by `POST /market-data/restart`)"),
        Setting("ws_close_code", "WS_CLOSE_CODE", 1006,
                "the close variant's close code: 1000, 1006 (dropped) or 1011", "int"),
    ),
    kinds=(
        # Session faults: the target refreshes (boundedly) and stays, or is again, ready.
        FaultKind("broker_token_invalidated", checks=("token_refresh_bounded", "time_to_recover_ready", "flaps"),
                  loaded_checks=ONCE, timing=FEED),
        FaultKind("broker_rate_limit", checks=("time_to_recover_ready",), loaded_checks=ONCE,
                  breaks_steady_state=False, timing=FEED),
        FaultKind("broker_server_error", checks=("time_to_recover_ready",), loaded_checks=ONCE,
                  breaks_steady_state=False, timing=FEED),
        FaultKind("broker_latency", checks=("time_to_recover_ready",), loaded_checks=ONCE,
                  breaks_steady_state=False, timing=FEED),
        FaultKind("broker_drop_reply", checks=("time_to_recover_ready",), loaded_checks=ONCE,
                  breaks_steady_state=False, timing=FEED),
        FaultKind("broker_partition", breaks_steady_state=False, timing=FEED),
        # Market-data faults: the feed goes stale (503), comes back by itself, every instrument ticks again.
        FaultKind("broker_ws_close", checks=("md_disconnect_seen", "time_to_detect_ready", "time_to_recover_ready",
                                             "feed_resubscribed", "flaps"), loaded_checks=DEAD_FEED, timing=FEED),
        FaultKind("broker_ws_stall", checks=("time_to_detect_ready", "time_to_recover_ready", "feed_resubscribed",
                                             "flaps"), loaded_checks=DEAD_FEED, timing=FEED),
        FaultKind("broker_ws_refuse", checks=("time_to_recover_ready",), breaks_steady_state=False, timing=FEED),
        FaultKind("broker_ws_drop_subscriptions", checks=("time_to_detect_ready", "time_to_recover_ready",
                                                          "feed_resubscribed"), loaded_checks=DEAD_FEED, timing=FEED),
    ),
    actions=(FaultAction(ACTIONS, "inject_broker_fault", lambda args: f"broker_{args.get('kind')}"),
             FaultAction(ACTIONS, "break_market_data", _market_data_kind)),
    checkers={"token_refresh_bounded": "chaosaitrapp.checks.broker:token_refresh_bounded",
              "no_order_on_stale_feed": "chaosaitrapp.checks.feed:no_order_on_stale_feed",
              "md_disconnect_seen": "chaosaitrapp.checks.feed:md_disconnect_seen",
              "feed_resubscribed": "chaosaitrapp.checks.feed:feed_resubscribed"},
    drivers={"broker_proxy": "chaosaitrapp.faultproxy.client:ProxyFaultDriver"},
    preflight="chaosaitrapp.broker.preflight:problems",
    preview="chaosaitrapp.broker.preflight:preview",
    evidence="chaosaitrapp.broker.evidence:collect",
    seconds_checks=("feed_resubscribed", "md_disconnect_seen"),
    drills="chaosaitrapp.broker.drills:DRILLS",
)
