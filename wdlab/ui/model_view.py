"""The models themselves, for every λ: boundaries or fitted curves, weights, accuracy and per-layer ‖W‖, by epoch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from wdlab.engine.predict import model_data
from wdlab.plots import curves as plots
from wdlab.plots import model as pm
from wdlab.run.jobs import Job, data_fingerprint
from wdlab.settings.config import SweepConfig
from wdlab.ui import model_outputs, model_play, model_weights, results
from wdlab.ui.state import Pinned, shown
from wdlab.ui.text import note

LIVE_SECONDS = 1.5          # while training, the pictures follow the latest snapshot this often
CHART = results.CHART_CONFIG


@dataclass(frozen=True)
class Points:
    """The points a picture draws (numpy), from modelview.model_data: the first seed's data, or the table."""

    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray
    yv: np.ndarray
    task: str
    n_classes: int
    features: tuple[str, ...]


def _points(job: Job, key: str, data: Any = None) -> Points | None:
    """The job's data as numpy, once per job (a table stays this visitor's: kept in its session only). A
    finished job on a table has let go of it: `data`, the table on screen, if it is the one the job trained on;
    else None."""
    memo = st.session_state.get(f"_mv_points_{key}")
    if memo is not None and memo[0] is job:
        return memo[1]
    table = job.data
    if table is None and job.cfg.preset == "csv":
        if data is None or len(job.key) < 3 or data_fingerprint(data) != job.key[2]:
            return None
        table = data
    d = model_data(job.cfg, table)
    y = d.y_train.numpy().reshape(len(d.y_train), -1)[:, 0] if d.task != "classification" else d.y_train.numpy()
    yv = d.y_val.numpy().reshape(len(d.y_val), -1)[:, 0] if d.task != "classification" else d.y_val.numpy()
    points = Points(d.X_train.numpy(), y, d.X_val.numpy(), yv, d.task, d.n_classes,
                    tuple(d.feature_names) or tuple(f"x{i + 1}" for i in range(d.in_dim)))
    st.session_state[f"_mv_points_{key}"] = (job, points)
    return points


def model_view(job: Job, frame: pd.DataFrame | None, key: str, live: bool = False, data: Any = None) -> None:
    """The "see the model" section under a run's curves: pictures at the slider's epoch and the extra curves.
    Live (frame None: the job's rows as they come): the section polls on its own, every LIVE_SECONDS, and the
    slider's end is the latest snapshot taken; the pictures follow it unless the slider is moved back."""
    cfg = job.cfg
    group = results.chosen_group(cfg, key)
    shown_frame = None if frame is None else \
        plots.select_group(frame, group) if group is not None and not frame.empty else frame
    snaps = getattr(job, "snapshots", None)
    st.subheader("The models themselves")
    if snaps is None:
        _no_pictures(job, shown_frame, key, live)
        return
    # a fragment: moving the slider or a toggle redraws this section only; while training it ticks (a finished
    # run's pictures play in the browser: plots.animate)
    every = LIVE_SECONDS if live else None
    st.fragment(_pictures, run_every=every)(job, shown_frame, key, group, live, data)
    if not live:  # a finished run: its models on the held-out rows (filters, confusion, predicted vs actual)
        model_outputs.model_outputs(job, shown_frame, key, group, data)


def _no_pictures(job: Job, frame: pd.DataFrame | None, key: str, live: bool) -> None:
    """Why there are no pictures, in words, then the curves that need none."""
    st.caption("The pictures appear once training starts." if live else
               "While other results are open on this server, it let go of this run's parameter snapshots to "
               "stay within its memory, so only the curves below are drawn. Train it again to see the "
               "pictures." if getattr(job, "let_go", False) else
               "No parameter snapshots were kept for this run, so only the curves below are drawn.")
    if frame is not None:
        model_weights.curves(frame, job.cfg, key, None)


