"""The pre-flight's view of an experiment's configuration (:func:`configuration_problems`): a key that
looks meant for this extension but is not one of its settings (``heartbeat_mx``) is refused with a "did
you mean"; a key that is neither ours nor referenced by any activity is reported; a ``${name}`` that
nothing defines is refused."""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, List, Mapping, Optional, Tuple

from chaosaitrapp import registry

#: Configuration keys with these prefixes are ours: one that no setting has is refused, not noted.
PREFIX_OURS = ("aitrapp_", "chaosaitrapp_")

_REFERENCE = re.compile(r"\$\{([^}]+)\}")


def references(value: Any) -> List[str]:
    """Every ``${name}`` referenced anywhere in ``value`` (an experiment or part of one), in order."""
    found: List[str] = []
    if isinstance(value, str):
        found.extend(_REFERENCE.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(references(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(references(item))
    return found


def canonical_key(key: str) -> Optional[str]:
    """The setting (core or a family's) ``key`` names, by its configuration key or its environment variable,
    in any case; None when it is not one of ours."""
    lowered = str(key).lower()
    for setting in registry.settings():
        if lowered in (setting.key, setting.env.lower()):
            return setting.key
    return None


def _close_match(key: str, candidates: Iterable[str]) -> Optional[str]:
    matches = difflib.get_close_matches(key.lower(), [c.lower() for c in candidates], n=1, cutoff=0.8)
    return matches[0] if matches else None


def configuration_problems(experiment: Mapping[str, Any],
                           configuration: Optional[Mapping[str, Any]] = None) -> Tuple[List[str], List[str]]:
    """``(problems, notes)`` about an experiment's configuration, for the pre-flight.

    Problems (the drill is refused): a key that reads like one of ours but is not (a typo:
    "did you mean"), a key with our ``aitrapp_`` prefix that no setting has, a ``${name}`` that no
    configuration key or secret defines. Notes (reported, not refused): keys that are neither ours
    nor referenced by any activity (another extension's, or unused).
    """
    declared = dict(experiment.get("configuration") or {})
    if configuration:
        declared.update({k: v for k, v in configuration.items() if k not in declared})
    secrets = experiment.get("secrets") or {}
    secret_names = {name for scope in secrets.values() if isinstance(scope, Mapping) for name in scope}
    referenced = set(references({k: v for k, v in experiment.items() if k != "configuration"}))
    table = registry.settings()
    ours = {s.key for s in table} | {s.env for s in table}
    problems: List[str] = []
    notes: List[str] = []
    for key in declared:
        if canonical_key(key) or key in referenced:
            continue
        guess = _close_match(key, list(ours) + sorted(referenced))
        if guess:
            proper = canonical_key(guess) or guess
            problems.append(f"unknown configuration key {key!r}: did you mean {proper!r}?")
        elif key.lower().startswith(PREFIX_OURS):
            problems.append(f"unknown configuration key {key!r}: chaosaitrapp has no such setting "
                            f"(settings: {', '.join(sorted(s.key for s in table))})")
        else:
            notes.append(f"configuration key {key!r} is not a chaosaitrapp setting and no activity references it")
    for name in sorted(set(references(experiment)) - set(declared) - secret_names):
        if canonical_key(name) and canonical_key(name) in declared:
            continue
        guess = _close_match(name, list(declared) + sorted(secret_names))
        hint = f" (did you mean ${{{guess}}}?)" if guess else ""
        problems.append(f"${{{name}}} is referenced but no configuration key or secret defines it{hint}")
    return problems, notes


