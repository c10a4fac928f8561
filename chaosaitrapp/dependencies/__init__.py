"""AITRAPP's dependencies (Redis, Postgres): stop and start them through a target driver."""
