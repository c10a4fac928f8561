"""The extension's exceptions, all ``chaoslib.exceptions.ActivityFailed`` so Chaos Toolkit
records them as failed activities with their message::

    ChaosAitrappError (ActivityFailed)
    ├── TargetError            a dependency could not be found, stopped, started or reached
    │   └── TargetNotFound     no container/process/lab service by that name
    ├── ApiError               the AITRAPP API was unreachable, refused us (401) or answered nonsense
    ├── MetricsError           /metrics or Prometheus unreachable, malformed, or a metric missing
    ├── ConditionTimeout       a wait_* deadline passed before its condition held
    ├── GuardRefused           a safety guard refused the action (LIVE mode, host not allowed)
    └── ConfigError            a bad experiment value (negative duration, unknown target scheme)

Every error carries what was seen against what was expected in its message, and the
context as attributes; none ever carries a secret.

The lab's own services (trader, broker) import parts of this package but run without Chaos
Toolkit installed: then the tree hangs from ``Exception`` instead of ``ActivityFailed``.
"""
from __future__ import annotations

from typing import Any

try:
    from chaoslib.exceptions import ActivityFailed
except ImportError:  # the lab's services run without Chaos Toolkit
    class ActivityFailed(Exception):  # type: ignore[no-redef]
        """Stand-in for ``chaoslib.exceptions.ActivityFailed`` when Chaos Toolkit is absent."""


class ChaosAitrappError(ActivityFailed):
    """Base class: a message for humans, keyword context for programs.

    ``fatal`` errors end a wait at once (waiting longer cannot help): refusals, bad values, 401s.
    """

    fatal = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.context = context
        if context.get("fatal"):
            self.fatal = True


class TargetError(ChaosAitrappError):
    """A dependency could not be stopped, started, inspected or reached."""


class TargetNotFound(TargetError):
    """The named container, process or lab service does not exist."""


class ApiError(ChaosAitrappError):
    """The AITRAPP API was unreachable, rejected the request or answered malformed data."""


class MetricsError(ChaosAitrappError):
    """Metrics could not be scraped or parsed, or the requested metric is missing."""


class ConditionTimeout(ChaosAitrappError):
    """A wait's deadline passed before its condition held."""


class GuardRefused(ChaosAitrappError):
    """A safety guard refused to let the action run."""

    fatal = True


class ConfigError(ChaosAitrappError):
    """An experiment value is invalid (named in the message)."""

    fatal = True
