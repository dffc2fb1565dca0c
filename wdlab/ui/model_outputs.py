"""The model's own view of the data, under a finished run's pictures: a digit net's first-layer filters as images,
a confusion matrix per λ (classification) or predicted vs actual per λ (regression) on the held-out rows, and the
run's figures as one HTML file."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from wdlab.engine.predict import MAX_HELD, held_out_outputs, held_out_targets, model_data
from wdlab.plots import curves as plots
from wdlab.plots import outputs as po
from wdlab.plots.report import report_html
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.run.jobs import Job, data_fingerprint
from wdlab.settings.reading import describe_at
from wdlab.ui.results import CHART_CONFIG as CHART
from wdlab.ui.tables import download_name
from wdlab.ui.state import Pinned

UNITS = 6        # hidden units drawn per λ: the same ones in every row
PER_ROW = 3      # confusion / predicted-vs-actual panels per row at desktop width (a phone stacks them)


def job_data(job: Job, data: Any = None):
    """The Data the job trained on (a table's only while this visitor has it on screen: a finished job lets go of
    its own), else None."""
    table = job.data
    if table is None and job.cfg.preset == "csv":
        if data is None or len(job.key) < 3 or data_fingerprint(data) != job.key[2]:
            return None
        table = data
    return model_data(job.cfg, table)


def shown_members(snaps, group, epoch: int) -> list:
    """The kept members of the shown (optimizer, lr) group, of its first kept seed, that have parameters at
    `epoch` (a model that diverged before it has none), by λ."""
    kept = [m for m in snaps.members if group is None or (m.optimizer, m.lr) == group]
    seed = min((m.seed for m in kept), default=None)
    return sorted((m for m in kept if m.seed == seed and snaps.params(epoch, m) is not None),
                  key=lambda m: m.weight_decay)


def figures(job: Job, data, members: list, epoch: int) -> list[tuple[str, str, Any]]:
    """(kind, heading, figure) for the model's view of the held-out rows at `epoch`: filters (an image dataset's
    first layer), then one confusion or predicted-vs-actual panel per λ."""
    cfg, snaps = job.cfg, job.snapshots
    params = {m.weight_decay: snaps.params(epoch, m) for m in members}
    n_val = len(data.X_val)
    rows = f"{min(n_val, MAX_HELD):,} held-out rows" + (f" (the first of {n_val:,})" if n_val > MAX_HELD else "")
    out: list[tuple[str, str, Any]] = []
    image = DATASETS[cfg.preset].image
    if image is not None and params:
        lowest = min(params)
        first = {w: p[0] for w, p in params.items()}
        if cfg.hidden:
            units = po.top_units(first[lowest], UNITS)
            how = (f"the {len(units)} hidden units with the largest ‖w‖₂ at {plots.wd_label(lowest)}, the same "
                   "units in every row")
        else:
            units = list(range(first[lowest].shape[0]))
            how = "a linear model: one image per class (its weights on each pixel)"
        out.append(("filters", f"First-layer weights as {image[0]}×{image[1]} images at epoch {epoch} ({how})",
                    po.filters_figure({w: W[units] for w, W in first.items()}, units, side=image[0],
                                      title=f"First-layer weights at epoch {epoch} (the last kept)",
                                      column_title="hidden unit" if cfg.hidden else "class",
                                      column_names=None if cfg.hidden else [data.class_names[u] if
                                                                            data.class_names else str(u) for u in units],
                                      meta={"epoch": int(epoch), "how": how, "pixels": image[0] * image[1]})))
    actual = held_out_targets(data, MAX_HELD)
    outputs = {w: held_out_outputs(cfg, data, p, MAX_HELD) for w, p in params.items()}
    if data.task == "classification":
        labels = data.class_names or tuple(str(k) for k in range(data.n_classes))
        for w, pred in outputs.items():
            counts = po.confusion(actual, pred, data.n_classes)
            acc = float(np.trace(counts)) / max(1, int(counts.sum()))
            out.append(("confusion", f"Confusion matrix, {plots.wd_label(w)}, {rows}, epoch {epoch}",
                        po.confusion_figure(counts, labels, title=f"{plots.wd_label(w)} · accuracy {acc:.3f}",
                                            meta={"wd": float(w), "epoch": int(epoch), "accuracy": acc})))
        return out
    span = po.span_of(actual, *[p[np.isfinite(p)] for p in outputs.values()])
    name = data.target_name or "target"
    for w, pred in outputs.items():
        rmse, mae = po.errors(actual, pred)
        out.append(("predicted", f"Predicted vs actual, {plots.wd_label(w)}, {rows}, epoch {epoch}",
                    po.predicted_figure(actual, pred, wd=w, span=span, all_wds=list(outputs), target=name,
                                        title=f"{plots.wd_label(w)} · RMSE {po.fmt_error(rmse)} · "
                                              f"MAE {po.fmt_error(mae)}",
                                        meta={"epoch": int(epoch), "rmse": rmse, "mae": mae})))
    return out


def model_outputs(job: Job, frame: pd.DataFrame | None, key: str, group, data: Any = None) -> None:
    """The section: at the last kept snapshot of a finished run, the shown group's first seed."""
    job = Pinned(job)   # one set of snapshots for this whole section (the server's results bound may swap them)
    snaps = job.snapshots
    taken = snaps.taken() if snaps is not None else ()
    if not taken or frame is None:
        return
    epoch = taken[-1]
    members = shown_members(snaps, group, epoch)
    st.subheader("What each model makes of the data")
    # the figures are the job's; the table on screen only decides whether a finished table job can be drawn
    stamp = (job.key, epoch, tuple(members), id(data) if data is not None else None)
    memo = st.session_state.get(f"_mo_{key}")
    if memo is not None and memo[0] == stamp:
        figs = memo[1]
    else:
        d = job_data(job, data)
        figs = None if d is None or not members else (figures(job, d, members, epoch), d)
        st.session_state[f"_mo_{key}"] = (stamp, figs)
    if figs is None:
        st.caption("Upload the table this run was trained on again to see its models' predictions."
                   if members else "No model has parameters left to draw: every one diverged.")
        return
    figs, d = figs
    seed = f", seed {members[0].seed}" if len(job.cfg.seeds) > 1 else ""
    where = f"Read at epoch {epoch}, the last one kept{seed}, on the held-out rows."
    filters = [f for f in figs if f[0] == "filters"]
    if filters:
        fig = filters[0][2]
        info = fig.data[0].meta
        st.plotly_chart(fig, key=f"{key}_mo_filters", config=CHART)
        st.caption(f"**What to look for:** each image is one unit's weights on the {info['pixels']} pixels (red > 0, "
                   f"blue < 0, one scale for every image); shown: {info['how']}. Each λ started from the same random weights (same seed), so a column is one unit under each "
                   "λ. Without decay the filters stay noisy — even the corner pixels, always blank in the digits, "
                   "keep their random start; decay fades what the data does not support, leaving smoother strokes.")
    panels = [f for f in figs if f[0] != "filters"]
    _panels(panels, key)
    if panels and panels[0][0] == "confusion":
        st.caption("**What to look for:** each row is a true class, each column the class the model predicted; the "
                   "diagonal is right. Shaded by the share of the row (a cell's count is written in it; hover for "
                   f"the share). {where}")
    elif panels:
        units = " (the table's own units: the standardization undone)" if d.target_scale else ""
        st.caption("**What to look for:** each point is a held-out row: its actual target across, the model's "
                   "prediction up; on the dashed y = x line the prediction is exact. RMSE and MAE are in the "
                   f"target's units{units}. Too little decay scatters the points; too much pulls every "
                   f"prediction toward the mean (a flat band). {where}")
    download(job, frame, key, figs, epoch)


