"""The learning-rate schedule as a figure: lr_t by epoch and, for decoupled decay, AdamW's per-step shrink lr_t·λ."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from wdlab.plots.curves import group_label, wd_colors, wd_label
from wdlab.plots.style import AXIS, build_figure, title_layout
from wdlab.registry import schedules
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig

MAX_POINTS = 400   # steps drawn (evenly picked, first and last kept): the curve's shape, not every step


def lr_curve(cfg: SweepConfig, n_train: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, lr_t): x = the epoch a step ends at (t+1)/batches per epoch, lr_t = lr·f(t) the lr of step t."""
    steps = schedules.steps_of(cfg, n_train)
    t = np.unique(np.linspace(0, steps.total - 1, min(steps.total, MAX_POINTS)).round().astype(int))
    f = np.array([schedules.factor(cfg, int(i), steps) for i in t])
    return (t + 1) / steps.per_epoch, lr * f


def schedule_figure(cfg: SweepConfig, n_train: int, group: tuple[str, float] | None = None,
                    height: int = 260) -> go.Figure:
    """lr_t of the group (optimizer, lr) (the sweep's only one by default) on the left axis; with decoupled decay
    the per-step shrink lr_t·λ of each λ > 0 (dotted, log scale) on the right: where decay acts most."""
    opt, lr = group or (cfg.optimizers[0], cfg.lrs[0])
    x, lr_t = lr_curve(cfg, n_train, lr)
    data = [dict(type="scatter", x=x.tolist(), y=lr_t.tolist(), mode="lines", name=f"lr_t ({group_label(opt, lr)})",
                 line=dict(color="#333", width=2), hovertemplate="epoch %{x:.2f}<br>lr_t %{y:.3g}<extra></extra>")]
    decoupled = not OPTIMIZERS[opt].coupled
    if decoupled:
        colors = wd_colors(cfg.weight_decays)
        for w in cfg.weight_decays:
            if w > 0:
                data.append(dict(type="scatter", x=x.tolist(), y=(lr_t * w).tolist(), mode="lines", yaxis="y2",
                                 name=f"shrink lr_t·λ, {wd_label(w)}", line=dict(color=colors[w], dash="dot"),
                                 hovertemplate="epoch %{x:.2f}<br>w *= 1 − %{y:.3g}<extra></extra>"))
    layout = dict(height=height, margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                  title=title_layout(f"Learning rate: {schedules.describe(cfg)}"),
                  xaxis=dict(title="epoch", **AXIS), yaxis=dict(title="lr_t", rangemode="tozero", **AXIS),
                  legend=dict(orientation="h", y=-0.25))
    if decoupled:
        layout["yaxis2"] = dict(title="per-step shrink lr_t·λ", overlaying="y", side="right", type="log",
                                exponentformat="power", showgrid=False, **AXIS)
    return build_figure(data, layout)
