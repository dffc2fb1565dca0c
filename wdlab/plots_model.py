"""Pictures of the models themselves (pure Plotly on numpy, no streamlit, no torch): boundaries, curves, weights."""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .plots import FONT, _thin, wd_colors, wd_label

GRID = 60                      # a boundary panel predicts on GRID × GRID points of the input plane
CLASS_COLORS = ("#3b6fb6", "#d6604d", "#4daf4a", "#984ea3", "#ff7f00", "#a6761d", "#e7298a", "#666666",
                "#1b9e77", "#e6ab02")
PROBABILITY = [[0.0, "#3b6fb6"], [0.5, "#f7f7f7"], [1.0, "#d6604d"]]   # P(class 1): class 0's blue to class 1's red
AXIS = dict(showline=True, linecolor="#bbb")


def plain(text) -> str:
    """Visitor text (a CSV's column names) for a Plotly string: Plotly renders tags (<a href>, <b>, <br>) and
    entities in every text, so & < > are written as entities and show as themselves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=1)
def _template() -> dict:
    import plotly.io as pio
    return pio.templates["plotly_white"].to_plotly_json()


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, not validated: Plotly's validation cost ~40 ms a panel (a
    live view redraws every panel at each new snapshot); the dicts here are written to its schema, and the
    tests read them back."""
    layout = {"template": _template(), "font": FONT, **layout}
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _title(text: str) -> dict:
    return dict(text=plain(text), x=0, xanchor="left", y=0.99, yref="container", yanchor="top", font=dict(size=14))


