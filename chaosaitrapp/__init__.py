"""chaosaitrapp: a Chaos Toolkit extension for AITRAPP's resilience drills (distribution
``chaostoolkit-aitrapp``).

Probes and actions live one folder per thing they touch (``trader``, ``metrics``,
``dependencies``, ``orders``, ``broker``: the path to the broker, through the fault proxy that
``broker/proxy`` implements; ``network``: partitions, through the TCP fault proxy of ``network/proxy``
or kernel rules; ``faultproxy`` is what both proxies share); drivers that stop and start a dependency live in ``targets``; the
evidence and safety controls in ``controls``; pure checkers in ``checks``; the HTML report in
``report``; the reference target in ``lab``; the command line in ``cli``.
"""
from typing import Dict, List

__version__ = "0.2.0"
__all__ = ["__version__", "discover"]

DISTRIBUTION = "chaostoolkit-aitrapp"

ACTIVITY_MODULES = [
    "chaosaitrapp.trader.probes",
    "chaosaitrapp.trader.actions",
    "chaosaitrapp.metrics.probes",
    "chaosaitrapp.dependencies.probes",
    "chaosaitrapp.dependencies.actions",
    "chaosaitrapp.orders.probes",
    "chaosaitrapp.orders.actions",
    "chaosaitrapp.broker.probes",
    "chaosaitrapp.broker.actions",
    "chaosaitrapp.network.probes",
    "chaosaitrapp.network.actions",
    "chaosaitrapp.replicas.probes",
    "chaosaitrapp.replicas.actions",
    "chaosaitrapp.stress.probes",
    "chaosaitrapp.stress.actions",
    "chaosaitrapp.evidence.probes",
]

CONTROL_MODULES = ["chaosaitrapp.controls.evidence", "chaosaitrapp.controls.safety"]


def discover(discover_system: bool = True) -> dict:
    """Describe this extension for ``chaos discover --no-install chaostoolkit-aitrapp``: every probe
    and action, and the two controls (``"controls"``: module and what it does)."""
    from chaoslib.discovery.discover import initialize_discovery_result

    result = initialize_discovery_result(DISTRIBUTION, __version__, "aitrapp")
    result["activities"].extend(load_exported_activities())
    result["controls"] = describe_controls()
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


def describe_controls() -> List[Dict[str, str]]:
    """``[{"name", "module", "doc"}]`` of the controls, for discovery and the docs."""
    import inspect
    from importlib import import_module

    out = []
    for module_name in CONTROL_MODULES:
        module = import_module(module_name)
        out.append({"name": "aitrapp-" + module_name.rsplit(".", 1)[1], "module": module_name,
                    "doc": inspect.cleandoc(module.__doc__ or "")})
    return out
