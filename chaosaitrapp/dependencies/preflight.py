"""The dependencies family's pre-flight: every dependency the experiment stops or starts names a known
dependency and target (offline), and every one it stops runs before the drill (online)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall
from chaosaitrapp.dependencies.drivers import dependency_driver
from chaosaitrapp.errors import ChaosAitrappError


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """Bad dependency names and target strings; with ``online``, a dependency the method stops that is not
    running (or cannot be inspected) before the drill."""
    found: List[str] = []
    for call in activities:
        if not call.func.endswith("_dependency"):
            continue
        try:
            driver = dependency_driver(call.args.get("dependency", "redis"), call.args.get("target", ""), configuration)
        except ChaosAitrappError as exc:
            found.append(f"activity {call.name!r}: {exc}")
            continue
        if not online or call.type != "action" or call.func != "stop_dependency":
            continue
        try:
            if not driver.is_running():
                found.append(f"activity {call.name!r}: {driver.describe()} is not running before the drill")
        except ChaosAitrappError as exc:
            found.append(f"activity {call.name!r}: {exc}")
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """What the drill stops and starts: each dependency's resolved target (a process as it runs now: its
    command and port; never its environment)."""
    lines: List[str] = []
    for call in activities:
        if call.func != "stop_dependency":
            continue
        dependency = call.args.get("dependency", "redis")
        try:
            driver = dependency_driver(dependency, call.args.get("target", ""), configuration)
            capture = getattr(driver, "capture", None)  # a process named by its pidfile: read how it runs
            if capture is not None:
                capture()
        except ChaosAitrappError as exc:
            lines.append(f"stops {dependency}: cannot be resolved: {exc}")
            continue
        how = f"{driver.describe()}"
        argv = getattr(driver, "argv", None)
        if argv:
            how += f", started again as `{' '.join(argv[:1])} ...`" + (f" on port {driver.port}" if driver.port else "")
        lines.append(f"stops {dependency}: {how}")
    return lines
