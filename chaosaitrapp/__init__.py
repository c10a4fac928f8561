"""chaosaitrapp: a Chaos Toolkit extension for AITRAPP's resilience drills (distribution
``chaostoolkit-aitrapp``).

Probes and actions live one folder per fault family (``dependencies``, ``orders``, ``broker``,
``network``, ``replicas``, ``stress``: each declares itself in its ``family.py``, and
:mod:`chaosaitrapp.registry` lists them) beside the core's (``trader``, ``metrics``); how a fault is
carried out on a sort of deployment lives in ``targets``; the API client in ``api``; what is known of
the deployment in ``deployment``; the evidence and safety controls in ``controls``; pure checkers in
``checks``; the HTML report in ``report``; the reference target in ``lab``; the command line in ``cli``.

Discovery imports its modules when Chaos Toolkit asks (:func:`discover`), never at package import: every
submodule imports this package first, so it imports nothing of the extension itself.
"""
import inspect
from importlib import import_module
from typing import Dict, List

__version__ = "0.2.0"
__all__ = ["__version__", "discover"]

DISTRIBUTION = "chaostoolkit-aitrapp"

CONTROL_MODULES = ["chaosaitrapp.controls.evidence", "chaosaitrapp.controls.safety"]


def discover(discover_system: bool = True) -> dict:
    """Describe this extension for ``chaos discover --no-install chaostoolkit-aitrapp``: every probe
    and action, and the two controls (``"controls"``: module and what it does)."""
    from chaoslib.discovery.discover import initialize_discovery_result  # noqa: PLC0415 - see the module docstring

    result = initialize_discovery_result(DISTRIBUTION, __version__, "aitrapp")
    result["activities"].extend(load_exported_activities())
    result["controls"] = describe_controls()
    return result


def load_exported_activities() -> List[dict]:
    """Every probe and action this extension exports, as chaoslib describes them."""
    from chaoslib.discovery.discover import discover_actions, discover_probes  # noqa: PLC0415 - module docstring

    from chaosaitrapp.registry import activity_modules  # noqa: PLC0415 - see the module docstring

    activities: List[dict] = []
    for module in activity_modules():
        if module.endswith(".actions"):
            activities.extend(discover_actions(module))
        else:
            activities.extend(discover_probes(module))
    return activities


def describe_controls() -> List[Dict[str, str]]:
    """``[{"name", "module", "doc"}]`` of the controls, for discovery and the docs."""
    out = []
    for module_name in CONTROL_MODULES:
        module = import_module(module_name)
        out.append({"name": "aitrapp-" + module_name.rsplit(".", 1)[1], "module": module_name,
                    "doc": inspect.cleandoc(module.__doc__ or "")})
    return out
