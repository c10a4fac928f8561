"""Remove secrets from anything about to be written: logs, journals, timelines, reports."""
from __future__ import annotations

import re
from typing import Any, Iterable

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?P<at>@)")
_KEY_PARAM = re.compile(r"(?i)(?P<k>api_key=|x-api-key[\"']?\s*[:=]\s*[\"']?)(?P<v>[^&\s\"',}]+)")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret, URL password and API-key value replaced by ``***``."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("scheme") + MASK + m.group("at"), text)
    return _KEY_PARAM.sub(lambda m: m.group("k") + MASK, text)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Deep copy of a JSON-like value with :func:`redact_text` applied to every string."""
    secrets = list(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    return value
