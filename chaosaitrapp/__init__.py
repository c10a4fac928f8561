"""chaosaitrapp: a Chaos Toolkit extension for AITRAPP's resilience drills.

Probes and actions live one folder per thing they touch (``trader``, ``metrics``,
``dependencies``, ``orders``); drivers that stop and start a dependency live in
``targets``; the evidence and safety controls in ``controls``; pure checkers in
``checks``; the HTML report in ``report``; the reference target in ``lab``.
"""
from typing import List

__version__ = "0.1.0"
__all__ = ["__version__", "discover"]


def discover(discover_system: bool = True) -> dict:
    """Describe this extension's activities for ``chaos discover chaosaitrapp``."""
    from chaoslib.discovery.discover import initialize_discovery_result

    result = initialize_discovery_result("chaosaitrapp", __version__, "aitrapp")
    result["activities"].extend(load_exported_activities())
    return result


def load_exported_activities() -> List[dict]:
    """Every probe and action this extension exports, as chaoslib describes them."""
    from chaoslib.discovery.discover import discover_actions, discover_probes

    activities: List[dict] = []
    for module in ACTIVITY_MODULES:
        if module.endswith(".actions"):
            activities.extend(discover_actions(module))
        else:
            activities.extend(discover_probes(module))
    return activities


ACTIVITY_MODULES = [
    "chaosaitrapp.trader.probes",
    "chaosaitrapp.trader.actions",
    "chaosaitrapp.metrics.probes",
    "chaosaitrapp.dependencies.probes",
    "chaosaitrapp.dependencies.actions",
    "chaosaitrapp.orders.probes",
    "chaosaitrapp.orders.actions",
    "chaosaitrapp.evidence.probes",
]
