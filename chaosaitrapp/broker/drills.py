"""The broker family's drills, by what is particular to each (:mod:`chaosaitrapp.drill`); their
experiment JSON is generated from these (``make docs``)."""
from chaosaitrapp import drill as d
from chaosaitrapp.drill import Drill, action, probe

ORDERS_ARRIVE_DURING_THE_FAULT = action("orders-arrive-during-the-fault", "chaosaitrapp.orders.actions:burst_orders",
                                        count="${broker_orders}", rate=20, duplicate_every=0,
                                        injector_command="${order_injector}")
CLEAR_BROKER_FAULTS = action("clear-broker-faults", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30)

DRILLS = (
    Drill(
        "broker_token_expiry",
        title="Broker token expiry: AITRAPP refreshes its Kite session once and loses no order",
        description=("Kite access tokens expire every morning (HTTP 403 TokenException) and on a login elsewhere. At "
                     "the broker fault proxy between AITRAPP and Kite the session's token is invalidated (every call "
                     "with it answers 403; a token obtained afterwards passes, the old one stays refused) and, while "
                     "it is, the reply to DROP_REPLIES order placements is lost after the broker accepted them; "
                     "BROKER_ORDERS orders arrive meanwhile. The target must refresh its session "
                     "(trader_retries_total{type=\"token_refresh\"} rises, at most 3 times: no refresh storm), keep "
                     "/health up, place every order exactly once (the broker's placements by tag against its /orders "
                     "and Postgres: none lost silently, none duplicated by a blind retry) or refuse it visibly, and "
                     "be ready again within the deadline."),
        tags=("aitrapp", "broker", "kite", "token"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "drop_replies"),
        steady=("AITRAPP is ready, healthy, fresh and streaming market data", (
            d.READY,
            d.HEALTHY,
            d.HEARTBEATS_FRESH,
            d.STREAMING,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("invalidate-the-access-token", "chaosaitrapp.broker.actions:inject_broker_fault",
                   kind="token_invalidated", duration=120),
            action("lose-placement-replies", "chaosaitrapp.broker.actions:inject_broker_fault", kind="drop_reply",
                   duration=120, params={"count": "${drop_replies}", "hold_s": 10}),
            ORDERS_ARRIVE_DURING_THE_FAULT,
            probe("token-refreshed", "chaosaitrapp.broker.probes:wait_token_refreshed", increase=1,
                  timeout="${detect_timeout}", interval=0.05),
            d.ORDERS_SETTLED,
            probe("api-stays-healthy", "chaosaitrapp.trader.probes:wait_healthy", timeout=5),
            probe("snapshot-during-the-expiry", "chaosaitrapp.evidence.probes:snapshot_metrics", label="after_stop"),
            action("end-the-expiry", "chaosaitrapp.broker.actions:clear_broker_faults", timeout=30),
            d.READY_AGAIN,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            CLEAR_BROKER_FAULTS,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
    Drill(
        "websocket_reconnect",
        title="Market-data WebSocket loss: AITRAPP notices a dead feed, trades nothing on it, and streams again",
        description=("The KiteTicker socket is killed at the broker fault proxy, as WS_FAULT says: close (reconnects "
                     "are refused with a 403 handshake, then every socket is closed with WS_CLOSE_CODE; the target "
                     "must see marketdata_connected false and reconnect by itself once reconnects are accepted "
                     "again), stall (the socket stays open and silent, no ticks and no heartbeats: a blackhole the "
                     "client does not notice; it ends when the fault is cleared) or restart (the same blackhole, "
                     "remedied by POST /market-data/restart). The market-data heartbeat must pass HEARTBEAT_MAX and "
                     "/ready answer 503 within the deadline; BROKER_ORDERS orders offered on the dead feed must not "
                     "reach the broker until it is fresh again, and then each exactly once; after the restore every "
                     "subscribed instrument must tick again (resubscribed) and /ready answer 200 within the deadline."),
        tags=("aitrapp", "broker", "kite", "websocket", "market-data"),
        settings=("api", "heartbeat_max", "wait_ready_timeout", "detect_timeout", "pause_on_fail", "broker_proxy",
                  "broker_orders", "order_injector", "rollback_settle", "ws_fault", "ws_close_code"),
        steady=("AITRAPP is ready, healthy, fresh and streaming market data", (
            d.READY,
            d.HEALTHY,
            d.HEARTBEATS_FRESH,
            d.STREAMING,
        )),
        method=(
            d.SNAPSHOT_BEFORE,
            action("kill-the-market-data-feed", "chaosaitrapp.broker.actions:break_market_data", mode="${ws_fault}",
                   code="${ws_close_code}", duration=120),
            probe("the-target-notices-the-dead-feed", "chaosaitrapp.trader.probes:wait_feed_loss_noticed",
                  timeout="${detect_timeout}", interval=0.05),
            ORDERS_ARRIVE_DURING_THE_FAULT,
            d.READY_ANSWERS_503,
            probe("api-stays-healthy-on-the-dead-feed", "chaosaitrapp.trader.probes:stays_healthy", duration=2,
                  interval=0.1),
            d.SNAPSHOT_AFTER_STOP,
            action("restore-the-feed", "chaosaitrapp.broker.actions:restore_market_data", mode="${ws_fault}",
                   timeout=60),
            d.READY_AGAIN,
            probe("market-data-connected-again", "chaosaitrapp.trader.probes:wait_market_data", connected=True,
                  timeout="${wait_ready_timeout}", interval=0.05),
            probe("instruments-ticking-again", "chaosaitrapp.broker.probes:wait_feed_resubscribed",
                  timeout="${wait_ready_timeout}", interval=0.1),
            d.ORDERS_SETTLED,
            d.SNAPSHOT_AFTER_RECOVERY,
        ),
        rollbacks=(
            CLEAR_BROKER_FAULTS,
            d.CONFIRM_READY,
            d.ABORT_ON_FAILURE,
        ),
    ),
)
