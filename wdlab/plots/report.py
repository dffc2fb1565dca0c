"""A run's figures as one HTML file for a report or a slide: each figure interactive, Plotly's JavaScript inside
the file once (it opens offline, no CDN), every heading and line escaped (a table's names may be in them)."""
from __future__ import annotations

import html
from typing import Sequence

import plotly.graph_objects as go
import plotly.io as pio


def report_html(title: str, lines: Sequence[str], figures: Sequence[tuple[str, go.Figure]]) -> str:
    """A standalone page: the title, a few lines of text (what was trained), then each (heading, figure).
    The first figure carries plotly.js in full (about 4.7 MB; include_plotlyjs=True), the others none."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}"
             "h2{font-size:1.1em;margin:1.6em 0 .3em}p{margin:.2em 0}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in lines]
    for i, (heading, fig) in enumerate(figures):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=i == 0, config={"displaylogo": False},
                                 default_width="100%"))
    parts.append("</body></html>")
    return "\n".join(parts)
