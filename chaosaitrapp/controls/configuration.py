"""The pre-flight's view of an experiment's configuration (:func:`configuration_problems`): a key that
looks meant for this extension but is not one of its settings (``heartbeat_mx``) is refused with a "did
you mean"; a key that is neither ours nor referenced by any activity is reported; a ``${name}`` that
nothing defines is refused."""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, List, Mapping, Optional, Tuple

from chaosaitrapp.config import _BY_KEY, _PREFIX_OURS, SETTINGS, canonical_key

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
    ours = set(_BY_KEY) | {s.env for s in SETTINGS}
    problems: List[str] = []
    notes: List[str] = []
    for key in declared:
        if canonical_key(key) or key in referenced:
            continue
        guess = _close_match(key, list(ours) + sorted(referenced))
        if guess:
            proper = canonical_key(guess) or guess
            problems.append(f"unknown configuration key {key!r}: did you mean {proper!r}?")
        elif key.lower().startswith(_PREFIX_OURS):
            problems.append(f"unknown configuration key {key!r}: chaosaitrapp has no such setting "
                            f"(settings: {', '.join(sorted(_BY_KEY))})")
        else:
            notes.append(f"configuration key {key!r} is not a chaosaitrapp setting and no activity references it")
    for name in sorted(set(references(experiment)) - set(declared) - secret_names):
        if canonical_key(name) and canonical_key(name) in declared:
            continue
        guess = _close_match(name, list(declared) + sorted(secret_names))
        hint = f" (did you mean ${{{guess}}}?)" if guess else ""
        problems.append(f"${{{name}}} is referenced but no configuration key or secret defines it{hint}")
    return problems, notes


