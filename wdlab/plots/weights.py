"""Weights and per-layer curves of a sweep's models (Plotly on numpy, no streamlit, no torch)."""
from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from wdlab.plots.curves import legend_rows_for, legend_top, thin, wd_colors, wd_label
from wdlab.plots.style import AXIS, build_figure, plain, title_layout


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
        layout["title"] = title_layout(title)
    return build_figure(traces, layout)


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
    keep = thin(np.sort(frame["epoch"].unique()))
    drawn = frame[frame["epoch"].isin(keep)] if len(keep) < frame["epoch"].nunique() else frame
    values = drawn[column].to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    mean = pd.Series(values, index=pd.MultiIndex.from_arrays([drawn["weight_decay"], drawn["epoch"]])) \
        .groupby(level=[0, 1]).mean()
    return {float(w): (s.index.get_level_values(1).to_numpy(), s.to_numpy().astype(np.float32))
            for w, s in mean.groupby(level=0)}


def _curves_layout(title: str, ytitle: str, epochs_total, height: int, legend: bool, columns: int = 1,
                   epoch: int | None = None, log_y: bool = False, entries: int = 4) -> dict:
    # room under the title for the legend's rows as a phone wraps them (one row sat on the title there)
    rows = legend_rows_for(entries) if legend else 0
    layout = dict(height=height + 30 * max(rows - 1, 0), hovermode="closest", showlegend=legend,
                  title=title_layout(title), shapes=[], margin=dict(l=10, r=10, t=legend_top(rows), b=10),
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
    return build_figure(data, _curves_layout("Accuracy: validation (solid), training (dotted)", "accuracy", epochs_total,
                                        height, legend, epoch=epoch, entries=len(val)))


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
    n_wd = len(frame["weight_decay"].unique()) if "weight_decay" in frame else 4
    layout = _curves_layout(titles[0] if len(layers) == 1 else "Per-layer norms", "‖W‖₂", epochs_total, height,
                            legend, max(len(layers), 1), epoch, log_y, entries=n_wd)
    if len(layers) > 1:  # panel titles, and the legend above them
        layout["annotations"] = [dict(text=t, x=sum(layout[f"xaxis{'' if i == 0 else i + 1}"]["domain"]) / 2,
                                      xref="paper", xanchor="center", y=1.0, yref="paper", yanchor="bottom",
                                      showarrow=False, font=dict(size=13)) for i, t in enumerate(titles)]
        layout["margin"]["t"] = 84 if legend else 58
        layout["legend"]["y"] = 1.12
    return build_figure(data, layout)
