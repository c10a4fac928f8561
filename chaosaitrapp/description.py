"""A deployment described once: the file a team commits next to its compose file, and the lab writes for
itself (``<lab dir>/deployment.json``).

It is a Chaos Toolkit var file (``chaos run --var-file deployment.yaml`` accepts it), JSON or YAML::

    # aitrapp-deployment: 1
    configuration:                       # the settings table, serialized: any setting's key
      api: http://localhost:8000
      redis_target: docker:redis         # how each dependency is stopped, started, frozen
      broker_proxy: http://127.0.0.1:8003
      lock_ttl: 30                       # the service's own lock timing
    secrets:                             # references only, never values
      aitrapp:
        api_key: {type: env, key: API_KEY}
        database_url: {type: env, key: DATABASE_URL}

:func:`load` reads and checks one (keys are settings, secrets are references, no URL carries a password);
:func:`dump` writes one. Which description a drill uses, and how its values meet the environment and
the experiment, is :mod:`chaosaitrapp.deployment.description`'s business.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence
from urllib.parse import urlsplit

import yaml

from chaosaitrapp import registry
from chaosaitrapp.config import SECRET_ENV
from chaosaitrapp.errors import ConfigError

#: The first line a description written by this extension carries (a var file without it is still read
#: when its configuration keys are this extension's settings).
MARKER = "aitrapp-deployment: 1"
#: The secrets a description may reference, and the environment variable each is read from by default.
SECRETS = {"api_key": "API_KEY", "database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}


@dataclass
class Description:
    """One deployment description: ``configuration`` (setting key -> value), ``secrets`` (name ->
    ``{"type": "env", "key": VAR}``), where it was read from (``path``) and who wrote it (``provider``:
    ``lab``, ``target init``, or a person)."""

    configuration: Dict[str, Any] = field(default_factory=dict)
    secrets: Dict[str, Dict[str, str]] = field(default_factory=dict)
    path: Optional[Path] = None
    provider: str = ""

    def secret_values(self) -> Dict[str, str]:
        """The secrets it references, read from the environment now (a reference whose variable is unset
        is left out); never stored."""
        out = {}
        for name, ref in self.secrets.items():
            value = os.environ.get(ref.get("key", ""))
            if value:
                out[name] = value
        return out


def _settings() -> Dict[str, Any]:
    return {s.key: s for s in registry.settings()}


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, str) and "://" in value:
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            raise ConfigError(f"deployment description: {key} carries a password in its URL; reference a secret "
                              "instead (secrets: {aitrapp: {NAME: {type: env, key: VAR}}})", key=key)


def parse(data: Any, where: str = "deployment description") -> Description:
    """A :class:`Description` from already-parsed JSON/YAML ``data``; ConfigError naming the bad key (an
    unknown setting gets a "did you mean", a secret value instead of a reference is refused)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with 'configuration' and 'secrets', got {type(data).__name__}")
    unknown_top = sorted(set(data) - {"configuration", "secrets", "provider"})
    if unknown_top:
        raise ConfigError(f"{where}: unknown top-level key(s) {', '.join(unknown_top)} (configuration, secrets)")
    table = _settings()
    aliases = {s.env.lower(): s.key for s in table.values()}
    configuration: Dict[str, Any] = {}
    for key, value in (data.get("configuration") or {}).items():
        name = str(key).lower()
        name = name if name in table else aliases.get(name)
        if name is None:
            guess = difflib.get_close_matches(str(key).lower(), list(table), n=1, cutoff=0.75)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            raise ConfigError(f"{where}: {key!r} is not a setting{hint}", key=str(key))
        if isinstance(value, Mapping):
            raise ConfigError(f"{where}: {name} must be a plain value (the description is the values themselves)",
                              key=name)
        if name in SECRETS or table[name].env in SECRET_ENV:
            raise ConfigError(f"{where}: {name} is a secret: reference it under 'secrets'", key=name)
        _check_value(name, value)
        configuration[name] = value
    secrets: Dict[str, Dict[str, str]] = {}
    for scope, items in (data.get("secrets") or {}).items():
        entries = {scope: items} if scope in SECRETS or not isinstance(items, Mapping) else items
        for name, ref in entries.items():
            if name not in SECRETS:
                raise ConfigError(f"{where}: unknown secret {name!r} (known: {', '.join(SECRETS)})", key=name)
            if not isinstance(ref, Mapping) or ref.get("type") != "env" or not ref.get("key"):
                raise ConfigError(f"{where}: secret {name} must be a reference {{type: env, key: VAR}}, never a "
                                  "value", key=name)
            secrets[name] = {"type": "env", "key": str(ref["key"])}
    return Description(configuration, secrets, provider=str(data.get("provider") or ""))


def looks_like_description(data: Any) -> bool:
    """True for a var file whose configuration names at least one of this extension's settings."""
    if not isinstance(data, Mapping) or not isinstance(data.get("configuration"), Mapping):
        return False
    table = _settings()
    aliases = {s.env.lower() for s in table.values()}
    return any(str(k).lower() in table or str(k).lower() in aliases for k in data["configuration"])


def read(path: Path) -> Any:
    """The parsed JSON or YAML of ``path``; ConfigError naming the file when it cannot be read or parsed."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"deployment description {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        return json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"deployment description {path}: not valid {'JSON' if str(path).endswith('.json') else 'YAML'}:"
                          f" {str(exc).splitlines()[0][:200]}") from None


def load(path: Path) -> Description:
    """Read and check the description at ``path`` (see :func:`parse`)."""
    found = parse(read(path), f"deployment description {path}")
    found.path = Path(path)
    return found


def dump(description: Description, path: Path, comments: Optional[Mapping[str, str]] = None,
         trailer: Sequence[str] = ()) -> Path:
    """Write ``description`` to ``path`` (YAML, with each setting's meaning as a comment and the ``trailer``
    lines, comments to fill in, after the configuration's values; JSON when the name ends in ``.json``);
    returns the path."""
    body: Dict[str, Any] = {"configuration": dict(description.configuration)}
    if description.secrets:
        body["secrets"] = {"aitrapp": dict(description.secrets)}
    if description.provider:
        body["provider"] = description.provider
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        return path
    table = _settings()
    lines: List[str] = [f"# {MARKER}", "# A deployment description for chaosaitrapp: `chaos run --var-file THIS` or "
                        "`AITRAPP_DEPLOYMENT=THIS`.", "# Environment variables override it; it overrides the "
                        "experiments' defaults. Secrets are references, never values.", "configuration:"]
    for key, value in description.configuration.items():
        note = (comments or {}).get(key) or (table[key].doc if key in table else "")
        if note:
            lines.append(f"  # {note}")
        lines.append(f"  {key}: {json.dumps(value)}")
    lines += list(trailer)
    if description.secrets:
        lines += ["secrets:", "  aitrapp:"]
        lines += [f"    {name}: {{type: env, key: {ref['key']}}}" for name, ref in description.secrets.items()]
    if description.provider:
        lines.append(f"provider: {description.provider}")
    path.write_text("\n".join(lines) + "\n")
    return path