def plane(X: np.ndarray, n: int = GRID, pad: float = 0.08) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input plane around the points X [m, 2] (their box, padded by `pad` of its size): the axes xs, ys
    (n each) and the n·n points to predict at, row by row (point k = (xs[k % n], ys[k // n]))."""
    lo, hi = X.min(0), X.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad * span[0], hi[0] + pad * span[0], n)
    ys = np.linspace(lo[1] - pad * span[1], hi[1] + pad * span[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], 1)


def line(x: np.ndarray, n: int = 200, pad: float = 0.05) -> np.ndarray:
    """n points spanning the 1-D inputs x (padded by `pad` of their range): where a fitted curve is drawn."""
    lo, hi = float(np.min(x)), float(np.max(x))
    span = hi - lo if hi > lo else 1.0
    return np.linspace(lo - pad * span, hi + pad * span, n)


def surface(out: np.ndarray, n: int, kind: str) -> np.ndarray:
    """predict()'s outputs on plane()'s n·n points as the [n, n] grid a panel draws: P(class 1) ("binary"),
    the most likely class ("classes") or the predicted value ("value")."""
    if kind == "binary":
        z = out[:, 1]
    elif kind == "classes":
        z = out.argmax(1)
    else:
        z = out[:, 0]
    return np.asarray(z, dtype=np.float32).reshape(n, n)


def surface_kind(task: str, n_classes: int) -> str:
    return "value" if task != "classification" else ("binary" if n_classes == 2 else "classes")


def _points(X: np.ndarray, y: np.ndarray, kind: str, role: str, zrange) -> list[dict]:
    """Training (filled circles) or validation (hollow diamonds) points, coloured as the surface under them."""
    X = np.asarray(X, dtype=np.float32)
    symbol = "circle" if role == "train" else "diamond-open"
    if kind == "value":
        return [dict(type="scatter", x=X[:, 0], y=X[:, 1], mode="markers", name=role, showlegend=False,
                     meta={"role": f"{role}_points"},
                     marker=dict(symbol=symbol, size=6, color=np.asarray(y, dtype=np.float32), colorscale="Viridis",
                                 cmin=zrange[0], cmax=zrange[1],
                                 line=dict(color="white" if role == "train" else "#333", width=0.8)),
                     hovertemplate=f"{role}: %{{marker.color:.3g}}<extra></extra>")]
    out = []
    for c in np.unique(y).astype(int):
        pick = y == c
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        out.append(dict(type="scatter", x=X[pick, 0], y=X[pick, 1], mode="markers", name=f"{role} class {c}",
                        showlegend=False, meta={"role": f"{role}_points", "class": int(c)},
                        marker=dict(symbol=symbol, size=6 if role == "train" else 7, color=color,
                                    line=dict(color="white" if role == "train" else color,
                                              width=0.8 if role == "train" else 1.4)),
                        hovertemplate=f"{role} point, class {c}<extra></extra>"))
    return out


def boundary_figure(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, train: tuple[np.ndarray, np.ndarray],
                    val: tuple[np.ndarray, np.ndarray] | None = None, *, kind: str = "binary",
                    zrange: tuple[float, float] | None = None, title: str = "", axis_titles=("x1", "x2"),
                    height: int = 330, meta: Mapping | None = None, n_classes: int = 2) -> go.Figure:
    """One panel: a model's prediction over the input plane with the points on top.

    z [len(ys), len(xs)] from surface(); kind "binary" draws P(class 1) as a filled contour on a fixed 0–1 scale
    (blue = class 0, white = 50/50, red = class 1) with the 0.5 line (the decision boundary) in black; "classes"
    the most likely class as coloured regions; "value" a regression's prediction, zrange shared by every panel
    so they compare. train/val = (X [m, 2], y); val drawn hollow when given. `title` is plain text (no λ needed:
    a quiz shows panels unlabelled); `axis_titles` are escaped (they may be a CSV's column names). The surface
    trace's meta is {"role": "boundary", **meta}."""
    info = {"role": "boundary", **(meta or {})}
    z = np.asarray(z, dtype=np.float32)
    xs, ys = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    data: list[dict] = []
    if kind == "binary" and np.nanmax(z) - np.nanmin(z) < 0.02:  # a flat field: Plotly draws no contour fill
        data.append(dict(type="heatmap", x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale=PROBABILITY, showscale=False,
                         meta=info, opacity=0.85, hovertemplate="P(class 1) = %{z:.2f}<extra></extra>"))
    elif kind == "binary":
        data.append(dict(type="contour", x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale=PROBABILITY, showscale=False,
                         meta=info, contours=dict(start=0, end=1, size=0.1, coloring="fill", showlines=False),
                         opacity=0.85, hovertemplate="P(class 1) = %{z:.2f}<extra></extra>"))
        if np.nanmin(z) < 0.5 < np.nanmax(z):
            data.append(dict(type="contour", x=xs, y=ys, z=z, showscale=False, hoverinfo="skip",
                             meta={"role": "boundary_line"}, contours=dict(start=0.5, end=0.5, size=1, coloring="lines"),
                             colorscale=[[0, "#222"], [1, "#222"]], line=dict(width=2)))
    elif kind == "classes":
        k = max(n_classes, 2)
        scale = [[v, CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(k) for v in (i / k, (i + 1) / k)]
        data.append(dict(type="heatmap", x=xs, y=ys, z=z, zmin=-0.5, zmax=k - 0.5, colorscale=scale,
                         showscale=False, opacity=0.45, meta=info,
                         hovertemplate="predicted class %{z}<extra></extra>"))
    else:
        lo, hi = zrange if zrange is not None else (float(np.nanmin(z)), float(np.nanmax(z)))
        data.append(dict(type="contour", x=xs, y=ys, z=z, zmin=lo, zmax=hi, colorscale="Viridis", ncontours=12,
                         contours=dict(coloring="fill", showlines=False), opacity=0.85, showscale=False,
                         meta=info, hovertemplate="prediction %{z:.3g}<extra></extra>"))
        zrange = (lo, hi)
    data += _points(*train, kind, "train", zrange)
    if val is not None:
        data += _points(*val, kind, "validation", zrange)
    axis = dict(showgrid=False, zeroline=False)
    layout = dict(height=height, showlegend=False, margin=dict(l=10, r=10, t=36 if title else 10, b=10),
                  xaxis=dict(axis, range=[float(xs[0]), float(xs[-1])], title=dict(text=plain(axis_titles[0])),
                             constrain="domain"),
                  yaxis=dict(axis, range=[float(ys[0]), float(ys[-1])], title=dict(text=plain(axis_titles[1]))))
    if title:
        layout["title"] = _title(title)
    return _figure(data, layout)


def fitted_figure(x: np.ndarray, curves: Mapping[float, np.ndarray], train: tuple[np.ndarray, np.ndarray],
                  val: tuple[np.ndarray, np.ndarray] | None = None, *, names: Mapping[float, str] | None = None,
                  title: str = "", axis_titles=("x", "y"), yrange: tuple[float, float] | None = None,
                  height: int = 400, meta: Mapping | None = None, probability: bool = False) -> go.Figure:
    """1-D inputs: each λ's fitted function (curves: λ -> outputs at x) over the training points (validation
    points hollow, when given), one colour per λ (λ = 0 darkest). names: legend names instead of "λ = …" (a quiz
    labels them A, B, …). probability=True: a binary classifier's P(class 1), the points at 0 and 1. yrange:
    fix the y-axis (the UI fixes it over every epoch, so the slider moves curves, not the axis). Each curve's
    meta is {"role": "fit", "wd": λ, **meta}."""
    colors = wd_colors(curves) if curves else {}
    x = np.asarray(x, dtype=np.float32)
    data = []
    for w, y in sorted(curves.items()):
        label = plain(names[w]) if names and w in names else wd_label(w)
        data.append(dict(type="scatter", x=x, y=np.asarray(y, dtype=np.float32), mode="lines", name=label,
                         line=dict(color=colors[float(w)], width=2.4), meta={"role": "fit", "wd": float(w), **(meta or {})},
                         hovertemplate=f"{label}<br>x = %{{x:.3g}}<br>prediction %{{y:.3g}}<extra></extra>"))
    for role, pts in (("train", train), ("validation", val)):
        if pts is not None:
            data.append(dict(type="scatter", x=np.ravel(pts[0]).astype(np.float32), y=np.ravel(pts[1]).astype(np.float32),
                             mode="markers", name=f"{role} points", meta={"role": f"{role}_points"},
                             marker=dict(symbol="circle" if role == "train" else "diamond-open", size=8,
                                         color="#222" if role == "train" else "#888", line=dict(color="white", width=1)),
                             hovertemplate=f"{role}: x = %{{x:.3g}}, y = %{{y:.3g}}<extra></extra>"))
    layout = dict(height=height, hovermode="closest", margin=dict(l=10, r=10, t=60 if title else 40, b=10),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)),
                  xaxis=dict(AXIS, title=dict(text=plain(axis_titles[0]))),
                  yaxis=dict(AXIS, title=dict(text="P(class 1)" if probability else plain(axis_titles[1]))))
    if yrange:
        layout["yaxis"]["range"] = list(yrange)
    if title:
        layout["title"] = _title(title)
    return _figure(data, layout)


def weight_layers(names: Sequence[str], params: Sequence[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """The weight matrices of a parameter list (nn.Sequential state_dict order): [("layer 1", W1), …]; biases
    and LayerNorm gains (1-D) left out."""
    mats = [p for n, p in zip(names, params) if n.endswith("weight") and np.ndim(p) == 2]
    return [(f"layer {i}", np.asarray(p)) for i, p in enumerate(mats, 1)]


def _rows(traces: list[dict], titles: list[str], height_per_row: int, title: str, xtitle: str, xaxis: dict,
          yaxis: dict) -> go.Figure:
    """Traces stacked one per row on one shared x-axis (what make_subplots(rows=n, shared_xaxes) lays out),
    each row titled."""
    n = max(len(traces), 1)
    gap = 0.45 / n
    size = (1 - gap * (n - 1)) / n
    layout = dict(height=70 + height_per_row * n + (34 if title else 0), showlegend=False, bargap=0.05,
                  margin=dict(l=10, r=10, t=58 if title else 24, b=10), annotations=[])
    for i in range(n):
        top = 1 - i * (size + gap)
        suffix = "" if i == 0 else str(i + 1)
        layout[f"yaxis{suffix}"] = dict(yaxis, domain=[max(0.0, top - size), top], anchor=f"x{suffix}")
        layout[f"xaxis{suffix}"] = dict(AXIS, **xaxis, anchor=f"y{suffix}", **({} if i == 0 else {"matches": "x"}),
                                        showticklabels=i == n - 1,
                                        **({"title": dict(text=xtitle)} if i == n - 1 else {}))
        if i < len(traces):
            traces[i].update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        if i < len(titles):
            layout["annotations"].append(dict(text=titles[i], x=0, xref="paper", xanchor="left", y=top, yref="paper",
                                              yanchor="bottom", showarrow=False, font=dict(size=12)))
    if title:
        layout["title"] = _title(title)
    return _figure(traces, layout)


def weights_figure(weights: Mapping[float, np.ndarray], *, bound: float | None = None, bins: int = 41,
                   names: Mapping[float, str] | None = None, title: str = "", height_per_row: int = 78,
                   meta: Mapping | None = None) -> go.Figure:
    """Histograms of every λ's weights (weights: λ -> any array of weights), one row per λ on one shared x-axis
    [−bound, bound] (default: the largest |w| among them; the UI passes the largest over every epoch, so the
    slider shows the weights shrink rather than the axis). Bars are each λ's share of its weights per bin;
    the row's title gives ‖w‖₂ and max |w|. Each bar trace's meta is {"role": "hist", "wd": λ, **meta}."""
    wds = sorted(weights)
    flat = {w: np.asarray(weights[w], dtype=np.float64).ravel() for w in wds}
    flat = {w: v[np.isfinite(v)] for w, v in flat.items()}
    if bound is None:
        bound = max([float(np.abs(v).max()) for v in flat.values() if v.size] or [1.0])
    bound = bound if bound > 0 else 1.0
    edges = np.linspace(-bound, bound, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    colors = wd_colors(wds) if wds else {}
    titles, traces = [], []
    for w in wds:
        v = np.clip(flat[w], -bound, bound)  # anything beyond the axis lands in its edge bin
        counts, _ = np.histogram(v, edges)
        label = plain(names[w]) if names and w in names else wd_label(w)
        titles.append(f"{label}:  ‖w‖₂ = {np.linalg.norm(flat[w]):.3g}, max |w| = "
                      f"{np.abs(flat[w]).max() if flat[w].size else 0:.3g}")
        traces.append(dict(type="bar", x=centers.astype(np.float32), y=(counts / max(v.size, 1)).astype(np.float32),
                           width=float(edges[1] - edges[0]), marker=dict(color=colors[float(w)]),
                           meta={"role": "hist", "wd": float(w), **(meta or {})},
                           hovertemplate="w ≈ %{x:.3g}: %{y:.1%} of the weights<extra></extra>"))
    return _rows(traces, titles, height_per_row, title, "weight value", dict(range=[-bound, bound]),
                 dict(tickformat=".0%", nticks=3))


def feature_weights_figure(weights: Mapping[float, np.ndarray], features: Sequence[str], *,
                           bound: float | None = None, names: Mapping[float, str] | None = None, title: str = "",
                           height_per_row: int = 90, meta: Mapping | None = None) -> go.Figure:
    """A linear model's weight per input feature, as bars, one row per λ on shared axes (weights: λ -> W
    [out, features]; with several outputs, the bar is the column's norm ‖W[:, j]‖₂). Feature names are visitor
    text for a CSV: escaped, and shown on hover only when there are many. meta: {"role": "feature", "wd": λ}."""
    wds = sorted(weights)
    mats = {w: np.atleast_2d(np.asarray(weights[w], dtype=np.float64)) for w in wds}
    bars = {w: (m[0] if m.shape[0] == 1 else np.linalg.norm(m, axis=0)) for w, m in mats.items()}
    if bound is None:
        bound = max([float(np.nanmax(np.abs(b))) for b in bars.values() if b.size] or [1.0])
    bound = bound if bound > 0 and math.isfinite(bound) else 1.0
    labels = [plain(f) for f in features]
    colors = wd_colors(wds) if wds else {}
    traces = [dict(type="bar", x=np.arange(len(labels)), y=bars[w].astype(np.float32), customdata=labels,
                   marker=dict(color=colors[float(w)]), meta={"role": "feature", "wd": float(w), **(meta or {})},
                   hovertemplate="%{customdata}: %{y:.3g}<extra></extra>") for w in wds]
    several = any(m.shape[0] > 1 for m in mats.values())
    xaxis = dict(range=[-0.6, len(labels) - 0.4])
    if len(labels) <= 30:
        xaxis.update(tickvals=list(range(len(labels))), ticktext=labels, tickangle=-45 if len(labels) > 8 else 0)
    xtitle = "feature" + (" (‖W[:, j]‖₂ over the outputs)" if several else
                          " (hover a bar for its name)" if len(labels) > 30 else "")
    return _rows(traces, [plain(names[w]) if names and w in names else wd_label(w) for w in wds], height_per_row,
                 title, xtitle, xaxis, dict(range=[0 if several else -1.05 * bound, 1.05 * bound], nticks=4))


def layer_columns(frame: pd.DataFrame, prefix: str = "l2_weight") -> list[str]:
    """The frame's per-layer norm columns (l2_weight1, l2_weight2, …) in layer order."""
    cols = [c for c in frame.columns if re.fullmatch(rf"{prefix}\d+", c)]
    return sorted(cols, key=lambda c: int(c[len(prefix):]))


def _by_epoch(frame: pd.DataFrame, column: str) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """λ -> (epochs, mean over seeds of `column`), thinned to at most plots.MAX_POINTS epochs."""
    if frame is None or frame.empty or column not in frame:
        return {}
    keep = _thin(np.sort(frame["epoch"].unique()))
    drawn = frame[frame["epoch"].isin(keep)] if len(keep) < frame["epoch"].nunique() else frame
    values = drawn[column].to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    mean = pd.Series(values, index=pd.MultiIndex.from_arrays([drawn["weight_decay"], drawn["epoch"]])) \
        .groupby(level=[0, 1]).mean()
    return {float(w): (s.index.get_level_values(1).to_numpy(), s.to_numpy().astype(np.float32))
            for w, s in mean.groupby(level=0)}


def _curves_layout(title: str, ytitle: str, epochs_total, height: int, legend: bool, columns: int = 1,
                   epoch: int | None = None, log_y: bool = False) -> dict:
    layout = dict(height=height, hovermode="closest", showlegend=legend, title=_title(title), shapes=[],
                  margin=dict(l=10, r=10, t=58 if legend else 34, b=10),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)))
    gap = 0.08
    width = (1 - gap * (columns - 1)) / columns
    for c in range(columns):
        suffix = "" if c == 0 else str(c + 1)
        left = c * (width + gap)
        layout[f"xaxis{suffix}"] = dict(AXIS, title=dict(text="epoch"), domain=[left, left + width],
                                        anchor=f"y{suffix}", **({"range": [0, epochs_total]} if epochs_total else {}))
        layout[f"yaxis{suffix}"] = dict(AXIS, title=dict(text=ytitle), anchor=f"x{suffix}",
                                        **({"type": "log", "exponentformat": "e"} if log_y else {}))
        if epoch is not None:  # the slider's epoch, dotted
            layout["shapes"].append(dict(type="line", x0=epoch, x1=epoch, xref=f"x{suffix}", y0=0, y1=1,
                                         yref=f"y{suffix} domain", line=dict(color="#999", dash="dot", width=1.2)))
    return layout


def accuracy_figure(frame: pd.DataFrame, *, epoch: int | None = None, epochs_total: int | None = None,
                    height: int = 380, legend: bool = True) -> go.Figure:
    """Classification accuracy by epoch for every λ: validation (solid) and training (dotted, the whole training
    set after the epoch: train_eval_acc), means over seeds; a dotted vertical line at `epoch` (the slider's).
    meta: {"role": "acc", "panel": "val_acc" | "train_eval_acc", "wd": λ}."""
    val, train = _by_epoch(frame, "val_acc"), _by_epoch(frame, "train_eval_acc")
    colors = wd_colors(val) if val else {}
    data = []
    for w in sorted(val):
        for column, series, dash, name in (("val_acc", val, "solid", wd_label(w)),
                                           ("train_eval_acc", train, "dot", f"{wd_label(w)} (training)")):
            if w in series:
                x, y = series[w]
                data.append(dict(type="scatter", x=x, y=y, mode="lines", name=name, legendgroup=wd_label(w),
                                 showlegend=legend and column == "val_acc",
                                 line=dict(color=colors[w], dash=dash, width=2.2 if dash == "solid" else 1.6),
                                 meta={"role": "acc", "panel": column, "wd": w},
                                 hovertemplate=f"{name}<br>epoch %{{x}}<br>{column} = %{{y:.3f}}<extra></extra>"))
    return _figure(data, _curves_layout("Accuracy: validation (solid), training (dotted)", "accuracy", epochs_total,
                                        height, legend, epoch=epoch))


def layer_norms_figure(frame: pd.DataFrame, layers: Sequence[str] | None = None, *, epoch: int | None = None,
                       epochs_total: int | None = None, height: int = 340, legend: bool = True,
                       log_y: bool = False) -> go.Figure:
    """‖W‖₂ of each layer's weight matrix by epoch, one line per λ (means over seeds), one panel per column of
    `layers` (default every l2_weight… of the frame; the UI draws one per figure so a phone stacks them); a
    dotted line at `epoch`. meta: {"role": "layer_norm", "panel": column, "wd": λ}."""
    layers = list(layers) if layers is not None else layer_columns(frame)
    titles = [f"‖W‖₂ of layer {c[len('l2_weight'):]}" for c in layers]
    data = []
    for col, column in enumerate(layers):
        series = _by_epoch(frame, column)
        colors = wd_colors(series) if series else {}
        suffix = "" if col == 0 else str(col + 1)
        for w in sorted(series):
            x, y = series[w]
            data.append(dict(type="scatter", x=x, y=y, mode="lines", name=wd_label(w), legendgroup=wd_label(w),
                             showlegend=legend and col == 0, line=dict(color=colors[w], width=2.2),
                             xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                             meta={"role": "layer_norm", "panel": column, "wd": w},
                             hovertemplate=f"{wd_label(w)}<br>epoch %{{x}}<br>{column} = %{{y:.4g}}<extra></extra>"))
    layout = _curves_layout(titles[0] if len(layers) == 1 else "Per-layer norms", "‖W‖₂", epochs_total, height,
                            legend, max(len(layers), 1), epoch, log_y)
    if len(layers) > 1:  # panel titles, and the legend above them
        layout["annotations"] = [dict(text=t, x=sum(layout[f"xaxis{'' if i == 0 else i + 1}"]["domain"]) / 2,
                                      xref="paper", xanchor="center", y=1.0, yref="paper", yanchor="bottom",
                                      showarrow=False, font=dict(size=13)) for i, t in enumerate(titles)]
        layout["margin"]["t"] = 84 if legend else 58
        layout["legend"]["y"] = 1.12
    return _figure(data, layout)
