"""The model's own view of the data (Plotly on numpy, no streamlit, no torch): a digit net's first-layer filters as
images, a confusion matrix per λ, a regression's predicted vs actual in the target's own units."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from wdlab.plots.curves import wd_colors, wd_label
from wdlab.plots.style import AXIS, build_figure, plain, title_layout

# weights below 0 blue, above 0 red, 0 white: the scale is symmetric about 0 and shared by every filter drawn
DIVERGING = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
SHARE = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]   # a confusion cell's share of its true class


# -- readings (numpy) -----------------------------------------------------------------------------------------
def top_units(W: np.ndarray, k: int) -> list[int]:
    """The k rows (hidden units) of a first-layer weight matrix W [hidden, inputs] with the largest ‖w‖₂, largest
    first; ties keep the lower index."""
    norms = np.linalg.norm(np.asarray(W, dtype=np.float64), axis=1)
    return [int(i) for i in np.argsort(-norms, kind="stable")[:k]]


def confusion(actual: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts [true class, predicted class] of the rows (class indices)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(actual, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return counts


def errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(RMSE, MAE) of the predictions, in the units they are given in."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(d ** 2))), float(np.mean(np.abs(d)))


# -- figures --------------------------------------------------------------------------------------------------
def filters_figure(filters: Mapping[float, np.ndarray], units: Sequence[int], *, side: int = 8, title: str = "",
                   names: Mapping[float, str] | None = None, bound: float | None = None, height: int | None = None,
                   column_title: str = "hidden unit", column_names: Sequence[str] | None = None,
                   meta: Mapping | None = None) -> go.Figure:
    """First-layer weights as side × side images: one row per λ (filters[λ] = the rows of W for `units`, each
    side² long, pixel order row by row), one column per unit, the same units in every row. One colour scale
    symmetric about 0 for every image (±bound: the largest |w| drawn by default), so a smaller, smoother filter
    shows paler. names: row labels instead of "λ = …" (a quiz letters them); the columns are numbered from 1
    (or named: column_names) under `column_title`. One heatmap trace: the images tiled
    with a blank pixel between them; its meta is {"role": "filters", "wds", "units", "bound", **meta}."""
    wds = list(filters)
    k, gap = len(units), side + 1
    rows = [np.asarray(filters[w], dtype=np.float64).reshape(k, side, side) for w in wds]
    top = float(bound) if bound else max((float(np.nanmax(np.abs(r))) for r in rows if r.size), default=1.0) or 1.0
    z = np.full((len(wds) * gap - 1, k * gap - 1), np.nan)
    text = np.full(z.shape, "", dtype=object)
    for i, (w, r) in enumerate(zip(wds, rows)):
        label = plain(names[w]) if names and w in names else wd_label(w)
        for j, u in enumerate(units):
            col = column_names[j] if column_names else f"unit {u + 1}"
            z[i * gap:i * gap + side, j * gap:j * gap + side] = r[j]
            for a in range(side):
                for b in range(side):
                    text[i * gap + a, j * gap + b] = f"{label}, {plain(col)}, pixel ({a + 1}, {b + 1}): {r[j, a, b]:.3g}"
    labels = [plain(names[w]) if names and w in names else wd_label(w) for w in wds]
    trace = dict(type="heatmap", z=np.round(z, 6), text=text.tolist(), zmin=-top, zmax=top, zmid=0, colorscale=DIVERGING,
                 hovertemplate="%{text}<extra></extra>", hoverongaps=False, xgap=0, ygap=0,
                 # below the images, across: beside them it would take a phone's width from them
                 colorbar=dict(title=dict(text="weight", side="right"), orientation="h", thickness=8, len=0.7,
                               x=0.5, xanchor="center", y=0, yanchor="top", ypad=4, tickangle=0, nticks=5,
                               tickfont=dict(size=10)),
                 meta={"role": "filters", "wds": [float(w) for w in wds], "units": [int(u) for u in units],
                       "bound": top, **(meta or {})})
    centre = [i * gap + (side - 1) / 2 for i in range(len(wds))]
    layout = dict(height=height or 130 + 80 * len(wds), margin=dict(l=10, r=10, t=74 if title else 44, b=50),
                  xaxis=dict(showgrid=False, zeroline=False, constrain="domain",
                             side="top", tickvals=[j * gap + (side - 1) / 2 for j in range(k)],
                             ticktext=[plain(c) for c in column_names] if column_names else
                             [str(u + 1) for u in units], tickfont=dict(size=10),
                             title=dict(text=column_title, font=dict(size=11), standoff=10)),
                  yaxis=dict(showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", constrain="domain",
                             tickvals=centre, ticktext=labels),
                  plot_bgcolor="white")
    if title:
        layout["title"] = title_layout(title)
    return build_figure([trace], layout)


def confusion_figure(counts: np.ndarray, labels: Sequence[str], *, title: str = "", height: int = 330,
                     meta: Mapping | None = None) -> go.Figure:
    """One model's confusion matrix: rows the true class, columns the predicted one, each cell coloured by its
    share of the true class (0–1, the same scale for every panel) with its count written in it (up to 12
    classes; every count is in the hover). labels: the classes' names (escaped: a table's own). The heatmap's
    meta is {"role": "confusion", **meta}."""
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    totals = counts.sum(1, keepdims=True)
    share = np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)
    names = [plain(x) for x in labels]
    custom = np.stack([counts, np.broadcast_to(totals, counts.shape)], -1)
    trace = dict(type="heatmap", z=np.round(share, 4), x=names, y=names, zmin=0, zmax=1, colorscale=SHARE,
                 showscale=False, customdata=custom, xgap=1, ygap=1,
                 hovertemplate="true %{y}, predicted %{x}: %{customdata[0]} of %{customdata[1]} "
                               "(%{z:.0%})<extra></extra>",
                 meta={"role": "confusion", "counts": counts.tolist(), **(meta or {})})
    if n <= 12:
        trace.update(text=counts.astype(str), texttemplate="%{text}", textfont=dict(size=10))
    axis = dict(showgrid=False, zeroline=False, type="category", tickfont=dict(size=10))
    layout = dict(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), plot_bgcolor="white",
                  xaxis=dict(axis, title=dict(text="predicted"), side="bottom"),
                  yaxis=dict(axis, title=dict(text="true"), autorange="reversed", scaleanchor="x"))
    if title:
        layout["title"] = title_layout(title)
    return build_figure([trace], layout)


def predicted_figure(actual: np.ndarray, predicted: np.ndarray, *, wd: float, span: tuple[float, float],
                     all_wds: Sequence[float] = (), title: str = "", target: str = "target", height: int = 330,
                     meta: Mapping | None = None) -> go.Figure:
    """One model's predicted vs actual on the held-out rows, in the target's own units, over the y = x line (a
    perfect model's points lie on it). span: both axes' range, shared by every λ's panel so they compare;
    all_wds: the λ values drawn, for this one's colour (λ = 0 darkest). target: the target's name (escaped).
    The points' meta is {"role": "predicted", "wd": λ, **meta}."""
    colors = wd_colors(all_wds or [wd])
    name = plain(target)
    lo, hi = float(span[0]), float(span[1])
    data = [dict(type="scatter", x=[lo, hi], y=[lo, hi], mode="lines", name="y = x", hoverinfo="skip",
                 line=dict(color="#888", width=1.2, dash="dash"), meta={"role": "identity"}),
            dict(type="scatter", x=np.asarray(actual, dtype=np.float64), y=np.asarray(predicted, dtype=np.float64),
                 mode="markers", name=wd_label(wd), marker=dict(size=5, color=colors[float(wd)], opacity=0.7),
                 meta={"role": "predicted", "wd": float(wd), **(meta or {})},
                 hovertemplate=f"actual %{{x:.4g}}<br>predicted %{{y:.4g}}<extra>{wd_label(wd)}</extra>")]
    layout = dict(height=height, showlegend=False, hovermode="closest",
                  margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                  xaxis=dict(AXIS, range=[lo, hi], title=dict(text=f"actual {name}"), constrain="domain"),
                  yaxis=dict(AXIS, range=[lo, hi], title=dict(text=f"predicted {name}"), scaleanchor="x"))
    if title:
        layout["title"] = title_layout(title)
    return build_figure(data, layout)


def span_of(*arrays: np.ndarray, pad: float = 0.04) -> tuple[float, float]:
    """One range holding every finite value given (padded by `pad` of it): the shared axes of the panels."""
    every = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays]) if arrays else np.zeros(1)
    every = every[np.isfinite(every)]
    if not every.size:
        return -1.0, 1.0
    lo, hi = float(every.min()), float(every.max())
    d = (hi - lo) or max(abs(lo), 1.0)
    return lo - pad * d, hi + pad * d


def fmt_error(value: float) -> str:
    """An error for a title: 4 significant digits, no exponent for everyday sizes."""
    if not math.isfinite(value):
        return "∞"
    return f"{value:.4g}"
