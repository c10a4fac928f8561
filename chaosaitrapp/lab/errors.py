"""The lab's exceptions, under the extension's tree (so a drill reports them as failed activities)::

    ChaosAitrappError
    ├── LabError               the lab could not be started, stopped or inspected
    │   ├── PortInUse          a port the lab needs is taken (names service and port)
    │   ├── BinaryMissing      redis-server / initdb / postgres not found (names the binary)
    │   └── LabStartTimeout    a service did not answer before the deadline (names it, points at its log)
    └── ConfigError
        ├── UnknownDefect      a defect name the lab does not know
        └── DefectRefused      defects asked for in LIVE mode
"""
from __future__ import annotations

from chaosaitrapp.errors import ChaosAitrappError, ConfigError


class LabError(ChaosAitrappError):
    """The lab could not be started, stopped or inspected."""


class PortInUse(LabError):
    """A port the lab needs is already taken."""


class BinaryMissing(LabError):
    """A program the lab needs is not installed."""


class LabStartTimeout(LabError):
    """A lab service did not answer before its deadline."""


class UnknownDefect(ConfigError):
    """A defect name the lab does not know."""


class DefectRefused(ConfigError):
    """Defects are refused in LIVE mode."""
