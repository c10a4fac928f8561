"""Scrubbing secrets out of what the reports write (HTML, JUnit XML, JSON summaries).

:func:`scrub_text` replaces with ``***``: every given secret (raw, HTML-escaped and
JSON-escaped forms), the value after an ``X-API-Key`` / ``api_key`` / ``api-key`` label (header,
query string, dict or JSON, raw or HTML-escaped), and the password in ``scheme://user:password@``
URLs (``postgresql://trader:...@``); :func:`scrub_data` also masks the values of
credential-named keys in structured data. Secrets shorter than 4 characters are only replaced where
they stand alone as a word, so a one-letter "secret" cannot shred the page's markup.
:func:`defang_urls` makes ``http://`` and friends non-URLs (a zero-width space between the
slashes) so a report never carries a URL a browser or scanner would follow.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any, Iterable, List

MASK = "***"
_QUOTE = r"(?:&quot;|&#x27;|&#39;|[\"'])"
_KEY_VALUE = re.compile(
    r"(?i)(x-api-key|api[_-]key)(" + _QUOTE + r"?\s*[:=]\s*" + _QUOTE + r"?\s*)([^\s\"'<>&,;{}\[\]()]+)"
)
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s<>\"']+:)([^@\s<>\"'/]+)(@)")
_SECRET_KEYS = re.compile(r"(?i)^(x-api-key|api[_-]?key|api_secret_key|password|passwd|secret|token|access_token)$")
_SCHEME = re.compile(r"(?i)\b(https?|wss?|ftp|file):/{2}")
ZWSP = "&#8203;"


def _forms(secret: str) -> List[str]:
    """The ways ``secret`` can appear in text we write."""
    forms = {secret, html.escape(secret), html.escape(secret, quote=False), json.dumps(secret)[1:-1]}
    forms |= {html.escape(f) for f in list(forms)}
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known secrets, API-key values and URL passwords replaced by ``***``."""
    for secret in sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True):
        for form in _forms(secret):
            if len(secret) >= 4:
                text = text.replace(form, MASK)
            else:
                text = re.sub(r"(?<![\w&#])" + re.escape(form) + r"(?!\w)", MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def scrub_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A deep copy of a JSON-like value with :func:`scrub_text` applied to every string (keys
    too), and the string value of any key named like a credential (``X-API-Key``, ``api_key``,
    ``password``, ``secret``, ``token``, ...) replaced by ``***``."""
    secrets = list(secrets)
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): MASK if isinstance(v, str) and v and _SECRET_KEYS.match(str(k))
                else scrub_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, secrets) for v in value]
    return value


def defang_urls(text: str) -> str:
    """``http://x`` -> ``http:/&#8203;/x`` (reads the same, is no longer a URL); HTML output only."""
    return _SCHEME.sub(lambda m: m.group(1) + ":/" + ZWSP + "/", text)
