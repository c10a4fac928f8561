"""Shared pieces of the HTML pages: the stylesheet, escaping, badges, links, atomic writes.

Everything is inline: no font, image, stylesheet or script is loaded from anywhere. Fonts are
the reader's own system fonts.
"""
from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import quote

from chaosaitrapp.scrub import defang_urls, scrub_text

STYLE = """
:root { --pass: #1e8449; --fail: #c0392b; --unknown: #7f8c8d; --ink: #1f2d3a; --muted: #5d6d7e;
        --line: #dfe4ea; --card: #ffffff; --bg: #f2f4f7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 22px 40px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
              font-size: 13px; }
.verdict { display: flex; align-items: center; gap: 26px; padding: 18px 26px; border-radius: 12px;
           color: #fff; margin-bottom: 16px; }
.verdict.pass { background: var(--pass); } .verdict.fail { background: var(--fail); }
.verdict.unknown { background: var(--unknown); }
.verdict .big { font-size: 64px; font-weight: 800; letter-spacing: 2px; line-height: 1; }
.verdict .what { font-size: 24px; font-weight: 700; }
.verdict .facts { font-size: 15px; opacity: .95; margin-top: 4px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 20px;
          margin: 14px 0; }
section.why { border: 2px solid var(--fail); background: #fdf2f1; }
section.why.unknown { border-color: var(--unknown); background: #f4f6f6; }
h2 { font-size: 18px; margin: 2px 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 9px; border-bottom: 1px solid var(--line); }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: #f8f9fb; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 62px; text-align: center; padding: 2px 8px; border-radius: 999px;
         font-size: 12px; font-weight: 700; color: #fff; text-transform: uppercase; letter-spacing: .5px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.unknown { background: var(--unknown); }
.why ul { margin: 6px 0 2px; padding-left: 20px; } .why li { margin: 6px 0; }
.why li b { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.muted { color: var(--muted); } .small { font-size: 13px; }
.facts-grid { display: grid; grid-template-columns: 200px 1fr; gap: 4px 14px; }
.facts-grid div:nth-child(odd) { color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; margin-top: 8px; color: var(--muted); }
.sw { display: inline-block; width: 22px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
.sw.line { height: 3px; vertical-align: 3px; }
.figures { display: flex; flex-wrap: wrap; gap: 8px 26px; margin: 4px 0 10px; font-size: 14px; }
.figures b { font-variant-numeric: tabular-nums; }
svg.chart { display: block; background: #fff; }
.out { overflow-wrap: anywhere; }
table.acts, table.kv { table-layout: fixed; }
table.kv col.key { width: 260px; }
table.acts col.name { width: 230px; } table.acts col.type { width: 70px; } table.acts col.status { width: 120px; }
table.acts col.met { width: 140px; } table.acts col.tol { width: 150px; } table.acts col.dur { width: 90px; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 18px; }
"""


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` (None -> empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def short(value: Any, limit: int = 180) -> str:
    """A one-line, at most ``limit`` characters rendering of any JSON-like value (not escaped)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, separators=(", ", ": "))
        except (TypeError, ValueError):
            text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge(status: str) -> str:
    """A coloured status pill: pass / fail / unknown (anything else shows as unknown)."""
    status = str(status).lower()
    css = status if status in ("pass", "fail") else "unknown"
    return f'<span class="badge {css}">{esc(status)}</span>'


def seconds(value: Any) -> str:
    """``12.34 s`` for a number, ``-`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.2f} s"
    return "-"


def href_to(target: Union[str, Path], base_dir: Optional[Path]) -> Optional[str]:
    """A relative, URL-quoted link from ``base_dir`` to ``target`` (a local file), or None
    when ``base_dir`` is None. Never an absolute URL."""
    if base_dir is None or not str(target):
        return None
    try:
        rel = os.path.relpath(Path(target).resolve(), Path(base_dir).resolve())
    except ValueError:
        return None
    return quote(Path(rel).as_posix())


def page(title: str, body: str, secrets: Any = ()) -> str:
    """A full HTML document around ``body``, scrubbed of ``secrets`` and with URLs defanged."""
    document = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n"
    )
    return defang_urls(scrub_text(document, list(secrets)))


def write_text_atomic(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
