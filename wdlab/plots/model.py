"""Pictures of the models themselves (Plotly on numpy, no streamlit, no torch): boundaries, fitted curves, weights."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from wdlab.plots.curves import wd_colors, wd_label
from wdlab.plots.style import AXIS, build_figure, plain, title_layout  # noqa: F401 (plain: the escaping the pictures use)

# the weights and per-layer curves live beside these; one import gives every picture of the models
from wdlab.plots.weights import (  # noqa: F401
    accuracy_figure,
    feature_weights_figure,
    layer_columns,
    layer_norms_figure,
    weight_layers,
    weights_figure,
)

GRID = 60                      # a boundary panel predicts on GRID × GRID points of the input plane
CLASS_COLORS = ("#3b6fb6", "#d6604d", "#4daf4a", "#984ea3", "#ff7f00", "#a6761d", "#e7298a", "#666666",
                "#1b9e77", "#e6ab02")
PROBABILITY = [[0.0, "#3b6fb6"], [0.5, "#f7f7f7"], [1.0, "#d6604d"]]   # P(class 1): class 0's blue to class 1's red


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


def point_traces(X: np.ndarray, y: np.ndarray, kind: str, role: str, zrange) -> list[dict]:
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


def surface_traces(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, kind: str, zrange: tuple[float, float] | None,
                   n_classes: int, info: Mapping, line: bool = False) -> tuple[list[dict], tuple | None]:
    """A panel's prediction traces (boundary_figure's kinds) and the z-range its points are coloured on. line=True:
    a binary panel always has its 0.5 contour trace, drawn or not, so every epoch has the same traces (an
    animation's frames replace traces by position)."""
    z = np.asarray(z, dtype=np.float32)
    xs, ys = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    finite = z[np.isfinite(z)]
    lo_z, hi_z = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    data: list[dict] = []
    if kind == "binary" and hi_z - lo_z < 0.02 and not line:  # a flat field: Plotly draws no contour fill
        data.append(dict(type="heatmap", x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale=PROBABILITY, showscale=False,
                         meta=dict(info), opacity=0.85, hovertemplate="P(class 1) = %{z:.2f}<extra></extra>"))
    elif kind == "binary":  # a smoothed heatmap: filled contours cost the browser several times more to draw
        data.append(dict(type="heatmap", x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale=PROBABILITY, showscale=False,
                         meta=dict(info), zsmooth="best", opacity=0.85,
                         hovertemplate="P(class 1) = %{z:.2f}<extra></extra>"))
        if line or lo_z < 0.5 < hi_z:
            data.append(dict(type="contour", x=xs, y=ys, z=z, showscale=False, hoverinfo="skip",
                             meta={"role": "boundary_line", **{k: v for k, v in info.items() if k != "role"}},
                             contours=dict(start=0.5, end=0.5, size=1, coloring="lines"),
                             colorscale=[[0, "#222"], [1, "#222"]], line=dict(width=2)))
    elif kind == "classes":
        k = max(n_classes, 2)
        scale = [[v, CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(k) for v in (i / k, (i + 1) / k)]
        data.append(dict(type="heatmap", x=xs, y=ys, z=z, zmin=-0.5, zmax=k - 0.5, colorscale=scale,
                         showscale=False, opacity=0.45, meta=dict(info),
                         hovertemplate="predicted class %{z}<extra></extra>"))
    else:
        lo, hi = zrange if zrange is not None else (lo_z, hi_z)
        data.append(dict(type="contour", x=xs, y=ys, z=z, zmin=lo, zmax=hi, colorscale="Viridis", ncontours=12,
                         contours=dict(coloring="fill", showlines=False), opacity=0.85, showscale=False,
                         meta=dict(info), hovertemplate="prediction %{z:.3g}<extra></extra>"))
        zrange = (lo, hi)
    return data, zrange


def boundary_figure(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, train: tuple[np.ndarray, np.ndarray],
                    val: tuple[np.ndarray, np.ndarray] | None = None, *, kind: str = "binary",
                    zrange: tuple[float, float] | None = None, title: str = "", axis_titles=("x1", "x2"),
                    height: int = 330, meta: Mapping | None = None, n_classes: int = 2) -> go.Figure:
    """One panel: a model's prediction over the input plane with the points on top.

    z [len(ys), len(xs)] from surface(); kind "binary" draws P(class 1) as a smoothed map on a fixed 0–1 scale
    (blue = class 0, white = 50/50, red = class 1) with the 0.5 line (the decision boundary) in black; "classes"
    the most likely class as coloured regions; "value" a regression's prediction, zrange shared by every panel
    so they compare. train/val = (X [m, 2], y); val drawn hollow when given. `title` is plain text (no λ needed:
    a quiz shows panels unlabelled); `axis_titles` are escaped (they may be a CSV's column names). The surface
    trace's meta is {"role": "boundary", **meta}."""
    data, zrange = surface_traces(z, xs, ys, kind, zrange, n_classes, {"role": "boundary", **(meta or {})})
    xs, ys = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    data += point_traces(*train, kind, "train", zrange)
    if val is not None:
        data += point_traces(*val, kind, "validation", zrange)
    axis = dict(showgrid=False, zeroline=False)
    layout = dict(height=height, showlegend=False, margin=dict(l=10, r=10, t=36 if title else 10, b=10),
                  xaxis=dict(axis, range=[float(xs[0]), float(xs[-1])], title=dict(text=plain(axis_titles[0])),
                             constrain="domain"),
                  yaxis=dict(axis, range=[float(ys[0]), float(ys[-1])], title=dict(text=plain(axis_titles[1]))))
    if title:
        layout["title"] = title_layout(title)
    return build_figure(data, layout)


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
                         line=dict(color=colors[float(w)], width=2.4),
                         meta={"role": "fit", "wd": float(w), **(meta or {})},
                         hovertemplate=f"{label}<br>x = %{{x:.3g}}<br>prediction %{{y:.3g}}<extra></extra>"))
    for role, pts in (("train", train), ("validation", val)):
        if pts is not None:
            data.append(dict(type="scatter", x=np.ravel(pts[0]).astype(np.float32),
                             y=np.ravel(pts[1]).astype(np.float32),
                             mode="markers", name=f"{role} points", meta={"role": f"{role}_points"},
                             marker=dict(symbol="circle" if role == "train" else "diamond-open", size=8,
                                         color="#222" if role == "train" else "#888",
                                         line=dict(color="white", width=1)),
                             hovertemplate=f"{role}: x = %{{x:.3g}}, y = %{{y:.3g}}<extra></extra>"))
    layout = dict(height=height, hovermode="closest", margin=dict(l=10, r=10, t=60 if title else 40, b=10),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)),
                  xaxis=dict(AXIS, title=dict(text=plain(axis_titles[0]))),
                  yaxis=dict(AXIS, title=dict(text="P(class 1)" if probability else plain(axis_titles[1]))))
    if yrange:
        layout["yaxis"]["range"] = list(yrange)
    if title:
        layout["title"] = title_layout(title)
    return build_figure(data, layout)
