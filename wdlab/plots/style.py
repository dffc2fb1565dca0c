"""Plotly figures from plain dicts, unvalidated (Plotly's validation costs ~40 ms a panel): the shared helpers."""
from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio

from wdlab.plots.curves import FONT

AXIS = dict(showline=True, linecolor="#bbb")


def plain(text) -> str:
    """Visitor text (a CSV's column names) for a Plotly string: Plotly renders tags (<a href>, <b>, <br>) and
    entities in every text, so & < > are written as entities and show as themselves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=1)
def _template() -> dict:
    return pio.templates["plotly_white"].to_plotly_json()


def build_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, not validated: Plotly's validation cost ~40 ms a panel (a
    live view redraws every panel at each new snapshot); the dicts here are written to its schema, and the
    tests read them back."""
    return go.Figure(figure_spec(data, layout), _validate=False)


def figure_spec(data: list[dict], layout: dict) -> dict:
    """build_figure's figure as plain dicts (its template and font in the layout): what an animation's frames
    are cut from without reading a figure back (plots.animate)."""
    return {"data": data, "layout": {"template": _template(), "font": FONT, **layout}}


def title_layout(text: str) -> dict:
    return dict(text=plain(text), x=0, xanchor="left", y=0.99, yref="container", yanchor="top", font=dict(size=14))