def _panels(panels: list, key: str) -> None:
    n = len(panels)
    if not n:
        return
    rows = max(1, math.ceil(n / PER_ROW))
    per_row = math.ceil(n / rows)
    for r in range(rows):
        for column, (kind, _, fig) in zip(st.columns(per_row), panels[r * per_row:(r + 1) * per_row]):
            w = (fig.data[-1].meta or {}).get("wd") if kind == "predicted" else (fig.data[0].meta or {}).get("wd")
            column.plotly_chart(fig, key=f"{key}_mo_{kind}_{w:g}", config=CHART)


def describe(cfg) -> str:
    """The run in one line, for the report."""
    model = f"hidden {'-'.join(map(str, cfg.hidden))} ({cfg.activation})" if cfg.hidden else "a linear model"
    opts = ", ".join(OPTIMIZERS[o].label for o in cfg.optimizers)
    return (f"{DATASETS[cfg.preset].title} · {model} · {opts}, lr {', '.join(f'{lr:g}' for lr in cfg.lrs)} · "
            f"λ = {', '.join(f'{w:g}' for w in cfg.weight_decays)} · {cfg.epochs} epochs · "
            f"seed{'s' if len(cfg.seeds) > 1 else ''} {', '.join(map(str, cfg.seeds))}")


def download(job: Job, frame: pd.DataFrame, key: str, figs: list, epoch: int) -> None:
    """The run's main figures as one HTML file, built only when asked for (it carries plotly.js: ~4.7 MB)."""
    cfg = job.cfg
    at = st.session_state.get(f"{key}_at", "best")
    tag = job.key[2] if len(job.key) > 2 else ""

    def build() -> bytes:
        main = [(f"{'Training loss' if p == 'train_loss' else 'L2 norm ‖w‖₂'} by epoch",
                 plots.curves_figure(frame, epochs_total=cfg.epochs, panels=(p,), legend=True))
                for p in plots.PANEL_KEYS]
        main.append((f"Across λ, read {describe_at(at)}", plots.summary_figure(frame, at=at)))
        lines = [describe(cfg), f"The model's view of the data: epoch {epoch}, the held-out rows."]
        return report_html("Weight decay lab — one run", lines, main + [(h, f) for _, h, f in figs]).encode()

    st.download_button("Download this run's figures (HTML)", data=build, mime="text/html", key=f"{key}_mo_html",
                       file_name=download_name(cfg, tag).replace(".csv", "_figures.html"), on_click="ignore",
                       icon=":material/download:",
                       help="One HTML file: the curves, the summary across λ and the pictures above, each still "
                            "interactive; it carries Plotly inside, so it opens offline (about 5 MB). For one "
                            "figure as a PNG, use the camera icon above it.")
