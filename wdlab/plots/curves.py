"""Pure Plotly builders: the tidy sweep frame -> figures and summary tables (no streamlit)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from wdlab.frame.schema import compared_rows, with_gap
from wdlab.plots.law_lines import law_keys, law_traces, tau_epochs, tau_text
from wdlab.settings.reading import DEFAULT_AT
from wdlab.plots.scale import log_ticks, y_range
from wdlab.registry.optimizers import OPTIMIZERS

MAX_POINTS = 400          # points per drawn curve; longer runs are drawn at every k-th epoch (values unchanged)
PANELS = (("train_loss", "Training loss (mean during each epoch)"), ("l2_norm", "L2 norm of the weights ‖w‖₂"))
PANEL_KEYS = tuple(k for k, _ in PANELS)
VAL_TITLE = "Loss: training (solid, epoch mean), validation (dashed)"   # fits a phone's width (390 px)
FONT = dict(family="Inter, system-ui, sans-serif", size=13)


def wd_label(w: float) -> str:
    return "λ = 0" if w == 0 else f"λ = {w:g}"


def group_label(optimizer: str, lr: float) -> str:
    """A (optimizer, lr) group of a grid, as a legend or a selector names it."""
    spec = OPTIMIZERS.get(optimizer)
    return f"{spec.label if spec else optimizer}, lr {lr:g}"


def groups(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """The (optimizer, lr) groups in the frame, in its row order (the config's: registry order, then lr)."""
    if frame is None or frame.empty or "optimizer" not in frame or "lr" not in frame:
        return []
    return list(dict.fromkeys(zip(frame["optimizer"], frame["lr"].astype(float))))


def select_group(frame: pd.DataFrame, group: tuple[str, float] | None) -> pd.DataFrame:
    """The rows of one (optimizer, lr) group (the whole frame for None)."""
    if group is None or "optimizer" not in frame:
        return frame
    return frame[(frame["optimizer"] == group[0]) & (frame["lr"] == group[1])]


def wd_colors(wds) -> dict[float, str]:
    """One colour per λ on a sequential scale ordered by λ (λ = 0 darkest); yellow end cut for contrast."""
    wds = sorted(set(float(w) for w in wds))
    points = [0.0] if len(wds) == 1 else [0.88 * i / (len(wds) - 1) for i in range(len(wds))]
    return dict(zip(wds, sample_colorscale("Viridis", points)))


def _rgba(color: str, alpha: float) -> str:
    inside = color[color.index("(") + 1:color.index(")")]
    return f"rgba({inside}, {alpha})"


def _finite(s: pd.Series) -> pd.Series:
    return s.replace([np.inf, -np.inf], np.nan)


def thin(epochs: np.ndarray) -> np.ndarray:
    """Epochs to draw: all of them, or every k-th plus the last, to keep a curve ≤ MAX_POINTS."""
    if len(epochs) <= MAX_POINTS:
        return epochs
    step = math.ceil(len(epochs) / MAX_POINTS)
    return np.union1d(epochs[::step], epochs[-1:])


def curves_figure(frame: pd.DataFrame, *, log_y: bool = False, show_val: bool = False, band: str = "minmax",
                  epochs_total: int | None = None, height: int = 430, panels: tuple[str, ...] = PANEL_KEYS,
                  shared: Sequence[pd.DataFrame] | None = None, legend: bool = True,
                  legend_rows: int | None = None, laws: Sequence = ()) -> go.Figure:
    """Training loss and L2 norm against epoch (`panels`: both side by side, or one); one colour per λ.

    With several seeds each λ is a mean line plus a band (band="minmax" or "std"). Each trace's `meta`
    says what it is: {"panel", "role" (line|val|band|diverged), "wd"}. The legend sits above the plot (never
    beside it, where a phone has no room); legend=False leaves it out but keeps its room (legend_rows), so a
    figure drawn beside one with a legend lines up. The y-axis keeps the finite part of a blow-up readable,
    and `shared` (the frames of runs compared side by side, this one included) gives them one y-scale.
    laws: wdlab.laws predictions (of every member; those of the frame's members are drawn): the ridge
    solution's ‖w*‖ dashed on the ‖w‖₂ panel in its λ's colour (plots.law_lines); an AdamW member's legend
    entry gives its timescale τ = 1/(lr·λ) in epochs.
    """
    # with the validation lines the loss panel's title says it holds both
    titles = [VAL_TITLE if show_val and key == "train_loss" else title for key, title in PANELS if key in panels]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles if len(titles) > 1 else None,
                        horizontal_spacing=0.08)
    if len(titles) == 1:
        fig.update_layout(title=dict(text=titles[0], x=0, xanchor="left", y=0.99, yref="container",
                                     yanchor="top", font=dict(size=14)))
    n_wd = frame["weight_decay"].nunique() if frame is not None and not frame.empty else 0
    rows = legend_rows if legend_rows is not None else legend_rows_for(n_wd * (2 if show_val else 1), len(titles))
    if frame is None or frame.empty:
        _layout(fig, log_y, epochs_total, height, panels, rows, legend)
        return fig
    colors = wd_colors(frame["weight_decay"].unique())
    n_seeds = frame["seed"].nunique()
    keep = set(thin(np.sort(frame["epoch"].unique())).tolist())
    drawn = frame[frame["epoch"].isin(keep)]
    taus = tau_epochs(frame, laws)
    for w, group in drawn.groupby("weight_decay", sort=True):
        color, label = colors[float(w)], wd_label(w)
        tau = f", {tau_text(taus[float(w)])}" if float(w) in taus else ""
        for col, (metric, title) in enumerate([p for p in PANELS if p[0] in panels], 1):
            specs = [(metric, "line")] + ([("val_loss", "val")] if show_val and metric == "train_loss" else [])
            for column, role in specs:
                name = label + tau if role == "line" else f"{label} (validation)"
                stats = group.assign(v=_finite(group[column])).groupby("epoch")["v"]
                if n_seeds == 1:
                    seed = int(group["seed"].iloc[0])
                    g = group.sort_values("epoch")
                    x, y = g["epoch"].to_numpy(), _finite(g[column]).to_numpy()
                    seed_text = str(seed)
                else:
                    mean = stats.mean()
                    x, y = mean.index.to_numpy(), mean.to_numpy()
                    seed_text = f"mean of {n_seeds} seeds"
                    if role == "line" and band:
                        lo, hi = (stats.min(), stats.max()) if band == "minmax" else \
                            (mean - stats.std(ddof=0), mean + stats.std(ddof=0))
                        fig.add_trace(go.Scatter(
                            x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi.to_numpy(), lo.to_numpy()[::-1]]),
                            fill="toself", fillcolor=_rgba(color, 0.18), line=dict(width=0), hoverinfo="skip",
                            legendgroup=label, showlegend=False, name=f"{label} band",
                            meta={"panel": metric, "role": "band", "wd": float(w)}), row=1, col=col)
                fig.add_trace(go.Scatter(
                    x=x, y=y, mode="lines", name=name, legendgroup=label,
                    showlegend=legend and ((col == 1 and role == "line") or role == "val"),
                    line=dict(color=color, width=2.2 if role == "line" else 1.6,
                              dash="dash" if role == "val" else "solid"),
                    meta={"panel": metric, "role": role, "wd": float(w)},
                    hovertemplate=f"{label}<br>seed {seed_text}<br>epoch %{{x}}<br>"
                                  f"{column} = %{{y:.5g}}<extra></extra>"), row=1, col=col)
    if laws and "l2_norm" in panels:
        x_end = epochs_total or float(frame["epoch"].max())
        col = [k for k in PANEL_KEYS if k in panels].index("l2_norm") + 1
        for trace in law_traces(frame, laws, "l2_norm", colors, x_end, legend=False):
            fig.add_trace(trace, row=1, col=col)
    if laws and legend:   # the legend (on the first panel's figure) keys the laws drawn on ‖w‖₂, here or beside
        for trace in law_keys(frame, laws, "l2_norm"):
            fig.add_trace(trace, row=1, col=1)
    ranges = {}
    for col, metric in enumerate([k for k in PANEL_KEYS if k in panels], 1):
        columns = [metric] + (["val_loss"] if show_val and metric == "train_loss" else [])
        ranges[metric] = y_range(list(shared) if shared else [frame], columns, log_y, shared=bool(shared))
        if ranges[metric] is not None:
            fig.update_yaxes(range=ranges[metric].as_list(), autorange=False, row=1, col=col)
    _mark_diverged(fig, frame, panels, ranges)
    _layout(fig, log_y, epochs_total, height, panels, rows, legend)
    if log_y:  # a label per decade, minor ticks unlabelled
        for col, metric in enumerate([k for k in PANEL_KEYS if k in panels], 1):
            columns = [metric] + (["val_loss"] if show_val and metric == "train_loss" else [])
            fig.update_yaxes(**log_ticks(frame[[c for c in columns if c in frame]].to_numpy().ravel()),
                             row=1, col=col)
    # the page says so under the figure (an annotation here would sit on the legend)
    fig.update_layout(meta={"clipped": any(r is not None and r.clipped for r in ranges.values())})
    return fig


