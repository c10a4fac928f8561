"""The one scrubber: every secret is removed from anything this package writes.

Used for the journal, the timeline, the seed log, the metrics snapshots, the HTML reports, the
JUnit and JSON outputs, the fault ledger, the watchdog log, Chaos Toolkit's own log (through
:class:`ScrubFilter`) and the lab's state. What it removes (replaced by ``***``):

- every *known* secret handed to it, in every form it can take in our outputs: raw,
  HTML-escaped, JSON-escaped and percent-encoded; a long secret (:data:`ANYWHERE_LEN` characters and more:
  a token, a key) wherever it appears, a shorter one where it stands as a whole token (between spaces,
  quotes, ``=``, ``:``, ``,``, brackets...), so a password that is an ordinary word never mangles a path or
  a name it happens to be part of (``aitrapp`` in ``chaosaitrapp`` or ``/work/aitrapp-real/``);
- the password of any URL with user info, the user empty or not: ``redis://:pw@host``,
  ``postgresql://trader:pw@host/db``;
- the value after a credential-named label, without being told the value: ``X-API-Key: v``,
  ``?api_key=v``, ``&access_token=v``, ``"api_secret": "v"``, ``password=v``, ``request_token=v``
  (header, query string, form, dict repr or JSON, raw or HTML-escaped);
- the credential of an ``Authorization: token api_key:access_token`` (or ``Bearer``/``Basic``) header.

:func:`scrub_data` does the same deep inside JSON-like data and also masks the string value of any
key named like a credential. :func:`defang_urls` (HTML only) breaks ``http://`` so a report never
carries a live URL. The patterns are public (:data:`SECRET_NAME`, :data:`URL_PASSWORD`) for the
fault ledger, which refuses to *store* anything that looks secret.
"""
from __future__ import annotations

import functools
import html
import json
import logging
import re
from typing import Any, Iterable, List, Sequence
from urllib.parse import quote, quote_plus

MASK = "***"
#: A known secret at least this long is masked wherever it appears; a shorter one as a whole token only.
ANYWHERE_LEN = 16
_DELIMITERS = r"\s\"'=:,;()\[\]{}<>|`&?@#"

_NAMES = (r"x-api-key|api[_-]?key|api[_-]?secret(?:[_-]?key)?|access[_-]?token|refresh[_-]?token"
          r"|request[_-]?token|enc[_-]?token|password|passwd|secret|token")
#: A key or flag named like a credential (searched, not matched, for the ledger's refusal).
SECRET_NAME = re.compile(r"pass(word|wd|phrase)|requirepass|masterauth|secret|token|api[_-]?key|apikey"
                         r"|credential|private[_-]?key|auth[_-]?key", re.IGNORECASE)
#: A URL carrying a password in its user info (user possibly empty).
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s<>\"'?#]*:)([^@\s<>\"'/]+)(@)")

_QUOTE = r"(?:&quot;|&#x27;|&#39;|[\"'])"
_KEY_VALUE = re.compile(r"(?i)(?<![A-Za-z0-9_-])(" + _NAMES + r")(" + _QUOTE + r"?\s*[:=]\s*" + _QUOTE
                        + r"?\s*)([^\s\"'<>&,;{}\[\]()]+)")
_AUTHORIZATION = re.compile(r"(?i)(authorization" + _QUOTE + r"?\s*[:=]\s*" + _QUOTE
                            + r"?\s*(?:token|bearer|basic)\s+)([^\s\"'<>&,;{}\[\]()]+)")
_CREDENTIAL_KEY = re.compile(r"(?i)^(?:" + _NAMES + r"|api_secret_key|authorization)$")
_SCHEME = re.compile(r"(?i)\b(https?|wss?|ftp|file):/{2}")
ZWSP = "&#8203;"


@functools.lru_cache(maxsize=256)
def _forms(secret: str) -> List[str]:
    """The ways ``secret`` can appear in what we write, longest first."""
    forms = {secret, html.escape(secret), html.escape(secret, quote=False), json.dumps(secret)[1:-1],
             quote(secret, safe=""), quote_plus(secret, safe="")}
    forms |= {html.escape(f) for f in list(forms)}
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known ``secrets``, URL passwords and credential values replaced by ``***``."""
    for secret in sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True):
        for form in _forms(secret):
            if form not in text:
                continue  # nothing of it here: no pattern to build, no pass over the text
            if len(secret) >= ANYWHERE_LEN:
                text = text.replace(form, MASK)
            else:
                text = re.sub(r"(?<![^" + _DELIMITERS + r"])" + re.escape(form) + r"(?![^" + _DELIMITERS + r"])",
                              MASK, text)
    if ":" not in text and "=" not in text:
        return text  # every pattern below needs a ':' or a '=' (a URL's scheme, a label's separator)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + MASK, text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def scrub_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A deep copy of JSON-like ``value`` with :func:`scrub_text` applied to every string (keys too)
    and the string value of every credential-named key (``X-API-Key``, ``password``, ``token``...)
    replaced by ``***``."""
    secrets = list(secrets)
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): MASK if isinstance(v, str) and v and _CREDENTIAL_KEY.match(str(k))
                else scrub_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, secrets) for v in value]
    return value


def defang_urls(text: str) -> str:
    """``http://x`` -> ``http:/&#8203;/x`` (reads the same, no longer a URL); for HTML output only."""
    return _SCHEME.sub(lambda m: m.group(1) + ":/" + ZWSP + "/", text)


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs every record's final message (``secrets`` plus the patterns);
    put it on the handlers that write files (Chaos Toolkit's log)."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__("chaosaitrapp-scrub")
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message scrubbed; always keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        record.msg, record.args = scrub_text(message, self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text, self.secrets)
        return True


def install_log_filter(secrets: Sequence[str], logger_names: Sequence[str] = ("chaostoolkit", "")) -> ScrubFilter:
    """Put one :class:`ScrubFilter` for ``secrets`` on every handler of the named loggers (Chaos
    Toolkit's and the root logger), replacing one installed earlier; returns it."""
    scrubber = ScrubFilter(secrets)
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            for old in [f for f in handler.filters if isinstance(f, ScrubFilter)]:
                handler.removeFilter(old)
            handler.addFilter(scrubber)
    return scrubber
