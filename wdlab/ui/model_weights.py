"""The models' weights at the slider's epoch (histograms, or a linear model's bars) and the per-layer curves."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from wdlab.plots import model as pm
from wdlab.run.jobs import Job
from wdlab.settings.config import SweepConfig
from wdlab.ui.results import CHART_CONFIG as CHART
from wdlab.ui.state import shown


def _memo(name: str, stamp):
    memo = st.session_state.get(name)
    return memo[1] if memo is not None and memo[0] == stamp else None


def weights(job: Job, points,  members: list, epoch: int, key: str) -> None:
    """Histograms of every λ's weights at the epoch, on an axis fixed over the whole run (a linear model: a bar per
    feature)."""
    snaps, cfg = job.snapshots, job.cfg
    linear = not cfg.hidden
    layers = [n for n, _ in pm.weight_layers(snaps.names, [np.zeros(s) for s in snaps.shapes])]
    choice = "all layers"
    if not linear and len(layers) > 1:
        options = ["all layers"] + layers
        choice = st.radio("weights of", options, index=options.index(shown(f"{key}_mv_layer", "all layers"))
                          if shown(f"{key}_mv_layer", "all layers") in options else 0, key=f"{key}_mv_layer",
                          horizontal=True)
    taken = snaps.taken()
    stamp = (job.key, epoch, tuple(members), choice, len(taken))
    fig = _memo(f"_mv_w_{key}", stamp)
    if fig is None:
        def pick(params):
            mats = pm.weight_layers(snaps.names, params)
            return [w for n, w in mats if choice in ("all layers", n)]
        now = {m.weight_decay: pick(p) for m in members if (p := snaps.params(epoch, m)) is not None}
        bound = _bound(job, key, members, pick, choice, taken, 100.0 if linear else 99.5)  # bars: every one on the axis
        if linear:
            width = snaps.shapes[0][1] if snaps.shapes and len(snaps.shapes[0]) == 2 else 0
            features = points.features if points is not None else tuple(f"x{i + 1}" for i in range(width))
            fig = pm.feature_weights_figure({w: v[0] for w, v in now.items()}, features, bound=bound,
                                            title=f"Weight per feature at epoch {epoch}",
                                            meta={"epoch": int(epoch)})
        else:
            fig = pm.weights_figure({w: np.concatenate([a.ravel() for a in v]) for w, v in now.items()},
                                    bound=bound, title=f"Weights ({choice}) at epoch {epoch}",
                                    meta={"epoch": int(epoch)})
        st.session_state[f"_mv_w_{key}"] = (stamp, fig)
    st.plotly_chart(fig, key=f"{key}_mv_weights", config=CHART)
    st.caption("**What to look for:** " + ("each bar is the model's weight on that input; decay pulls every bar "
               "toward 0, the ones the data does not support first." if linear else
               "decay pulls the weights toward 0 — the histogram narrows as λ grows (same axis for every λ and "
               "every epoch; the few largest weights beyond it are counted in its edge bins). ‖w‖₂ here counts these "
               "weight matrices only, not the biases."))


def _bound(job: Job, key: str, members: list, pick, choice: str, taken, q: float = 99.5) -> float | None:
    """A fixed histogram axis: the largest q-th percentile of |w| (the chosen layers') over every taken epoch and
    shown member. The max would let a few large weights squeeze every other λ into one bar; the weights beyond
    it are counted in the edge bins, and each row's title gives its max |w|. Kept per view and grown with each
    new snapshot (a live view sees them one by one)."""
    name = f"_mv_bound_{key}"
    stamp = (job.key, tuple(members), choice, q)
    memo = st.session_state.get(name)
    best, done = (memo[1], memo[2]) if memo is not None and memo[0] == stamp else (0.0, frozenset())
    for e in taken:
        if e in done:
            continue
        for m in members:
            p = job.snapshots.params(e, m)
            if p is not None:
                flat = np.abs(np.concatenate([a.ravel() for a in pick(p)]))
                flat = flat[np.isfinite(flat)]
                if flat.size:
                    best = max(best, float(np.percentile(flat, q)))
    st.session_state[name] = (stamp, best, frozenset(taken))
    return best or None


def curves(frame: pd.DataFrame, cfg: SweepConfig, key: str, epoch: int | None) -> None:
    """Accuracy by epoch (classification) and each layer's ‖W‖₂, the slider's epoch dotted on them."""
    if frame is None or frame.empty:
        return
    stamp = (id(frame), len(frame), epoch)
    figs = _memo(f"_mv_curves_{key}", stamp)
    if figs is None:
        figs = []
        if "val_acc" in frame:
            figs.append(("acc", pm.accuracy_figure(frame, epoch=epoch, epochs_total=cfg.epochs, height=360)))
        for i, column in enumerate(pm.layer_columns(frame)):
            figs.append((column, pm.layer_norms_figure(frame, [column], epoch=epoch, epochs_total=cfg.epochs,
                                                       height=300, legend=False)))
        st.session_state[f"_mv_curves_{key}"] = (stamp, figs)
    if figs and figs[0][0] == "acc":
        st.plotly_chart(figs[0][1], key=f"{key}_mv_acc", config=CHART)
        figs = figs[1:]
    for start in range(0, len(figs), 3):
        for column, (name, fig) in zip(st.columns(min(3, len(figs))), figs[start:start + 3]):
            column.plotly_chart(fig, key=f"{key}_mv_{name}", config=CHART)
    if figs:
        st.caption("**What to look for:** decay acts on every layer's weight matrix, each λ in its colour above "
                   "(λ = 0 darkest); which layer's ‖W‖₂ it holds down most, and when, differs. Hover a line for its λ.")
