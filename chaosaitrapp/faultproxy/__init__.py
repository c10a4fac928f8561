"""What the extension's two fault proxies share: the fault table with its leases
(:mod:`~chaosaitrapp.faultproxy.table`) and the control API the actions talk to
(:mod:`~chaosaitrapp.faultproxy.control`). The proxies themselves are :mod:`chaosaitrapp.broker.proxy`
(Kite-aware HTTP and WebSocket) and :mod:`chaosaitrapp.network.proxy` (plain TCP: Redis, Postgres).
``table`` and ``control`` import nothing else of the extension (a proxy runs next to a real deployment
on its own); :mod:`~chaosaitrapp.faultproxy.client` is the extension's side: the control API's client
and the fault ledger's driver for a proxy fault.
"""