def legend_rows_for(entries: int, panels: int = 1) -> int:
    """Rows a horizontal legend of `entries` takes above a figure on a phone, where a figure has the screen's
    width: about 2 a row per panel (a desktop fits 4 a row; it then keeps a row or two to spare)."""
    return max(1, math.ceil(entries / (2 * panels))) if entries else 0


def legend_top(rows: int) -> int:
    """The top margin that holds the title and `rows` legend rows (about 30 px each) under it."""
    return 34 + 30 * rows


def _mark_diverged(fig: go.Figure, frame: pd.DataFrame, panels, ranges: dict) -> None:
    """An ✕ at each diverged member's last finite value (at the top edge if that is off-scale), at its epoch."""
    for row in frame[frame["diverged"]].itertuples():
        member = frame[(frame["weight_decay"] == row.weight_decay) & (frame["seed"] == row.seed)]
        for col, metric in enumerate([k for k in PANEL_KEYS if k in panels], 1):
            finite = member[np.isfinite(member[metric])]
            y = float(finite[metric].iloc[-1]) if len(finite) else None
            r = ranges.get(metric)
            off = y is not None and r is not None and y > r.top
            fig.add_trace(go.Scatter(
                x=[row.epoch], y=[r.top if off else y], mode="markers", cliponaxis=False,
                marker=dict(symbol="x", size=12, color="#d62728"),
                legendgroup=wd_label(row.weight_decay), showlegend=False, name="diverged",
                meta={"panel": metric, "role": "diverged", "wd": float(row.weight_decay)},
                hovertemplate=f"{wd_label(row.weight_decay)}, seed {row.seed}<br>diverged at epoch {row.epoch}"
                              + (f"<br>last finite {metric} = {y:.3g} (off the scale)" if off else "")
                              + "<extra></extra>"), row=1, col=col)


