"""The models' weights at the slider's epoch (histograms, or a linear model's bars) and the per-layer curves."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from wdlab.plots import model as pm
from wdlab.plots.animate import animated
from wdlab.plots.curves import wd_label
from wdlab.plots.scale import y_range
from wdlab.run.jobs import Job
from wdlab.settings.config import SweepConfig
from wdlab.ui.results import CHART_CONFIG as CHART
from wdlab.ui.state import shown


def _memo(name: str, stamp):
    memo = st.session_state.get(name)
    return memo[1] if memo is not None and memo[0] == stamp else None


def weights(job: Job, points, members: list, epoch: int, key: str, frame: pd.DataFrame | None = None,
            live: bool = False) -> None:
    """Histograms of every λ's weights at the epoch, on an axis fixed over the whole run (a linear model: a bar per
    feature). A model diverging is marked where its ‖w‖₂ at the epoch is above the top of the ‖w‖₂ curves (frame:
    the rows those curves drew), and one that diverged by then is named: it has no weights left to draw. A finished
    run's histograms hold every kept epoch as a frame, played and scrubbed in the browser (plots.animate)."""
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
    off = off_scale(frame, members, epoch)
    gone = {m: at for m in members if (at := snaps.diverged_at(m)) is not None and at <= epoch}
    # a finished run with no model diverged: every kept epoch is a frame of one figure that plays in the browser
    animate = not live and len(taken) > 1 and all(snaps.diverged_at(m) is None for m in members)
    stamp = (job.key, tuple(members), choice, len(taken), frame is None)
    memo = st.session_state.get(f"_mv_w_{key}")
    built = memo[1] if memo is not None and memo[0] == stamp else {}
    calm = [m for m in members if snaps.diverged_at(m) is None] or members

    def pick(params):
        mats = pm.weight_layers(snaps.names, params)
        return [w for n, w in mats if choice in ("all layers", n)]

    def build(e: int):
        if e in built:
            return built[e]
        now = {m.weight_decay: pick(p) for m in members if (p := snaps.params(e, m)) is not None}
        # the axis fits the models that did not diverge (a blow-up would squeeze them into one bar), when there are any
        bound = _bound(job, key, calm, pick, choice, taken, 100.0 if linear else 99.5)  # bars: every one on the axis
        names = {m.weight_decay: f"{wd_label(m.weight_decay)} ✕ diverging" for m in off_scale(frame, members, e)}
        if linear:
            width = snaps.shapes[0][1] if snaps.shapes and len(snaps.shapes[0]) == 2 else 0
            features = points.features if points is not None else tuple(f"x{i + 1}" for i in range(width))
            built[e] = pm.feature_weights_figure({w: v[0] for w, v in now.items()}, features, bound=bound,
                                                 names=names, title=f"Weight per feature at epoch {e}",
                                                 meta={"epoch": int(e)})
        else:
            built[e] = pm.weights_figure({w: np.concatenate([a.ravel() for a in v]) for w, v in now.items()},
                                         bound=bound, names=names, title=f"Weights ({choice}) at epoch {e}",
                                         meta={"epoch": int(e)})
        return built[e]

    if animate:
        key_fig = ("animated", epoch)
        if key_fig not in built:
            built[key_fig] = animated([(e, build(e)) for e in taken], epoch)
        fig = built[key_fig]
    else:
        fig = build(epoch)
    st.session_state[f"_mv_w_{key}"] = (stamp, built)
    st.plotly_chart(fig, key=f"{key}_mv_weights", config=CHART)
    if animate:
        st.caption("▶ under the histograms plays them through every kept epoch in your browser; their own slider "
                   "picks an epoch (the title follows it). The slider above moves every picture on this page.")
    if off or gone:
        st.caption(" ".join(
            ([f"✕ diverging: at epoch {epoch} the ‖w‖₂ of {', '.join(wd_label(m.weight_decay) for m in off)} is "
              "already above the top of the ‖w‖₂ curves' axis (it keeps the finite start of a blow-up readable); "
              "each row's title gives the real size" + ("." if len(off) == len(members) else
                                                        ", and weights beyond this axis land in its edge bins.")]
             if off else []) +
            [f"{wd_label(m.weight_decay)} diverged at epoch {at}: no weights to draw from then on." for m, at in
             gone.items()]))
    st.caption("**What to look for:** " + ("each bar is the model's weight on that input; decay pulls every bar "
               "toward 0, the ones the data does not support first." if linear else
               "decay pulls the weights toward 0 — the histogram narrows as λ grows (same axis for every λ and "
               "every epoch; the few largest weights beyond it are counted in its edge bins). ‖w‖₂ here counts these "
               "weight matrices only, not the biases."))


def off_scale(frame: pd.DataFrame | None, members: list, epoch: int) -> list:
    """The members whose ‖w‖₂ (l2_norm) at `epoch` is above the top of the ‖w‖₂ curves drawn from `frame`
    (plots.scale.y_range leaves a blow-up off-scale)."""
    if frame is None or frame.empty or "l2_norm" not in frame:
        return []
    top = y_range([frame], ["l2_norm"])
    if top is None or not top.clipped:
        return []
    at = frame[frame["epoch"] == epoch].set_index(["weight_decay", "seed"])["l2_norm"]
    return [m for m in members if (m.weight_decay, m.seed) in at.index
            and float(at.loc[(m.weight_decay, m.seed)]) > top.top]


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
