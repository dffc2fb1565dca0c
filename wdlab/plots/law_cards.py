"""A law's figure for the Laws page: what a run measured, every epoch, beside what the law predicts (dashed)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from wdlab.laws.catalog import LAWS, tau_number
from wdlab.laws.predict import Prediction
from wdlab.plots.style import AXIS, build_figure, plain
from wdlab.registry.optimizers import OPTIMIZERS

# Okabe–Ito: distinct for the colour-blind; one colour per (λ, layer) of a run.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
Y_TITLES = {"ridge": "‖w‖₂ (weights and bias)", "ridge_loss": "training loss (MSE)", "box": "max |w|",
            "rotation": "angle turned per step (rad)", "norm": "‖(W, b)‖ of the layer", "timescale": "‖w‖₂"}
MEMBER = ["optimizer", "lr", "weight_decay", "seed"]


def series(frame: pd.DataFrame, column: str) -> pd.Series:
    """A frame column by name, norm{k} being √(l2_weight{k}² + l2_bias{k}²) (the layer's whole (W, b))."""
    if column.startswith("norm"):
        k = column[len("norm"):]
        return (frame[f"l2_weight{k}"] ** 2 + frame[f"l2_bias{k}"] ** 2) ** 0.5
    return frame[column]


def layers(frame: pd.DataFrame, pattern: str) -> list[int | None]:
    """The hidden layers a per-layer law's column exists for (rot1, rot2, …), or [None] for one column."""
    if "{k}" not in pattern:
        return [None]
    probe = "l2_weight{k}" if pattern.startswith("norm") else pattern
    found, k = [], 1
    while probe.format(k=k) in frame and k <= len(frame.columns):
        found.append(k)
        k += 1
    return found[:-1] if pattern.startswith("norm") else found   # the last l2_weight is the output layer's


def law_figure(law: str, frame: pd.DataFrame, preds: list[Prediction], height: int = 330) -> go.Figure:
    """Each member's (and hidden layer's) measured column against the epoch, solid; each applying prediction of
    `law` dashed in the same colour, from the epoch it is measured from (the box: its ceiling); the timescale:
    the norm with a dotted line at τ epochs per λ. Traces carry meta {role: measured | predicted | tau, wd, layer}."""
    pattern = LAWS[law].column or "l2_norm"
    data: list[dict] = []
    keys: dict[tuple, str] = {}
    last = float(frame.epoch.max()) if not frame.empty else 1.0

    def colour(wd: float, layer: int | None) -> str:
        return keys.setdefault((wd, layer), COLOURS[len(keys) % len(COLOURS)])

    shown: set = set()
    for member, rows in frame.groupby(MEMBER, sort=True):
        opt, _, wd, seed = member
        for k in layers(frame, pattern):
            column = pattern.format(k=k)
            y = series(rows, column).replace([np.inf, -np.inf], np.nan)
            keep = y.notna().to_numpy()
            name = f"{OPTIMIZERS[opt].label} λ {wd:g}" + (f", layer {k}" if k else "")
            data.append(dict(type="scatter", mode="lines", x=rows.epoch.to_numpy()[keep], y=y.to_numpy()[keep],
                             name=plain(name), legendgroup=name, showlegend=name not in shown,
                             line=dict(color=colour(wd, k), width=1.6),
                             hovertemplate=f"{plain(name)}, seed {seed}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>",
                             meta=dict(role="measured", wd=float(wd), layer=k, seed=int(seed))))
            shown.add(name)
    drawn: set = set()
    for p in preds:
        if p.law != law or not p.applies or p.value is None:
            continue
        m = p.member
        if law == "timescale":
            tau = p.detail["tau_epochs"]
            if tau > last or (m.weight_decay, tau) in drawn:
                continue
            drawn.add((m.weight_decay, tau))
            data.append(_vertical(frame, tau, colour(m.weight_decay, None), f"τ at λ {m.weight_decay:g}: "
                                  f"{tau_number(tau, 3)} epochs", m.weight_decay))
            continue
        key = (m.weight_decay, p.layer, round(p.value, 12), p.from_epoch)
        if key in drawn:   # seeds of one λ share a prediction (the equilibrium laws): drawn once
            continue
        drawn.add(key)
        what = "box 1/λ (ceiling)" if p.bound else "predicted"
        name = f"{what}, λ {m.weight_decay:g}" + (f", layer {p.layer}" if p.layer else "")
        start = float(p.from_epoch or 0)
        data.append(dict(type="scatter", mode="lines", x=[start, last], y=[p.value, p.value], name=plain(name),
                         line=dict(color=colour(m.weight_decay, p.layer), width=2.2, dash="dash"),
                         hovertemplate=f"{plain(name)}: {p.value:.4g}<br>{plain(LAWS[law].formula)}<extra></extra>",
                         meta=dict(role="predicted", wd=float(m.weight_decay), layer=p.layer, value=p.value)))
    # the legend below the axis title (a phone wraps it into rows; above, a phone's mode bar covered it)
    layout = dict(height=height, margin=dict(l=10, r=10, t=10, b=10),
                  xaxis=dict(title=dict(text="epoch"), **AXIS),
                  # the first steps turn 10× faster than equilibrium: a log scale keeps the settled rates readable
                  yaxis=dict(title=dict(text=Y_TITLES[law]), type="log" if law == "rotation" else "linear", **AXIS),
                  legend=dict(orientation="h", yanchor="top", y=-0.32, x=0), hovermode="closest")
    return build_figure(data, layout)


def _vertical(frame: pd.DataFrame, x: float, colour: str, name: str, wd: float) -> dict:
    y = frame["l2_norm"].replace([np.inf, -np.inf], np.nan) if "l2_norm" in frame else pd.Series([0.0, 1.0])
    low, high = float(np.nanmin(y)) if len(y) else 0.0, float(np.nanmax(y)) if len(y) else 1.0
    return dict(type="scatter", mode="lines", x=[x, x], y=[low, high], name=plain(name),
                line=dict(color=colour, width=1.5, dash="dot"),
                hovertemplate=f"{plain(name)}<br>{plain(LAWS['timescale'].formula)}<extra></extra>",
                meta=dict(role="tau", wd=float(wd), layer=None, value=x))
