"""The models' function pictures (every λ's boundary panel in one figure, or every λ's fitted curve): a finished
run's figure holds every kept epoch as a frame, so ▶ and its slider play them in the browser."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from wdlab.engine.predict import predict
from wdlab.plots import model as pm
from wdlab.plots import model_grid as grid
from wdlab.plots.animate import animated
from wdlab.plots.curves import wd_label
from wdlab.run.jobs import Job

TITLES = {"binary": "Each λ's decision boundary", "classes": "Each λ's predicted class",
          "value": "Each λ's prediction"}


def _metric(frame: pd.DataFrame, member, epoch: int, column: str) -> float | None:
    if frame is None or frame.empty or column not in frame:
        return None
    row = frame[(frame["weight_decay"] == member.weight_decay) & (frame["seed"] == member.seed)
                & (frame["epoch"] == epoch)]
    return float(row[column].iloc[0]) if len(row) and math.isfinite(row[column].iloc[0]) else None


def _said(frame, member, epoch: int, task: str) -> str:
    metric = _metric(frame, member, epoch, "val_acc" if task == "classification" else "val_loss")
    if metric is None:
        return ""
    return f" · val acc {metric:.2f}" if task == "classification" else f" · val loss {metric:.3g}"


def panels_at(job: Job, points, members: list, epoch: int, frame, kind: str, XY: np.ndarray, n: int) -> list:
    """Every member's grid.Panel at `epoch` on the plane's n × n points (XY): a diverged one is all NaN, titled so."""
    snaps, cfg = job.snapshots, job.cfg
    out_dim = points.n_classes if points.task == "classification" else 1
    panels = []
    for m in members:
        meta = {"wd": float(m.weight_decay), "epoch": int(epoch), "seed": int(m.seed), "optimizer": m.optimizer,
                "lr": float(m.lr)}
        params = snaps.params(epoch, m)
        if params is None:
            at = snaps.diverged_at(m)
            said = f": diverged at epoch {at}, nothing to draw" if at is not None else ": nothing kept"
            panels.append(grid.Panel(f"{wd_label(m.weight_decay)}{said}", np.full((n, n), np.nan, np.float32),
                                     dict(meta, diverged=True)))
            continue
        z = pm.surface(predict(cfg, 2, out_dim, params, XY, points.task), n, kind)
        panels.append(grid.Panel(f"{wd_label(m.weight_decay)}{_said(frame, m, epoch, points.task)}", z, meta))
    return panels


def boundaries(job: Job, points, members: list, epoch: int, epochs: list[int], frame, val, kind: str,
               play: bool, cache: dict | None = None) -> go.Figure:
    """2-D inputs: every λ's panel in one figure at `epoch`; play: every kept epoch a frame (grid.play_plan
    bounds the frames × the grid). cache: epoch → its figure's spec, kept by the caller while nothing but the
    start epoch changes (moving the page's slider then only picks another start)."""
    cache = {} if cache is None else cache
    every = np.concatenate([points.X, points.Xv])
    zrange = None if kind != "value" else (float(min(points.y.min(), points.yv.min())),
                                           float(max(points.y.max(), points.yv.max())))
    shown, n = (grid.play_plan(epochs, epoch, len(members), grid.surfaces_per_panel(kind))
                if play else ([epoch], pm.GRID))
    xs, ys, XY = pm.plane(every, n)

    def spec(e: int) -> dict:
        if (e, n) not in cache:
            cache[(e, n)] = grid.grid_spec(
                panels_at(job, points, members, e, frame, kind, XY, n), xs, ys, (points.X, points.y), val,
                kind=kind, zrange=zrange, n_classes=points.n_classes, axis_titles=points.features[:2],
                title=f"{TITLES[kind]} at epoch {e}")
        return cache[(e, n)]
    if not play or len(shown) < 2:
        return go.Figure(spec(epoch), _validate=False)
    return grid.played([(e, spec(e)) for e in shown], epoch)


def fitted(job: Job, points, members: list, epoch: int, epochs: list[int], val, kind: str,
           play: bool) -> go.Figure:
    """1-D inputs: every λ's fitted curve over the points at `epoch` (a diverged one: no line, named so); play:
    every kept epoch a frame, the curves the only traces a frame carries."""
    snaps, cfg = job.snapshots, job.cfg
    out_dim = points.n_classes if points.task == "classification" else 1
    x = pm.line(np.concatenate([points.X[:, 0], points.Xv[:, 0]]))
    every = np.concatenate([points.y, points.yv])
    span = float(every.max() - every.min()) or 1.0
    yrange = (-0.05, 1.05) if kind == "binary" else (float(every.min()) - 0.5 * span,
                                                       float(every.max()) + 0.5 * span)

    def figure(e: int) -> go.Figure:
        curves, names = {}, {}
        for m in members:
            params = snaps.params(e, m)
            if params is None:
                curves[m.weight_decay] = np.full(len(x), np.nan)
                names[m.weight_decay] = f"{wd_label(m.weight_decay)} ✕ diverged"
                continue
            out = predict(cfg, 1, out_dim, params, x[:, None], points.task)
            curves[m.weight_decay] = out[:, 1] if kind == "binary" else out[:, 0]
        return pm.fitted_figure(x, curves, (points.X[:, 0], points.y), None if val is None else
                                (val[0][:, 0], val[1]), axis_titles=(points.features[0], "target"), names=names,
                                yrange=yrange, probability=kind == "binary", height=420,
                                title=f"Each λ's fitted function at epoch {e}", meta={"epoch": int(e)})
    if not play or len(epochs) < 2:
        return figure(epoch)
    return animated([(e, figure(e)) for e in epochs], epoch, traces=list(range(len(members))))


def function_view(job: Job, points, members: list, epoch: int, epochs: list[int], frame, key: str, val,
                  live: bool, chart_config: dict) -> None:
    """The function pictures of a run at `epoch`, memoised per view; a finished run's play in the browser."""
    kind = pm.surface_kind(points.task, points.n_classes)
    play = not live and len(epochs) > 1
    stamp = (job.key, tuple(members), val is not None, tuple(epochs), live, epoch)
    memo = st.session_state.get(f"_mv_fn_{key}")
    if memo is not None and memo[0] == stamp:
        fig = memo[1]
    elif points.X.shape[1] == 2:
        specs = st.session_state.get(f"_mv_specs_{key}")
        if specs is None or specs[0] != stamp[:-1]:
            specs = (stamp[:-1], {})
            st.session_state[f"_mv_specs_{key}"] = specs
        fig = boundaries(job, points, members, epoch, epochs, frame, val, kind, play, specs[1])
    else:
        fig = fitted(job, points, members, epoch, epochs, val, kind, play)
    st.session_state[f"_mv_fn_{key}"] = (stamp, fig)
    st.plotly_chart(fig, key=f"{key}_mv_panels" if points.X.shape[1] == 2 else f"{key}_mv_fit",
                    config=chart_config)
