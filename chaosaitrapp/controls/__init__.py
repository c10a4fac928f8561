"""Chaos Toolkit controls: ``evidence`` (timeline, seed log, checks, verdict, report) and
``safety`` (pre-flight validation, leftover-fault cleanup, guards)."""
