"""The grokking view (no streamlit): accuracy and ‖w‖₂ by step per λ, each λ's grok step marked, and its table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from wdlab.frame.grokking import GROKKED, MEMORISED, events
from wdlab.plots.curves import FONT, thin, wd_colors, wd_label

TITLES = {"acc": "Accuracy: validation (solid), train (dotted)", "norm": "L2 norm of the weights ‖w‖₂"}


def _mean_curve(group: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    curve = group.groupby("epoch")[column].mean()
    return curve.index.to_numpy(), curve.to_numpy()


LABEL_GAP = 0.12   # two step labels closer than this share of the x-axis would overlap on a phone's width


def _free_level(placed: list[tuple[int, int]], step: int, gap: float) -> int:
    """The lowest label row with no label within `gap` steps of `step`."""
    level = 0
    while any(abs(step - s) < gap and lv == level for s, lv in placed):
        level += 1
    return level


def grokking_figure(frame: pd.DataFrame, epochs_total: int | None = None, height: int = 430,
                    panels: tuple[str, ...] = ("acc", "norm")) -> go.Figure:
    """Left: validation (solid) and training (dotted) accuracy by step; right: ‖w‖₂ (`panels` picks either or
    both, in that order: the app draws them as two figures, side by side or stacked on a phone). A star marks the step
    each λ groks (validation accuracy first ≥ 90 %) on both panels, a circle the step its training accuracy
    first passed 99 %. Several seeds: the lines are their means, the marks each seed's own steps.
    Each trace's `meta`: {"panel": acc|norm, "role": val|train|grok|memorised, "wd"}."""
    cols = {p: i + 1 for i, p in enumerate(panels)}
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[TITLES[p] for p in panels] if len(panels) > 1
                        else None, horizontal_spacing=0.08)
    if len(panels) == 1:   # one panel: its title starts at the left edge (centred, a phone's width clipped its end)
        fig.update_layout(title=dict(text=TITLES[panels[0]], x=0, xanchor="left", y=0.99, yref="container",
                                     yanchor="top", font=dict(size=14)))
    if frame is not None and not frame.empty and "val_acc" in frame:
        colors = wd_colors(frame["weight_decay"].unique())
        keep = set(thin(np.sort(frame["epoch"].unique())).tolist())
        ev = events(frame)
        placed: list[tuple[int, int]] = []   # the grok-step labels drawn so far: (step, row)
        for w, group in frame.groupby("weight_decay", sort=True):
            color, label = colors[float(w)], wd_label(w)
            drawn = group[group["epoch"].isin(keep)]
            for column, role, panel, dash in (("val_acc", "val", "acc", "solid"), ("train_acc", "train", "acc", "dot"),
                                              ("l2_norm", "norm", "norm", "solid")):
                if panel not in cols:
                    continue
                x, y = _mean_curve(drawn, column)
                fig.add_trace(go.Scatter(
                    x=x, y=y, mode="lines", name=label, legendgroup=label,
                    showlegend=role == ("val" if "acc" in cols else "norm"),
                    line=dict(color=color, width=2.4 if role != "train" else 1.6, dash=dash),
                    meta={"panel": panel, "role": role, "wd": float(w)},
                    hovertemplate=f"{label}<br>step %{{x}}<br>{column} = %{{y:.4g}}<extra></extra>"),
                    row=1, col=cols[panel])
            mine = ev[ev["weight_decay"] == w]
            for r in mine.itertuples():
                g = group[group["seed"] == r.seed].set_index("epoch")
                if not pd.isna(r.memorised) and "acc" in cols:
                    m = int(r.memorised)
                    fig.add_trace(go.Scatter(
                        x=[m], y=[float(g.loc[m, "train_acc"])], mode="markers", legendgroup=label, showlegend=False,
                        marker=dict(symbol="circle-open", size=10, color=color, line=dict(width=2)),
                        name=f"{label} memorised", meta={"panel": "acc", "role": "memorised", "wd": float(w)},
                        hovertemplate=f"{label}, seed {r.seed}<br>training accuracy ≥ {MEMORISED:.0%} "
                                      f"from step {m}<extra></extra>"), row=1, col=1)
                if pd.isna(r.grokked):
                    continue
                s = int(r.grokked)
                delay = f" ({int(r.delay)} steps after memorising)" if not pd.isna(r.delay) else ""
                text = f"{label}, seed {r.seed}<br>groks at step {s}{delay}"
                for column, panel in (("val_acc", "acc"), ("l2_norm", "norm")):
                    if panel not in cols:
                        continue
                    fig.add_trace(go.Scatter(
                        x=[s], y=[float(g.loc[s, column])], mode="markers", legendgroup=label, showlegend=False,
                        marker=dict(symbol="star", size=15, color=color, line=dict(width=1, color="white")),
                        name=f"{label} groks", meta={"panel": panel, "role": "grok", "wd": float(w)},
                        hovertemplate=text + "<extra></extra>"), row=1, col=cols[panel])
                if "acc" in cols:
                    fig.add_vline(x=s, line=dict(color=color, width=1, dash="dot"), row=1, col=cols["acc"])
                    # labels of nearby steps go one row up each, so they never sit on one another
                    level = _free_level(placed, s, LABEL_GAP * (epochs_total or int(frame["epoch"].max()) or 1))
                    placed.append((s, level))
                    fig.add_annotation(x=s, y=GROKKED, text=str(s), showarrow=False, yshift=16 + 14 * level,
                                       xanchor="right", font=dict(size=11, color=color), name="grok_step",
                                       row=1, col=cols["acc"])
    if "acc" in cols:
        fig.add_hline(y=GROKKED, line=dict(color="#999", width=1, dash="dash"), row=1, col=cols["acc"])
    fig.update_layout(height=height, font=FONT, margin=dict(l=10, r=10, t=48, b=10), hovermode="closest",
                      showlegend=True,
                      template="plotly_white",
                      legend=dict(title="weight_decay", groupclick="togglegroup", orientation="h", y=-0.22,
                                  x=0, yanchor="top"))
    xrange = [0, epochs_total] if epochs_total else None
    fig.update_xaxes(title_text="step (epoch, full batch)", range=xrange, matches="x", showline=True,
                     linecolor="#bbb")
    fig.update_yaxes(showline=True, linecolor="#bbb")
    for panel, col in cols.items():
        if panel == "acc":
            fig.update_yaxes(title_text="accuracy", range=[-0.02, 1.02], row=1, col=col)
        else:
            fig.update_yaxes(title_text="‖w‖₂", row=1, col=col)
    return fig


def grok_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per member: when it grokked and the delay after memorising, its validation accuracy, when it memorised,
    ‖w‖₂ when fitted (100 %) and at the end. What the learner reads first comes first (a phone shows about three
    columns), and the headers are short enough for all of them to fit a desktop's width."""
    ev = events(frame)
    step = lambda c: [str(int(v)) if not pd.isna(v) else "never" for v in ev[c]]  # noqa: E731  (text: Arrow)
    return pd.DataFrame({
        "λ (weight_decay)": ev["weight_decay"],
        f"val acc ≥ {GROKKED:.0%} at step": step("grokked"),
        "delay (steps)": step("delay"),
        "final val acc": ev["val_acc_final"], "best val acc": ev["val_acc_max"],
        f"train acc ≥ {MEMORISED:.0%} at step": step("memorised"),
        "‖w‖₂ at 100 % train acc": ev["norm_fitted"], "‖w‖₂ at the end": ev["norm_final"],
        "seed": ev["seed"],
    })
