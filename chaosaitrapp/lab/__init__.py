"""The lab: a reference AITRAPP-compatible target (trader API, broker simulator) with real
Redis and real Postgres, run as local processes or Docker containers on loopback."""