def _layout(fig: go.Figure, log_y: bool, epochs_total: int | None, height: int, panels=PANEL_KEYS,
            legend_rows: int = 1, legend: bool = True) -> None:
    top = legend_top(legend_rows)
    fig.update_layout(height=height + 24 * max(legend_rows - 1, 0), font=FONT,
                      margin=dict(l=10, r=10, t=top, b=10), hovermode="closest", showlegend=legend,
                      legend=dict(groupclick="togglegroup", orientation="h", x=0, xanchor="left", y=1.0,
                                  yanchor="bottom", yref="paper", entrywidth=0, font=dict(size=12)),
                      template="plotly_white")
    xrange = [0, epochs_total] if epochs_total else None  # a fixed axis: curves grow instead of rescaling
    fig.update_xaxes(title_text="epoch", range=xrange, matches="x", showline=True, linecolor="#bbb")
    fig.update_yaxes(type="log" if log_y else "linear", showline=True, linecolor="#bbb", exponentformat="e")
    scale = " (log scale)" if log_y else ""
    for col, metric in enumerate([k for k in PANEL_KEYS if k in panels], 1):
        fig.update_yaxes(title_text=("loss" if metric == "train_loss" else "‖w‖₂") + scale, row=1, col=col)


def summary_frame(frame: pd.DataFrame, at: str = DEFAULT_AT) -> pd.DataFrame:
    """One row per (optimizer, lr,) λ: metrics read `at` (frame.schema.compared_rows: each member's best epoch by
    default) averaged over seeds (std alongside), diverged members counted. train_eval_loss (the training set's
    loss with the weights of that epoch) is the "train loss"."""
    final = with_gap(compared_rows(frame, at))
    cols = ["train_eval_loss", "train_loss", "val_loss", "gap", "l2_norm"] + \
        [c for c in ("train_eval_acc", "train_acc", "val_acc") if c in final]
    keys = [c for c in ("optimizer", "lr", "weight_decay") if c in final]
    finite = final[~final["diverged"]]
    out = finite.groupby(keys, sort=False)[cols].mean()
    std = finite.groupby(keys, sort=False)[cols].std(ddof=0).add_suffix("_std")
    counts = final.groupby(keys, sort=False).agg(seeds=("seed", "size"), diverged=("diverged", "sum"))
    return counts.join(out).join(std).reset_index()


