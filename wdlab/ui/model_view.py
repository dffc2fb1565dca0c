"""The models themselves, for every λ: boundaries or fitted curves, weights, accuracy and per-layer ‖W‖, by epoch."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from wdlab.engine.predict import model_data, predict
from wdlab.plots import curves as plots
from wdlab.plots import model as pm
from wdlab.run.jobs import Job, data_fingerprint
from wdlab.settings.config import SweepConfig
from wdlab.ui import model_outputs, model_weights, results
from wdlab.ui.state import shown
from wdlab.ui.text import note

PLAY_SECONDS = 0.7          # one snapshot per tick while playing
LIVE_SECONDS = 1.5          # while training, the pictures follow the latest snapshot this often
PER_ROW = 4                 # boundary panels per row at desktop width (a phone stacks them)
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
        st.caption("The pictures appear once training starts." if live else
                   "No parameter snapshots were kept for this run, so only the curves below are drawn.")
        if shown_frame is not None:
            model_weights.curves(shown_frame, cfg, key, None)
        return
    playing = bool(st.session_state.get(f"{key}_mv_play"))
    # a fragment: moving the slider or a toggle redraws this section only; while playing (or training) it ticks
    every = PLAY_SECONDS if playing else LIVE_SECONDS if live else None
    st.fragment(_pictures, run_every=every)(job, shown_frame, key, group, live, data)
    if not live:  # a finished run: its models on the held-out rows (filters, confusion, predicted vs actual)
        model_outputs.model_outputs(job, shown_frame, key, group, data)


def _pictures(job: Job, frame: pd.DataFrame, key: str, group, live: bool, data: Any = None) -> None:
    """The slider, the play button and the pictures at the chosen epoch (frame: the shown group's rows, as the
    curves above drew them)."""
    if st.session_state.pop(f"{key}_mv_switch", False):
        st.rerun(scope="app")  # play or pause: the section's fragment starts or stops ticking
    cfg, snaps = job.cfg, job.snapshots
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
    slider, end = f"{key}_mv_epoch", f"{key}_mv_end"
    if st.session_state.get(slider) not in epochs or st.session_state.get(slider) == st.session_state.get(end):
        st.session_state[slider] = epochs[-1]  # at the end it follows the newest snapshot
    st.session_state[end] = epochs[-1]
    _advance(key, slider, epochs, taken)
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    label = "epoch (the pictures and the dotted line on the curves below)"
    if len(epochs) > 1:
        # its default is what it shows now (state.shown): a browser that lost the widget's state sends the default
        epoch = c1.select_slider(label, options=epochs, value=st.session_state[slider], key=slider,
                                 help=f"The parameters are kept at {len(snaps.epochs)} epochs of {cfg.epochs}, "
                                      "closer together early, where training changes the most.")
    else:
        epoch = epochs[0]
        c1.caption(f"{label}: only epoch {epoch} is kept so far.")
    playing = bool(st.session_state.get(f"{key}_mv_play"))
    c2.button("Pause" if playing else "Play", key=f"{key}_mv_playbtn", width="stretch",
              icon=":material/pause:" if playing else ":material/play_arrow:", on_click=_toggle_play,
              args=(key, slider, epochs), disabled=len(epochs) < 2)
    planned = [e for e in snaps.epochs if e > epochs[-1]]
    stopped = "" if live or not planned else _stopped(job, epochs[-1])
    ahead = " — the latest so far, training goes on" if live and epoch == epochs[-1] and planned else ""
    st.caption(f"Showing epoch {epoch}{ahead}.{stopped}")
    members = _members(snaps, cfg, group, key)
    points = _points(job, key, data)
    if points is None:
        st.caption("Upload the table this run was trained on again to see its models over its points.")
    elif points.X.shape[1] in (1, 2):
        _function(job, points, members, epoch, frame, key)
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


def _advance(key: str, slider: str, epochs: list[int], taken) -> None:
    """While playing: one planned epoch further per tick, stopping at the end (or at the last epoch taken)."""
    if not st.session_state.get(f"{key}_mv_play"):
        return
    now = time.monotonic()
    if st.session_state.pop(f"{key}_mv_fresh", False):  # the page run right after Play shows where it starts
        st.session_state[f"{key}_mv_tick"] = now
        return
    last = st.session_state.get(f"{key}_mv_tick", 0.0)
    if now - last < PLAY_SECONDS * 0.8:
        return
    st.session_state[f"{key}_mv_tick"] = now
    i = epochs.index(st.session_state[slider])
    end = max((e for e in epochs if taken and e <= taken[-1]), default=epochs[0])
    if i + 1 < len(epochs) and epochs[i + 1] <= end:
        st.session_state[slider] = epochs[i + 1]
    else:
        st.session_state[f"{key}_mv_play"] = False
        st.rerun(scope="app")  # no more ticks: leave the polling fragment


def _toggle_play(key: str, slider: str, epochs: list[int]) -> None:
    playing = not st.session_state.get(f"{key}_mv_play")
    st.session_state[f"{key}_mv_play"] = playing
    if playing and st.session_state.get(slider) == epochs[-1]:
        st.session_state[slider] = epochs[0]  # from the start
    st.session_state[f"{key}_mv_tick"] = time.monotonic()
    st.session_state[f"{key}_mv_fresh"] = playing
    st.session_state[f"{key}_mv_switch"] = True


def _members(snaps, cfg: SweepConfig, group, key: str) -> list:
    """The kept members of the shown (optimizer, lr) group and one seed (chosen when several were kept), by λ."""
    kept = [m for m in snaps.members if group is None or (m.optimizer, m.lr) == group]
    seeds = sorted({m.seed for m in kept})
    seed = seeds[0] if seeds else None
    if len(seeds) > 1:
        seed = st.selectbox("seed of the pictures", seeds, index=seeds.index(shown(f"{key}_mv_seed", seeds[0]))
                            if shown(f"{key}_mv_seed", seeds[0]) in seeds else 0, key=f"{key}_mv_seed")
    return sorted((m for m in kept if m.seed == seed), key=lambda m: m.weight_decay)


def _memo(name: str, stamp):
    memo = st.session_state.get(name)
    return memo[1] if memo is not None and memo[0] == stamp else None


def _metric(frame: pd.DataFrame, member, epoch: int, column: str) -> float | None:
    if frame.empty or column not in frame:
        return None
    row = frame[(frame["weight_decay"] == member.weight_decay) & (frame["seed"] == member.seed)
                & (frame["epoch"] == epoch)]
    return float(row[column].iloc[0]) if len(row) and math.isfinite(row[column].iloc[0]) else None


def _function(job: Job, points: Points, members: list, epoch: int, frame: pd.DataFrame, key: str) -> None:
    """2-D inputs: a panel per λ over the input plane; 1-D inputs: every λ's fitted curve over the points."""
    snaps, cfg = job.snapshots, job.cfg
    show_val = st.toggle("validation points", shown(f"{key}_mv_val", False), key=f"{key}_mv_val",
                         help="Training points are filled; the held-out points are drawn hollow on top.")
    val = (points.Xv, points.yv) if show_val else None
    in_dim, out_dim = points.X.shape[1], (points.n_classes if points.task == "classification" else 1)
    kind = pm.surface_kind(points.task, points.n_classes)
    stamp = (job.key, epoch, tuple(members), show_val)
    figs = _memo(f"_mv_fn_{key}", stamp)
    if figs is None:
        if in_dim == 2:
            xs, ys, XY = pm.plane(np.concatenate([points.X, points.Xv]))
            zrange = None if kind != "value" else (float(min(points.y.min(), points.yv.min())),
                                                    float(max(points.y.max(), points.yv.max())))
            figs = []
            for m in members:
                params = snaps.params(epoch, m)
                metric = _metric(frame, m, epoch, "val_acc" if points.task == "classification" else "val_loss")
                said = "" if metric is None else (f" · val acc {metric:.2f}" if points.task == "classification"
                                                  else f" · val loss {metric:.3g}")
                if params is None:
                    figs.append((m, None))
                    continue
                z = pm.surface(predict(cfg, in_dim, out_dim, params, XY, points.task), len(xs), kind)
                figs.append((m, pm.boundary_figure(
                    z, xs, ys, (points.X, points.y), val, kind=kind, zrange=zrange, n_classes=points.n_classes,
                    title=f"{plots.wd_label(m.weight_decay)}{said}", axis_titles=points.features[:2], height=310,
                    meta={"wd": float(m.weight_decay), "epoch": int(epoch), "seed": int(m.seed),
                          "optimizer": m.optimizer, "lr": float(m.lr)})))
        else:
            x = pm.line(np.concatenate([points.X[:, 0], points.Xv[:, 0]]))
            curves = {}
            for m in members:
                params = snaps.params(epoch, m)
                if params is not None:
                    out = predict(cfg, 1, out_dim, params, x[:, None], points.task)
                    curves[m.weight_decay] = out[:, 1] if kind == "binary" else out[:, 0]
            every = np.concatenate([points.y, points.yv])
            span = float(every.max() - every.min()) or 1.0
            yrange = (-0.05, 1.05) if kind == "binary" else (float(every.min()) - 0.5 * span,
                                                               float(every.max()) + 0.5 * span)
            figs = [(None, pm.fitted_figure(x, curves, (points.X[:, 0], points.y), None if val is None else
                                            (val[0][:, 0], val[1]), axis_titles=(points.features[0], "target"),
                                            yrange=yrange, probability=kind == "binary", height=420,
                                            title=f"Each λ's fitted function at epoch {epoch}",
                                            meta={"epoch": int(epoch)}))]
        st.session_state[f"_mv_fn_{key}"] = (stamp, figs)
    if in_dim == 2:
        n = len(figs)
        rows = max(1, math.ceil(n / PER_ROW))
        per_row = math.ceil(n / rows) if n else 1
        for r in range(rows):
            for column, (m, fig) in zip(st.columns(per_row), figs[r * per_row:(r + 1) * per_row]):
                with column:
                    if fig is None:
                        at = job.snapshot(with_frame=False).diverged.get(m)
                        note("caption", f"{plots.wd_label(m.weight_decay)}: diverged"
                             + (f" at epoch {at}" if at is not None else "") + ", nothing to draw.",
                             key=f"{key}_mv_div_{m.weight_decay}")
                    else:
                        st.plotly_chart(fig, key=f"{key}_mv_panel_{m.weight_decay:g}", config=CHART)
        st.caption("**What to look for:** the colour is the predicted probability of class 1 (blue = class 0, "
                   "white = 50/50, red = class 1) on one scale for every panel, the black line the decision "
                   "boundary. Without decay the boundary bends around single training points; as λ grows it "
                   "smooths out — and too much λ flattens it until it no longer separates the classes."
                   if kind == "binary" else "**What to look for:** how each λ's prediction over the input plane "
                   "changes, one colour scale for every panel.")
    else:
        st.plotly_chart(figs[0][1], key=f"{key}_mv_fit", config=CHART)
        st.caption("**What to look for:** without decay a wide net bends its curve through every training point "
                   "(and far off between them); with λ in the right range the curve follows the trend and "
                   "ignores the noise; with too much λ it flattens towards the mean.")
