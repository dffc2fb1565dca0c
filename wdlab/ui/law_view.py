"""The laws where the curves are: each member's predictions (wdlab.laws) for the Explorer's figures, and the
max|w|, rotation and layer-norm figures with those predictions dashed in each λ's colour."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from wdlab.laws.predict import predictions
from wdlab.plots.law_panels import law_columns, law_figure
from wdlab.run.jobs import Job, data_fingerprint
from wdlab.settings.config import SweepConfig
from wdlab.ui.text import CHART_CONFIG



def job_predictions(job: Job, data: Any = None) -> list:
    """Every law's prediction for the job's members (memoised per job). data: the visitor's table on screen,
    used when it is the job's (a finished job lets go of its own); without the table a CSV run gets none (its
    size, hence its steps per epoch, is unknown)."""
    memo = st.session_state.get("_law_preds")
    if memo is not None and memo[0] is job:
        return memo[1]
    cfg, table = job.cfg, job.data
    if table is None and cfg.preset == "csv":
        ok = data is not None and len(job.key) > 2 and data_fingerprint(data) == job.key[2]
        table = data if ok else None
    if cfg.preset == "csv" and table is None:
        preds = []
    else:
        preds = predictions(cfg, training_data(cfg, table))
    st.session_state["_law_preds"] = (job, preds)
    return preds


def training_data(cfg: SweepConfig, table: Any):
    """What predictions() needs for ridge: a linear model on a per-seed dataset (the course's) gets each seed's
    data as the sweep draws it."""
    if table is not None or cfg.hidden:
        return table
    from wdlab.engine.sweep import prepare  # deferred: torch's data drawing, only for a linear model
    setup = prepare(cfg)
    pick = lambda i: i if setup.X.shape[0] > 1 else 0  # noqa: E731
    return {s: (setup.X[pick(i)].double().numpy(), setup.y[pick(i)].double().numpy())
            for i, s in enumerate(cfg.seeds)}


def law_panels(frame: pd.DataFrame, cfg: SweepConfig, preds: list, key: str) -> None:
    """max|w| (and, with a normalization, each hidden layer's rotation per step and norm, one layer at a time) with
    the laws that apply dashed; shown when the frame has the columns."""
    columns = law_columns(frame)
    if not columns or frame.empty:
        return
    st.subheader("What the laws of weight decay predict")
    layers = sorted({int(c[3:]) for c in columns if c.startswith("rot")})
    k = layers[0] if layers else None
    if len(layers) > 1:
        k = st.radio("Hidden layer", layers, horizontal=True, key=f"{key}_law_layer",
                     format_func=lambda i: f"layer {i}",
                     help="The rotation and the norm of one normalized hidden layer.")
    chosen = ["max_abs_w"] if "max_abs_w" in columns else []
    chosen += [c for c in (f"rot{k}", f"norm{k}") if k is not None and c in columns]
    memo_key = f"_lawfig_{key}"
    stamp = (id(frame), len(frame), cfg, tuple(chosen), id(preds))
    memo = st.session_state.get(memo_key)
    if memo is not None and memo[0] == stamp and memo[2] is frame:
        figs = memo[1]
    else:
        figs = [law_figure(frame, c, preds, epochs_total=cfg.epochs, height=330) for c in chosen]
        st.session_state[memo_key] = (stamp, figs, frame)
    for i in range(0, len(figs), 2):  # two a row on a desktop; Streamlit stacks them on a phone
        for column, fig, name in zip(st.columns(2), figs[i:i + 2], chosen[i:i + 2]):
            column.plotly_chart(fig, key=f"{key}_law_{name}", config=CHART_CONFIG)
    st.caption(law_caption(frame, preds, chosen))


def law_caption(frame: pd.DataFrame, preds: list, chosen: list[str]) -> str:
    """What to look for, and which laws apply here (and why not, where none does)."""
    drawn = {p.law for p in preds if p.applies and p.column in chosen + ["l2_norm"]
             and p.member.optimizer in set(frame["optimizer"])}
    parts = ["**What to look for:** dashed lines are predictions, each in its λ's colour (hover one for its "
             "formula)."]
    if "ridge" in drawn:
        parts.append("Coupled decay on a linear model: ‖w‖₂ ends at the ridge solution's ‖w*‖.")
    if "box" in drawn:
        parts.append("AdamW: every weight ends inside |w| ≤ 1/λ, on that edge where the box binds.")
    if "rotation" in drawn:
        parts.append("A layer followed by LayerNorm turns a fixed angle per step once decay and learning balance "
                     "(after about 1/(2·lr·λ) steps; the line starts there).")
    if not drawn:
        why = {p.why for p in preds if not p.applies and p.law in ("box", "rotation")
               and p.member.optimizer in set(frame["optimizer"]) and p.member.weight_decay > 0}
        parts.append("No law applies to these members" + (f": {'; '.join(sorted(why))}." if why else "."))
    if any(p.law == "timescale" and p.applies and p.member.optimizer in set(frame["optimizer"]) for p in preds):
        parts.append("τ in a legend: AdamW's timescale 1/(lr·λ) steps, in epochs (ep) — its weights average their "
                     "updates over about that window.")
    return " ".join(parts)