def best_wd(summary: pd.DataFrame) -> float | None:
    """λ with the lowest mean validation loss among members that did not diverge."""
    ok = summary.dropna(subset=["val_loss"])
    return None if ok.empty else float(ok.loc[ok["val_loss"].idxmin(), "weight_decay"])


def wd_positions(wds) -> tuple[dict[float, float], list[float], list[str]]:
    """x position per λ on a log10 axis; λ = 0 sits one decade left of the smallest positive λ (labelled 0)."""
    wds = sorted(set(float(w) for w in wds))
    pos = [w for w in wds if w > 0]
    low = math.floor(math.log10(min(pos))) if pos else 0
    x = {w: (math.log10(w) if w > 0 else low - 1) for w in wds}
    ticks = list(range(low, math.ceil(math.log10(max(pos))) + 1)) if pos else []
    tickvals = ([low - 1] if 0.0 in x else []) + ticks
    ticktext = (["0"] if 0.0 in x else []) + [f"1e{t}" if t not in (0, 1) else str(10 ** t) for t in ticks]
    return x, tickvals, ticktext


# each read `at` (summary_frame): the page's caption says where
SUMMARY = (("train_eval_loss", "Training loss, end-of-epoch weights"), ("val_loss", "Validation loss"),
           ("gap", "Generalization gap (val − train)"), ("l2_norm", "L2 norm ‖w‖₂"))


