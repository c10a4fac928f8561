"""Which deployment description a drill uses, and how its values meet the environment and the experiment.

Where it comes from, first found wins:

1. ``$AITRAPP_DEPLOYMENT``: the path of a description (:mod:`chaosaitrapp.description`);
2. a ``--var-file`` of the ``chaos run`` that is a description (Chaos Toolkit itself passes on only the
   keys an experiment declares; the whole file is read here, so no experiment has to declare every key);
3. the description a target kind keeps for the drill's API (the lab writes one for itself on
   ``lab up``: :func:`chaosaitrapp.targets.lab.lab_description`).

Precedence, key by key: an explicit environment variable or ``--var`` > the description > the
experiment's own defaults. A description value also gives way where its setting says so
(:attr:`chaosaitrapp.declare.Setting.yields_to`: an explicitly named Redis container beats the
description's Redis target). :func:`apply` writes the description's values into the run's
``configuration`` (the dict Chaos Toolkit hands every activity) and its secrets, read from their
references now, into this process's memory (:func:`chaosaitrapp.config.provide_secrets`: Chaos Toolkit
hands secrets only to activities that name a scope, so they are kept beside the configuration instead).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, MutableMapping, Optional, Sequence

from chaosaitrapp import registry
from chaosaitrapp.config import core_setting, provide_secrets, value
from chaosaitrapp.description import Description, load, looks_like_description, read
from chaosaitrapp.errors import ConfigError

DEPLOYMENT_ENV = "AITRAPP_DEPLOYMENT"


@dataclass
class Applied:
    """What :func:`apply` did: the description used (``path``, ``provider``), the keys it set, the keys it
    left to an explicit value, and the secrets it resolved (names only)."""

    path: Optional[str] = None
    provider: str = ""
    applied: List[str] = field(default_factory=list)
    overridden: List[str] = field(default_factory=list)
    secrets: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the evidence."""
        if self.path is None:
            return "no deployment description: settings from the environment and the experiment"
        text = f"deployment description {self.path}" + (f" ({self.provider})" if self.provider else "")
        text += f": {', '.join(self.applied) or 'nothing'} from it"
        if self.overridden:
            text += f"; {', '.join(self.overridden)} given explicitly instead"
        return text


def var_files(argv: Optional[Sequence[str]] = None) -> List[Path]:
    """The ``--var-file`` paths of this process's command line (``chaos run --var-file F``)."""
    args = list(sys.argv if argv is None else argv)
    found = []
    for index, arg in enumerate(args):
        if arg == "--var-file" and index + 1 < len(args):
            found.append(Path(args[index + 1]))
        elif arg.startswith("--var-file="):
            found.append(Path(arg.split("=", 1)[1]))
    return found


def cli_vars(argv: Optional[Sequence[str]] = None) -> List[str]:
    """The keys given with ``--var key=value`` on this process's command line (lower-case)."""
    args = list(sys.argv if argv is None else argv)
    keys = []
    for index, arg in enumerate(args):
        value = args[index + 1] if arg == "--var" and index + 1 < len(args) else \
            arg.split("=", 1)[1] if arg.startswith("--var=") else None
        if value and "=" in value:
            keys.append(value.split("=", 1)[0].strip().lower())
    return keys


def find(configuration: Optional[MutableMapping[str, Any]] = None,
         argv: Optional[Sequence[str]] = None) -> Optional[Description]:
    """The description this drill uses (module docstring), or None; ConfigError for one that is named but
    cannot be read or checked (a drill told to use a description never runs without it)."""
    named = os.environ.get(DEPLOYMENT_ENV)
    if named:
        return load(Path(named))
    for path in var_files(argv):
        if path.is_file() and looks_like_description(read(path)):
            return load(path)
    api = str(value(configuration, core_setting("api")) or "").rstrip("/")
    for kind in registry.TARGET_KINDS:
        if kind.description:
            path = registry.resolve(kind.description)(api)
            if path is not None:
                return load(Path(path))
    return None


def explicit_keys(argv: Optional[Sequence[str]] = None) -> List[str]:
    """The settings given explicitly: by their environment variable, or with ``--var``."""
    given = set(cli_vars(argv))
    out = []
    for setting in registry.settings():
        if os.environ.get(setting.env) not in (None, "") or setting.key in given or setting.env.lower() in given:
            out.append(setting.key)
    return out


def apply(configuration: Optional[MutableMapping[str, Any]], secrets: Optional[MutableMapping[str, Any]] = None,
          argv: Optional[Sequence[str]] = None) -> Applied:
    """Write the description's values into ``configuration`` (in place) and keep its secrets in memory
    (``secrets``, Chaos Toolkit's, is not where activities would find them), with the precedence of the module
    docstring; returns what was done."""
    found = find(configuration, argv)
    if found is None or configuration is None:
        return Applied()
    explicit = set(explicit_keys(argv))
    table = {s.key: s for s in registry.settings()}
    done = Applied(str(found.path), found.provider)
    for key, given in found.configuration.items():
        setting = table[key]
        if key in explicit or explicit & set(setting.yields_to):
            done.overridden.append(key)
            continue
        for spelled in [k for k in configuration if str(k).lower() == setting.env.lower() and k != key]:
            configuration.pop(spelled)  # one spelling: the description's value under the setting's key
        configuration[key] = given
        done.applied.append(key)
    values = found.secret_values()
    provide_secrets(values)
    for kind in registry.TARGET_KINDS:
        if kind.secrets and found.provider == kind.scheme:
            given = registry.resolve(kind.secrets)(found)
            provide_secrets(given, scrub=False)  # the target kind's own default login, public; its URL is masked
            values = {**given, **values}
    done.secrets = sorted(values)
    return done


def describe_source(configuration: Optional[MutableMapping[str, Any]] = None) -> str:
    """Where this drill's description comes from, for ``doctor`` (never raises: a bad one says why)."""
    try:
        found = find(configuration)
    except ConfigError as exc:
        return f"a deployment description that cannot be used: {exc}"
    if found is None:
        return f"no deployment description (set {DEPLOYMENT_ENV}, or give one with chaos run --var-file)"
    return f"deployment description {found.path}" + (f" ({found.provider})" if found.provider else "")
