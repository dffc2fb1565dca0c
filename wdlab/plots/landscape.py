"""Pure Plotly builders for the landscape: one map per optimizer, lr × λ cells as square markers."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from wdlab.frame.landscape import LOWER_IS_BETTER, best_per_lr, top_cells
from wdlab.plots.law_lines import tau_number
from wdlab.registry.optimizers import OPTIMIZERS

AXES = {"weight_decay": "λ (weight_decay)", "lr_wd": "lr·λ (per-step decay of torch's AdamW)",
        "tau_epochs": "τ = 1/(lr·λ) in epochs (AdamW's timescale)"}
COUPLED_TAU = "1/(lr·λ) in epochs (a timescale only for decoupled decay)"


def _tau_positions(values) -> tuple[dict, list, list]:
    """log10 positions for τ; λ = 0 (τ = ∞) as its own column one decade right of the largest."""
    finite = sorted({v for v in values if math.isfinite(v)})
    right = (math.log10(finite[-1]) if finite else 0.0) + 1.0
    pos = {v: (math.log10(v) if math.isfinite(v) else right) for v in set(values)}
    ticks = sorted(set(pos.values()))
    text = ["∞ (λ = 0)" if t == right and math.inf in pos else tau_number(10 ** t) for t in ticks]
    return pos, ticks, text


def _positions(values) -> tuple[dict, list, list]:
    """log10 positions for the x values, with 0 (no decay) as its own column one decade left of the smallest."""
    positive = sorted({v for v in values if v > 0})
    left = (math.log10(positive[0]) if positive else 0.0) - 1.0
    pos = {v: (math.log10(v) if v > 0 else left) for v in set(values)}
    ticks = sorted(set(pos.values()))
    text = ["0" if t == left and 0 in pos else f"{10 ** t:.3g}" for t in ticks]
    return pos, ticks, text


def landscape_figure(c: pd.DataFrame, optimizer: str, title: str, *, metric: str = "val_loss",
                     axis: str = "weight_decay", range_: tuple[float, float] | None = None,
                     selected: tuple | None = None, height: int = 360) -> go.Figure:
    """One optimizer's map: y = lr (log), x = λ or lr·λ (log, λ = 0 as its own column), colour = the metric on
    a scale shared by the maps (`range_`), the best 10 % outlined, the best cell starred. Each cell's
    customdata is (optimizer, lr, λ): a click selects it (square-marker scatter, so Streamlit reports it)."""
    g = c[c.optimizer == optimizer]
    low = LOWER_IS_BETTER[metric]
    pos, ticks, text = (_tau_positions if axis == "tau_epochs" else _positions)(g[axis].tolist())
    top = set(map(tuple, top_cells(c, metric)[["optimizer", "lr", "weight_decay"]].values.tolist()))
    keys = list(zip(g.optimizer, g.lr, g.weight_decay))
    lo, hi = range_ or (g.value.min(), g.value.max())
    tau = [f"τ {tau_number(v)} epochs" if math.isfinite(v) else "τ ∞ (no decay)" for v in g[axis]] \
        if axis == "tau_epochs" else None
    # cells of 26 px; smaller where two columns stand close (0.1 and 0.3: half a decade), so that they do not
    # overlap at a phone's width (~190 px of plot for the whole λ span)
    xs = sorted(set(pos.values()))
    share = min((b - a for a, b in zip(xs, xs[1:])), default=1.0) / ((xs[-1] - xs[0]) or 1.0)
    size = 26 if share >= 0.2 else max(12, round(26 * share / 0.2))
    fig = go.Figure(go.Scatter(
        x=[pos[v] for v in g[axis]], y=g.lr, mode="markers",
        marker=dict(symbol="square", size=size, color=g.value, colorscale="Viridis", reversescale=low, cmin=lo,
                    cmax=hi, showscale=True, colorbar=dict(title=dict(text=metric, side="right"), thickness=12),
                    line=dict(width=[3 if k in top else 0.5 for k in keys],
                              color=["#111" if k in top else "rgba(0,0,0,0.25)" for k in keys])),
        customdata=[[o, lr, w] for o, lr, w in keys],
        text=tau,
        hovertemplate="lr %{customdata[1]:.3g}<br>λ %{customdata[2]:.3g}<br>" + ("%{text}<br>" if tau else "")
                      + metric + " %{marker.color:.4g}<extra></extra>",
        meta={"role": "cells", "optimizer": optimizer}, name="cells", showlegend=False))
    best = best_per_lr(g, metric)
    star = g.sort_values("value", ascending=low).head(1)
    fig.add_scatter(x=[pos[v] for v in star[axis]], y=star.lr, mode="markers", hoverinfo="skip",
                    marker=dict(symbol="star", size=16, color="white", line=dict(width=1.5, color="#111")),
                    meta={"role": "best", "optimizer": optimizer}, name="best cell", showlegend=False)
    # the best λ per lr: a white line on a dark edge, visible on every colour of the scale (a white dotted line alone
    # vanished on the light cells)
    bx, by = [pos[v] for v in best[axis]], best.lr
    fig.add_scatter(x=bx, y=by, mode="lines", hoverinfo="skip", line=dict(color="#111", width=6),
                    meta={"role": "best_per_lr_edge", "optimizer": optimizer}, name="best λ per lr", showlegend=False)
    fig.add_scatter(x=bx, y=by, mode="lines+markers", hoverinfo="skip", line=dict(color="white", width=2.5),
                    marker=dict(symbol="circle", size=9, color="white", line=dict(color="#111", width=2)),
                    meta={"role": "best_per_lr", "optimizer": optimizer}, name="best λ per lr", showlegend=False)
    if selected is not None and selected[0] == optimizer:
        at = g[(g.lr == selected[1]) & (g.weight_decay == selected[2])][axis]
        fig.add_scatter(x=[pos[at.iloc[0]]] if len(at) else [], y=[selected[1]],
                        mode="markers", hoverinfo="skip", showlegend=False, meta={"role": "selected"},
                        marker=dict(symbol="square-open", size=size + 8, color="#e4572e", line=dict(width=3)))
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height, margin=dict(l=10, r=10, t=40, b=10),
                      clickmode="event+select", dragmode=False, plot_bgcolor="white")
    coupled = axis == "tau_epochs" and optimizer in OPTIMIZERS and OPTIMIZERS[optimizer].coupled
    fig.update_xaxes(title=COUPLED_TAU if coupled else AXES[axis], tickvals=ticks, ticktext=text, showgrid=False, zeroline=False)
    lrs = sorted(set(g.lr))
    fig.update_yaxes(title="learning rate", type="log", showgrid=False, tickvals=lrs, ticktext=[f"{v:g}" for v in lrs])
    return fig
