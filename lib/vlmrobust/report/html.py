"""HTML pieces of the report: one self-contained page (figures embedded, no CDN, works offline)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

MAX_ROWS = 60

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5rem 4rem; color: #222; line-height: 1.45; }
h1 { margin-top: 1.5rem; } h2 { border-bottom: 2px solid #ddd; padding-top: 1rem; }
nav { columns: 2; font-size: 0.9rem; background: #f6f6f6; padding: 0.6rem 1rem; border-radius: 6px; }
.pair { display: flex; gap: 1.5rem; flex-wrap: wrap; align-items: flex-start; }
.pair > div { flex: 1 1 480px; min-width: 0; }
.scroll { overflow-x: auto; max-height: 32rem; overflow-y: auto; }
table { border-collapse: collapse; font-size: 0.78rem; margin: 0.3rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; } caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.3rem 0 1rem; }
.label { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em; color: #777; margin: 0.4rem 0; }
.missing { color: #a33; font-style: italic; } .note { color: #555; font-size: 0.9rem; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 4px; font-size: 0.72rem; white-space: nowrap; }
.badge.ok { background: #d4edda; } .badge.bad { background: #f8d7da; } .badge.undecided { background: #fff3cd; }
.badge.untested { background: #e2e3e5; } td.claim { white-space: normal; text-align: left; max-width: 38rem; }
.verdict { padding: 0.6rem 1rem; border-radius: 6px; margin: 0.8rem 0; } .verdict.ok { background: #e6f4ea; border: 1px solid #7bbf8e; } .verdict.bad { background: #fdecea; border: 1px solid #d88; }
"""


def esc(x) -> str:
    return html.escape(str(x))


def table(df: pd.DataFrame, caption: str, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as an HTML table (the first ``MAX_ROWS`` rows; the CSV beside it has them all)."""
    more = len(df) - MAX_ROWS
    body = df.head(MAX_ROWS).to_html(index=False, na_rep="", border=0, escape=True,
                                     float_format=lambda v: floatfmt.format(v))
    note = f'<div class="note">... {more} more rows in the CSV</div>' if more > 0 else ""
    body = body.replace(">", f"><caption>{esc(caption)}</caption>", 1)  # inside the opening <table ...> tag
    return f'<div class="scroll">{body}</div>{note}'


def figure(png: Path, alt: str) -> str:
    data = base64.b64encode(png.read_bytes()).decode()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def missing(what: str, notebook: str) -> str:
    return f'<p class="missing">{esc(what)}: not produced by this run (notebook {esc(notebook)} did not make it).</p>'


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f'<body>{body}</body></html>\n')
