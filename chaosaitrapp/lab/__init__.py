"""The lab: a reference AITRAPP-compatible target (trader API, broker simulator) with real
Redis and real Postgres, run as local processes or Docker containers on loopback.

Layout::

    state.py        lab.json: LabState / ServiceSpec (what runs and how to restart it)
    profiles.py     timing profiles: aitrapp (the real service's timings) and fast (default)
    defects.py      defects a lab can be started with on purpose (never_pause, ready_lies, ...)
    errors.py       LabError, PortInUse, BinaryMissing, LabStartTimeout, UnknownDefect, DefectRefused
    cli.py          add_lab_parser(): ``aitrapp-chaos lab up|down|status|logs``
    trader/         ``python -m chaosaitrapp.lab.trader``: the AITRAPP-compatible FastAPI service
    broker/         ``python -m chaosaitrapp.lab.broker``: Kite-like broker simulator + tick WebSocket
    runtime/        lab_up / lab_down / lab_status / lab_logs (processes, Postgres cluster, Docker)
"""