def summary_figure(frame: pd.DataFrame, height: int = 340, metrics: tuple[str, ...] | None = None,
                   at: str = DEFAULT_AT) -> go.Figure:
    """Train loss, val loss, gap and L2 norm read `at` against λ (log x, λ = 0 kept); best λ by val loss starred.
    `metrics`: a subset, e.g. one panel per figure (the page lays the figures out for its width)."""
    summary = summary_frame(frame, at)
    chosen = [(m, t) for m, t in SUMMARY if metrics is None or m in metrics]
    fig = make_subplots(rows=1, cols=len(chosen), subplot_titles=[t for _, t in chosen], horizontal_spacing=0.06)
    x, tickvals, ticktext = wd_positions(summary["weight_decay"])
    xs = [x[float(w)] for w in summary["weight_decay"]]
    colors = wd_colors(summary["weight_decay"])
    best = best_wd(summary)
    labels = [wd_label(w) for w in summary["weight_decay"]]
    for col, (metric, title) in enumerate(chosen, 1):
        err = summary[f"{metric}_std"] if summary["seeds"].max() > 1 else None
        fig.add_trace(go.Scatter(
            x=xs, y=summary[metric], mode="lines+markers", name=title, showlegend=False,
            line=dict(color="#888", width=1.2), error_y=None if err is None else dict(array=err, thickness=1),
            marker=dict(size=10, color=[colors[float(w)] for w in summary["weight_decay"]]),
            customdata=labels, meta={"panel": metric, "role": "summary"},
            hovertemplate=f"%{{customdata}}<br>{metric} = %{{y:.5g}}<extra></extra>"), row=1, col=col)
        if best is not None and metric == "val_loss":
            yb = float(summary.loc[summary["weight_decay"] == best, metric].iloc[0])
            fig.add_trace(go.Scatter(
                x=[x[best]], y=[yb], mode="markers+text", text=["best"], textposition="top center", cliponaxis=False,
                marker=dict(symbol="star", size=18, color="#e45756", line=dict(color="white", width=1)),
                showlegend=False, name="best λ", meta={"panel": metric, "role": "best", "wd": best},
                hovertemplate=f"lowest validation loss: {wd_label(best)}<extra></extra>"), row=1, col=col)
        if 0.0 in x and len(x) > 1:  # a dotted break: the axis is logarithmic only right of it
            fig.add_vline(x=tickvals[0] + 0.5,
                          line=dict(color="#ccc", dash="dot", width=1), row=1, col=col)
    fig.update_xaxes(tickvals=tickvals, ticktext=ticktext, title_text="weight_decay λ (log scale)",
                     showline=True, linecolor="#bbb")
    fig.update_yaxes(showline=True, linecolor="#bbb", exponentformat="e")  # 8e-06, not the SI "8μ"
    fig.update_layout(height=height, font=FONT, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
    fig.update_annotations(font_size=13)
    return fig


COMPARE = (("l2_norm", "L2 norm ‖w‖₂"), ("val_loss", "Validation loss"))


def compare_figure(frames: dict[str, pd.DataFrame], height: int = 360, metrics: tuple[str, ...] | None = None,
                   legend: bool = True, at: str = DEFAULT_AT) -> go.Figure:
    """L2 norm and validation loss read `at` against λ, one line per named frame (Adam+L2 vs AdamW; the groups
    of a grid); the legend above the plot. `metrics`: a subset (one panel per figure)."""
    chosen = [(m, t) for m, t in COMPARE if metrics is None or m in metrics]
    fig = make_subplots(rows=1, cols=len(chosen), subplot_titles=[t for _, t in chosen], horizontal_spacing=0.08)
    palette = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b", "#9d755d",
               "#ff9da6", "#bab0ac"]
    all_wds = sorted(set().union(*(set(f["weight_decay"].unique()) for f in frames.values())))
    x, tickvals, ticktext = wd_positions(all_wds)
    for i, (name, frame) in enumerate(frames.items()):
        s = summary_frame(frame, at)
        for col, (metric, _) in enumerate(chosen, 1):
            fig.add_trace(go.Scatter(
                x=[x[float(w)] for w in s["weight_decay"]], y=s[metric], mode="lines+markers", name=name,
                legendgroup=name, showlegend=legend and col == 1,
                line=dict(color=palette[i % len(palette)], width=2.4, dash=("solid", "dash", "dot")[i // 10 % 3]),
                customdata=[wd_label(w) for w in s["weight_decay"]], meta={"panel": metric, "role": name},
                hovertemplate=f"{name}<br>%{{customdata}}<br>{metric} = %{{y:.5g}}<extra></extra>"), row=1, col=col)
    fig.update_xaxes(tickvals=tickvals, ticktext=ticktext, title_text="weight_decay λ (log scale)")
    fig.update_yaxes(exponentformat="e")
    # the legend under the λ axis, never beside the plot (a phone has no room there) nor above it, where its rows
    # wrap into the panel titles on a phone; Plotly grows the bottom margin to hold it
    fig.update_layout(height=height + (22 * len(frames) if legend else 0), font=FONT,
                      margin=dict(l=10, r=10, t=40, b=10), template="plotly_white", showlegend=legend,
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.22, yanchor="top"))
    return fig


def grid_figure(frame: pd.DataFrame, height: int = 360, metrics: tuple[str, ...] | None = None,
                legend: bool = True, at: str = DEFAULT_AT) -> go.Figure:
    """A grid over optimizers and learning rates: L2 norm and validation loss read `at` against λ, a line per
    (optimizer, lr) group."""
    return compare_figure({group_label(*g): select_group(frame, g) for g in groups(frame)}, height=height,
                          metrics=metrics, legend=legend, at=at)
