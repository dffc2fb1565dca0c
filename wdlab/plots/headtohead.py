"""Adam with L2 against AdamW, overlaid: a metric against λ or against lr·λ (one line per optimizer and lr), and
the curves by epoch at one λ; with what they show in words, computed from the runs (numpy, pandas, Plotly)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from wdlab.plots.curves import group_label, select_group, summary_frame, thin, wd_label, wd_positions
from wdlab.plots.style import AXIS, build_figure, title_layout
from wdlab.settings.reading import DEFAULT_AT

COLORS = {"adam": "#4c78a8", "adamw": "#f58518"}
DASHES = ("solid", "dash", "dot", "dashdot")
TITLES = {"l2_norm": "‖w‖₂", "val_loss": "validation loss", "val_acc": "validation accuracy"}
CLOSE = math.log10(1.15)   # two spreads within ×1.15 of each other tell nothing apart
X_TITLES = {"weight_decay": "λ, the same for both (log scale)",   # short: a phone clipped a longer one
            "lr_wd": "lr·λ, AdamW's shrink per step (log scale)"}


def table(frames: dict[str, pd.DataFrame], at: str = DEFAULT_AT) -> pd.DataFrame:
    """One row per (optimizer, lr, λ) of every frame: the metrics read `at` (plots.curves.summary_frame), lr·λ."""
    parts = []
    for frame in frames.values():
        for opt, lr in sorted({(o, float(r)) for o, r in zip(frame["optimizer"], frame["lr"])}):
            s = summary_frame(select_group(frame, (opt, lr)), at).assign(optimizer=opt, lr=lr)
            parts.append(s)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not out.empty:
        out["lr_wd"] = out["lr"] * out["weight_decay"]
    return out


def against_figure(rows: pd.DataFrame, metric: str, x: str, *, height: int = 360) -> go.Figure:
    """`metric` against λ (x="weight_decay") or lr·λ (x="lr_wd"): a line per (optimizer, lr), the colour the
    optimizer's, the dash the lr's. meta: {"role": "h2h", "optimizer", "lr", "x", "metric"}."""
    pos, tickvals, ticktext = wd_positions(rows[x]) if not rows.empty else ({}, [], [])
    lrs = sorted(rows["lr"].unique(), reverse=True) if not rows.empty else []
    data = []
    for (opt, lr), g in rows.groupby(["optimizer", "lr"], sort=True):
        g = g.sort_values(x)
        name = group_label(opt, lr)
        data.append(dict(type="scatter", x=[pos[float(v)] for v in g[x]], y=g[metric].tolist(), mode="lines+markers",
                         name=name, line=dict(color=COLORS.get(opt, "#888"), width=2.4,
                                              dash=DASHES[lrs.index(lr) % len(DASHES)]),
                         customdata=[[wd_label(w), f"{v:.3g}"] for w, v in zip(g["weight_decay"], g["lr_wd"])],
                         meta={"role": "h2h", "optimizer": opt, "lr": float(lr), "x": x, "metric": metric},
                         hovertemplate=f"{name}<br>%{{customdata[0]}}, lr·λ = %{{customdata[1]}}<br>"
                                       f"{metric} = %{{y:.4g}}<extra></extra>"))
    title = f"{TITLES.get(metric, metric).capitalize()} at equal {'λ' if x == 'weight_decay' else 'lr·λ'}"
    layout = dict(height=height, title=title_layout(title), hovermode="closest",
                  margin=dict(l=10, r=10, t=58, b=10),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)),
                  xaxis=dict(AXIS, tickvals=tickvals, ticktext=ticktext, title=dict(text=X_TITLES[x])),
                  yaxis=dict(AXIS, title=dict(text=TITLES.get(metric, metric)), exponentformat="e"))
    return build_figure(data, layout)


def epochs_figure(frames: dict[str, pd.DataFrame], wd: float, metric: str, *, height: int = 360) -> go.Figure:
    """`metric` by epoch at λ = wd, every (optimizer, lr) overlaid (means over seeds). meta: {"role":
    "h2h_epoch", "optimizer", "lr", "wd"}."""
    data, lrs = [], sorted({float(r) for f in frames.values() for r in f["lr"].unique()}, reverse=True)
    for frame in frames.values():
        picked = frame[np.isclose(frame["weight_decay"], wd)]
        for (opt, lr), g in picked.groupby(["optimizer", "lr"], sort=True):
            mean = g.groupby("epoch")[metric].mean()
            keep = thin(mean.index.to_numpy())
            mean = mean.loc[keep].replace([np.inf, -np.inf], np.nan)
            name = group_label(opt, lr)
            data.append(dict(type="scatter", x=mean.index.tolist(), y=mean.to_numpy(dtype=np.float32),
                             mode="lines", name=name,
                             line=dict(color=COLORS.get(opt, "#888"), width=2.2,
                                       dash=DASHES[lrs.index(float(lr)) % len(DASHES)]),
                             meta={"role": "h2h_epoch", "optimizer": opt, "lr": float(lr), "wd": float(wd)},
                             hovertemplate=f"{name}<br>epoch %{{x}}<br>{metric} = %{{y:.4g}}<extra></extra>"))
    layout = dict(height=height, title=title_layout(f"{TITLES.get(metric, metric).capitalize()} by epoch at "
                                                    f"{wd_label(wd)}, both optimizers"),
                  hovermode="closest", margin=dict(l=10, r=10, t=58, b=10),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=12)),
                  xaxis=dict(AXIS, title=dict(text="epoch")),
                  yaxis=dict(AXIS, title=dict(text=TITLES.get(metric, metric)), exponentformat="e"))
    return build_figure(data, layout)


def _ratio(a: float, b: float) -> str:
    return f"×{max(a, b) / min(a, b):.2g}"


def equal_wd_words(rows: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """What the runs show at equal λ: which optimizer holds ‖w‖₂ lower at each lr, and each one's lowest
    validation loss."""
    out = []
    for lr, g in rows[rows["weight_decay"] > 0].groupby("lr", sort=True):
        wide = g.pivot_table(index="weight_decay", columns="optimizer", values="l2_norm")
        if not {"adam", "adamw"} <= set(wide.columns):
            continue
        wide = wide.dropna()
        if wide.empty:
            continue
        smaller = (wide["adam"] < wide["adamw"]).sum()
        w = float(wide.index.max())
        a, b = float(wide.loc[w, "adam"]), float(wide.loc[w, "adamw"])
        out.append(f"At lr {lr:g}, the same λ holds ‖w‖₂ lower with {labels['adam']} at {smaller} of {len(wide)} "
                   f"λ > 0 and with {labels['adamw']} at {len(wide) - smaller}; at λ = {w:g}: {a:.3g} against "
                   f"{b:.3g} ({_ratio(a, b)}).")
    best = rows.dropna(subset=["val_loss"])
    if not best.empty:
        parts = []
        for opt, g in best.groupby("optimizer", sort=True):
            r = g.loc[g["val_loss"].idxmin()]
            parts.append(f"{labels.get(opt, opt)} {r.val_loss:.4g} at lr {r.lr:g}, λ = {r.weight_decay:g} "
                         f"(lr·λ = {r.lr_wd:.3g})")
        out.append("Lowest validation loss: " + "; ".join(parts) + ".")
    return out


def _spread(rows: pd.DataFrame, opt: str, x: str) -> tuple[float, int] | None:
    """How far apart an optimizer's lrs land at equal x: the mean |log10 ratio| of ‖w‖₂ over the x values that
    two or more lrs share (λ = 0 left out), and how many such values."""
    g = rows[(rows["optimizer"] == opt) & (rows["weight_decay"] > 0)].dropna(subset=["l2_norm"])
    g = g.assign(key=np.round(np.log10(g[x].astype(float)), 6))
    gaps = []
    for _, same in g.groupby("key"):
        if same["lr"].nunique() > 1:
            v = np.log10(same["l2_norm"].to_numpy(dtype=float))
            gaps.append(float(v.max() - v.min()))
    return (float(np.mean(gaps)), len(gaps)) if gaps else None


def equal_lr_wd_words(rows: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """What the runs show at equal lr·λ: with several lrs, whether an optimizer's ‖w‖₂ depends on λ or on
    lr·λ — its lrs' values agree more closely at equal λ or at equal lr·λ."""
    if rows.empty or rows["lr"].nunique() < 2:
        return ["With one learning rate, equal λ is equal lr·λ: add a second learning rate to tell them apart."]
    out = []
    for opt in sorted(rows["optimizer"].unique()):
        by_wd, by_prod = _spread(rows, opt, "weight_decay"), _spread(rows, opt, "lr_wd")
        if by_wd is None or by_prod is None:
            out.append(f"{labels.get(opt, opt)}: the learning rates share no λ > 0 or no lr·λ, nothing to match.")
            continue
        if abs(by_wd[0] - by_prod[0]) < CLOSE:
            verdict = "about as close either way, so these runs do not tell which its decay follows"
        else:
            verdict = f"its decay follows {'lr·λ' if by_prod[0] < by_wd[0] else 'λ'}"
        out.append(f"{labels.get(opt, opt)}: its learning rates' ‖w‖₂ differ by {_times(by_wd[0])} on average at "
                   f"equal λ ({by_wd[1]} values) and by {_times(by_prod[0])} at equal lr·λ ({by_prod[1]} values): "
                   f"{verdict}.")
    return out


def _times(log_gap: float) -> str:
    return f"×{10 ** log_gap:.2g}" if math.isfinite(log_gap) else "an unknown factor"