def _pictures(job: Job, frame: pd.DataFrame, key: str, group, live: bool, data: Any = None) -> None:
    """The slider, the play button and the pictures at the chosen epoch (frame: the shown group's rows, as the
    curves above drew them)."""
    job = Pinned(job)   # one set of snapshots for this whole run of the fragment
    cfg, snaps = job.cfg, job.snapshots
    if snaps is None:   # let go since the page drew them (the server's results bound)
        _no_pictures(job, frame, key, live)
        return
    if live and job.snapshot(with_frame=False).elapsed < LIVE_SECONDS:
        # a new sweep's first page run: its curves get the machine (and the browser) first; the next tick draws
        st.caption("The pictures of the models follow in a moment.")
        return
    if frame is None:  # live: the rows so far (the same object until a new epoch lands)
        frame = job.frame()
        frame = plots.select_group(frame, group) if group is not None and not frame.empty else frame
    taken = snaps.taken()
    if snaps.note:
        note("caption", snaps.note, key=f"{key}_mv_note")
    if not taken:
        st.caption("The pictures appear once the first epoch is trained.")
        model_weights.curves(frame, cfg, key, None)
        return
    # the slider spans the epochs kept so far, so it never offers (or sits at) an epoch with no pictures: a
    # cancelled or diverged run's ends where its pictures do, and the slider and "Showing epoch N" agree
    epochs = list(taken)
    # While training the slider is another widget than the finished view's: a browser still holding a live
    # slider's value (a tick's delta cut short by the rerun that draws the finished view) sends it with the next
    # rerun, and that stale epoch then sat on the finished slider while the text named another (issue #27, item 2)
    slider = f"{key}_mv_epoch" + ("_live" if live else "")
    end = f"{slider}_end"
    if st.session_state.get(slider) not in epochs or st.session_state.get(slider) == st.session_state.get(end):
        st.session_state[slider] = epochs[-1]  # at the end it follows the newest snapshot
    st.session_state[end] = epochs[-1]
    label = "epoch (the pictures and the dotted line on the curves below)"
    if len(epochs) > 1:
        # its default is what it shows now (state.shown): a browser that lost the widget's state sends the default
        epoch = st.select_slider(label, options=epochs, value=st.session_state[slider], key=slider,
                                 help=f"The parameters are kept at {len(snaps.epochs)} epochs of {cfg.epochs}, "
                                      "closer together early, where training changes the most.")
    else:
        epoch = epochs[0]
        st.caption(f"{label}: only epoch {epoch} is kept so far.")
    planned = [e for e in snaps.epochs if e > epochs[-1]]
    stopped = "" if live or not planned else _stopped(job, epochs[-1])
    ahead = " — the latest so far, training goes on" if live and epoch == epochs[-1] and planned else ""
    st.caption(f"Showing epoch {epoch}{ahead}.{stopped}")
    members = _members(snaps, cfg, group, key)
    points = _points(job.job, key, data)   # kept in the session: the job itself, not this run's pinned view
    if points is None:
        st.caption("Upload the table this run was trained on again to see its models over its points.")
    elif points.X.shape[1] in (1, 2):
        _function(job, points, members, epoch, epochs, frame, key, live)
    model_weights.weights(job, points, members, epoch, key, frame, live)
    model_weights.curves(frame, cfg, key, epoch)


def _stopped(job: Job, last: int) -> str:
    """Why a finished run's pictures end at `last` before its last planned epoch, in words."""
    now = job.snapshot(with_frame=False)
    if now.status == "cancelled":
        return f" The run was cancelled, so the pictures end at epoch {last}, the last one kept."
    if now.diverged:
        return (f" Every model diverged by epoch {max(now.diverged.values())}, so the pictures end at "
                f"epoch {last}, the last one kept before that.")
    return f" The pictures end at epoch {last}, the last one kept."


def _members(snaps, cfg: SweepConfig, group, key: str) -> list:
    """The kept members of the shown (optimizer, lr) group and one seed (chosen when several were kept), by λ."""
    kept = [m for m in snaps.members if group is None or (m.optimizer, m.lr) == group]
    seeds = sorted({m.seed for m in kept})
    seed = seeds[0] if seeds else None
    if len(seeds) > 1:
        seed = st.selectbox("seed of the pictures", seeds, index=seeds.index(shown(f"{key}_mv_seed", seeds[0]))
                            if shown(f"{key}_mv_seed", seeds[0]) in seeds else 0, key=f"{key}_mv_seed")
    return sorted((m for m in kept if m.seed == seed), key=lambda m: m.weight_decay)


def _function(job: Job, points: Points, members: list, epoch: int, epochs: list[int], frame: pd.DataFrame,
              key: str, live: bool) -> None:
    """2-D inputs: a panel per λ over the input plane; 1-D inputs: every λ's fitted curve over the points."""
    show_val = st.toggle("validation points", shown(f"{key}_mv_val", False), key=f"{key}_mv_val",
                         help="Training points are filled; the held-out points are drawn hollow on top.")
    val = (points.Xv, points.yv) if show_val else None
    kind = pm.surface_kind(points.task, points.n_classes)
    model_play.function_view(job, points, members, epoch, epochs, frame, key, val, live, CHART)
    gone = [(m, at) for m in members if (at := job.snapshots.diverged_at(m)) is not None and at <= epoch]
    for m, at in gone:  # the panel says so too; in words here, for the epoch the page is at
        note("caption", f"{plots.wd_label(m.weight_decay)}: diverged at epoch {at}, nothing to draw.",
             key=f"{key}_mv_div_{m.weight_decay}")
    plays = " ▶ under the figure plays every kept epoch in your browser; its slider picks one." \
        if not live and len(epochs) > 1 else ""
    if points.X.shape[1] == 2:
        st.caption(("**What to look for:** the colour is the predicted probability of class 1 (blue = class 0, "
                    "white = 50/50, red = class 1) on one scale for every panel, the black line the decision "
                    "boundary. Without decay the boundary bends around single training points; as λ grows it "
                    "smooths out — and too much λ flattens it until it no longer separates the classes."
                    if kind == "binary" else "**What to look for:** how each λ's prediction over the input plane "
                    "changes, one colour scale for every panel.") + plays)
    else:
        st.caption("**What to look for:** without decay a wide net bends its curve through every training point "
                   "(and far off between them); with λ in the right range the curve follows the trend and "
                   "ignores the noise; with too much λ it flattens towards the mean." + plays)
