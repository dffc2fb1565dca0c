"""The curves the laws speak to — max|w|, each normalized layer's rotation per step and its norm — one colour per λ,
with each law's prediction dashed in that colour where it applies (plots.law_lines). Pure: frame in, figure out."""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from wdlab.plots.curves import FONT, legend_rows_for, legend_top, thin, wd_colors, wd_label
from wdlab.plots.law_lines import drawn_predictions, law_traces, legend_room, tau_epochs, tau_text

TITLES = {"max_abs_w": ("Largest weight max|w|", "max|w|"),
          "rot": ("Rotation per step, layer {k}", "angle (rad)"),
          "norm": ("Norm of layer {k}'s (W, b)", "‖(W, b)‖₂")}


def law_columns(frame: pd.DataFrame) -> list[str]:
    """The panels the frame can draw: max_abs_w when measured; rot{k} and norm{k} for each hidden layer whose
    rotation was measured (a normalization after it)."""
    if frame is None:
        return []
    out = ["max_abs_w"] if "max_abs_w" in frame else []
    layers = sorted(int(m.group(1)) for c in frame.columns if (m := re.fullmatch(r"rot(\d+)", c)))
    for k in layers:
        out += [f"rot{k}"] + ([f"norm{k}"] if f"l2_weight{k}" in frame and f"l2_bias{k}" in frame else [])
    return out


def panel_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """The measured values of a panel: the column itself, or norm{k} = √(l2_weight{k}² + l2_bias{k}²)."""
    if column.startswith("norm"):
        k = column[len("norm"):]
        return np.sqrt(frame[f"l2_weight{k}"] ** 2 + frame[f"l2_bias{k}"] ** 2)
    return frame[column]


def panel_title(column: str) -> tuple[str, str]:
    """(figure title, y-axis title) of a panel."""
    m = re.fullmatch(r"(rot|norm)(\d+)", column)
    title, axis = TITLES[m.group(1)] if m else TITLES[column]
    return (title.format(k=m.group(2)) if m else title), axis


OFF_SCALE = 2.5   # a predicted line this many times above every measured value is named, not drawn to scale


def _off_scale(fig: go.Figure, measured: pd.Series) -> None:
    """A prediction far above the curves (a box of 1/λ = 10 over weights near 1) would flatten them: the y-axis
    keeps to the curves and a note at its top names the lines left above it (layout meta "off_scale": their λ)."""
    top = float(measured.max()) if measured.notna().any() else math.nan
    if not math.isfinite(top) or top <= 0:
        return
    laws = [t for t in fig.data if (t.meta or {}).get("role") == "law"]
    above = [t for t in laws if t.meta["value"] > OFF_SCALE * top]
    if not above:
        return
    kept = [t.meta["value"] for t in laws if t not in above]
    fig.update_yaxes(range=[0, 1.2 * max([top] + kept)], autorange=False)
    listed = ", ".join(f"{wd_label(t.meta['wd'])}: {t.meta['value']:.3g}" for t in above)
    fig.add_annotation(text=f"↑ above the scale — {listed}", xref="paper", yref="paper", x=1, y=1, xanchor="right",
                       yanchor="top", showarrow=False, font=dict(size=11, color="#666"),
                       bgcolor="rgba(255,255,255,0.8)")   # inside the plot's top, clear of the legend above
    fig.update_layout(meta={"off_scale": [t.meta["wd"] for t in above]})


def law_figure(frame: pd.DataFrame, column: str, laws: Sequence = (), *, epochs_total: int | None = None,
               height: int = 360, legend: bool = True) -> go.Figure:
    """One panel (law_columns): the measured curve per λ (the mean over seeds, min–max band with several) and
    the predictions of `laws` for it dashed in the λ's colour. Trace meta: {"panel", "role": line | band | law |
    law-key, "wd"}. Epoch 0 has no rotation (no step yet): it is left out."""
    title, axis = panel_title(column)
    fig = go.Figure()
    n_wd = frame["weight_decay"].nunique() if frame is not None and not frame.empty else 0
    n_laws = len({p.law for p in drawn_predictions(frame, laws, column)})
    rows = legend_rows_for(legend_room(n_wd, len(tau_epochs(frame, laws)), n_laws)) if legend else 0
    if frame is not None and not frame.empty:
        colors = wd_colors(frame["weight_decay"].unique())
        keep = set(thin(np.sort(frame["epoch"].unique())).tolist())
        drawn = frame[frame["epoch"].isin(keep)]
        drawn = drawn.assign(v=panel_values(drawn, column).replace([np.inf, -np.inf], np.nan))
        n_seeds = frame["seed"].nunique()
        taus = tau_epochs(frame, laws)
        for w, group in drawn.groupby("weight_decay", sort=True):
            label, color = wd_label(w), colors[float(w)]
            tau = f", {tau_text(taus[float(w)])}" if float(w) in taus else ""
            stats = group.groupby("epoch")["v"]
            mean = stats.mean().dropna()
            x = mean.index.to_numpy()
            if n_seeds > 1:
                lo, hi = stats.min().loc[mean.index], stats.max().loc[mean.index]
                inside = color[color.index("(") + 1:color.index(")")]
                fig.add_trace(go.Scatter(
                    x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi.to_numpy(), lo.to_numpy()[::-1]]),
                    fill="toself", fillcolor=f"rgba({inside}, 0.18)", line=dict(width=0), hoverinfo="skip",
                    legendgroup=label, showlegend=False, name=f"{label} band",
                    meta={"panel": column, "role": "band", "wd": float(w)}))
            seeds = f"mean of {n_seeds} seeds" if n_seeds > 1 else f"seed {int(group['seed'].iloc[0])}"
            fig.add_trace(go.Scatter(
                x=x, y=mean.to_numpy(), mode="lines", name=label + tau, legendgroup=label, showlegend=legend,
                line=dict(color=color, width=2.2), meta={"panel": column, "role": "line", "wd": float(w)},
                hovertemplate=f"{label}<br>{seeds}<br>epoch %{{x}}<br>{axis} = %{{y:.5g}}<extra></extra>"))
        x_end = epochs_total or float(frame["epoch"].max())
        for trace in law_traces(frame, laws, column, colors, x_end, legend=legend):
            fig.add_trace(trace)
        _off_scale(fig, drawn.loc[~drawn["diverged"], "v"])
    fig.update_layout(
        height=height + 24 * max(rows - 1, 0), font=FONT, template="plotly_white", hovermode="closest",
        title=dict(text=title, x=0, xanchor="left", y=0.99, yref="container", yanchor="top", font=dict(size=14)),
        margin=dict(l=10, r=10, t=legend_top(max(rows, 1)), b=10), showlegend=legend,
        legend=dict(groupclick="togglegroup", orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom",
                    yref="paper", entrywidth=0, font=dict(size=12)))
    fig.update_xaxes(title_text="epoch", range=[0, epochs_total] if epochs_total else None, showline=True,
                     linecolor="#bbb")
    fig.update_yaxes(title_text=axis, showline=True, linecolor="#bbb", exponentformat="e")
    return fig
