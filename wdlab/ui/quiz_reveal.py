"""The quiz's reveal: each prediction marked against the measurement, the lettered curves, the explanation."""
from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from wdlab.plots import curves as plots
from wdlab.quiz import cards as quiz
from wdlab.settings.reading import DEFAULT_AT, describe_at
from wdlab.quiz.cards import METRICS, Direction, Outcome, Scenario, WhichCurve
from wdlab.ui.results import CHART_CONFIG


def _change(frames, metric: str, before, after, tol: float, at: str) -> tuple[str, str]:
    """(measured direction, '0.128 → 0.913, r = +611.5 %'), read exactly as the grader reads them."""
    a, b = quiz.read(frames, before, metric, at=at), quiz.read(frames, after, metric, at=at)
    answer, r = quiz.direction_of(a, b, tol, metric)
    if metric in quiz.ACCURACIES:
        return answer, f"{quiz.fmt(a)} → {quiz.fmt(b)}; error rate {quiz.fmt(1 - a)} → {quiz.fmt(1 - b)}, r = {r:+.1%}"
    return answer, f"{quiz.fmt(a)} → {quiz.fmt(b)}, r = {r:+.1%}"


def verdict_text(o: Outcome, pick: str, frames, at: str = DEFAULT_AT) -> str:
    """One line: what the learner said, what was measured, and the numbers it was read from."""
    q = o.question
    if hasattr(q, "verdict"):  # questions that grade themselves (quiz_grok) word their own verdict
        return q.verdict(o, pick)
    if isinstance(q, Direction):
        _, numbers = _change(frames, q.metric, q.before, q.after, q.tolerance, at)
        return f"You said **{pick}**; measured **{o.answer}** ({METRICS[q.metric]} {numbers})."
    if isinstance(q, WhichCurve):
        ends = sorted(o.values.items(), key=lambda kv: -kv[1])
        listing = ", ".join(f"{name} at {quiz.fmt(v)}" for name, v in ends)
        accepted = f" (within the tolerance, {' or '.join(sorted(o.correct))} count)" if len(o.correct) > 1 else ""
        return f"You said **{pick}**; λ = {q.target:g} is curve **{o.answer}**{accepted}: {listing}."
    changes = "; ".join("{} {} ({})".format(METRICS[m], *_change(frames, m, q.before, q.after, q.tolerance, at))
                        for m in q.metrics())
    return f"You said **{pick}**; right: **{o.answer}**. Measured: {changes}."


def verdict(index: int, o: Outcome, pick: str, frames, at: str = DEFAULT_AT) -> None:
    """The prediction marked under its question: ✓ right, ✗ wrong, or why it could not be graded."""
    if not o.graded:
        st.info(f"Not graded: {o.note}.", icon=":material/help:")
        return
    text = verdict_text(o, pick, frames, at)
    if o.is_right(pick):
        st.success(f"✓ Q{index + 1} right. {text}")
    else:
        st.error(f"✗ Q{index + 1} not what happened. {text}")


RIGHT = 84   # px right of the plot: a letter and "your pick" (13 px type, about 70 px) fit in it


def curve_figure(q: WhichCurve, o: Outcome, pick: str, frames, height: int = 380, at: str = DEFAULT_AT) -> go.Figure:
    """The question's curves, lettered as the grader letters them; the learner's pick drawn thick and named."""
    frame = frames if isinstance(frames, pd.DataFrame) else frames[q.run]
    finals = {w: o.values[f"λ = {w:g}"] for w in q.weight_decays}
    letters = quiz.curve_letters(finals)
    colors = plots.wd_colors(q.weight_decays)
    fig = go.Figure()
    for w in sorted(q.weight_decays, key=letters.get):
        letter = letters[w]
        rows = frame[frame["weight_decay"] == w]
        mean = rows.groupby("epoch")[q.metric].mean()
        mark = " ✓" if letter in o.correct else ""
        mine = letter == pick
        fig.add_trace(go.Scatter(
            x=mean.index, y=mean.to_numpy(), mode="lines", name=f"{letter}: λ = {w:g}{mark}"
            + (" — your pick" if mine else ""), line=dict(color=colors[w], width=6 if mine else 2.2),
            meta={"role": "curve", "letter": letter, "wd": float(w), "pick": mine, "right": letter in o.correct},
            hovertemplate=f"curve {letter}: λ = {w:g}<br>epoch %{{x}}<br>{q.metric} = %{{y:.4g}}<extra></extra>"))
        # the letter at the line's end, "your pick" under it: on one line it ran past the right margin, clipped
        fig.add_annotation(x=mean.index[-1], y=float(mean.iloc[-1]), text=f"<b>{letter}</b>"
                           + ("<br>your pick" if mine else ""), showarrow=False, xanchor="left", xshift=6,
                           align="left", font=dict(size=14 if not mine else 13, color=colors[w]),
                           name="pick" if mine else "letter")
    what = METRICS[q.metric]
    fig.update_layout(height=height, font=plots.FONT, template="plotly_white", margin=dict(l=10, r=80, t=40, b=10),
                      title=dict(text=f"{what[0].upper()}{what[1:]} by epoch: A is highest {describe_at(at)}",
                                 font=dict(size=14),
                                 y=0.99, yref="container", yanchor="top"),
                      # above the plot, not beside it: a phone has no room there
                      legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"))
    fig.update_layout(margin=dict(l=10, r=RIGHT, t=40 + 24 * math.ceil(len(q.weight_decays) / 2), b=10))
    last = int(frame["epoch"].max())
    fig.update_xaxes(title_text="epoch", showline=True, linecolor="#bbb", range=[0, last])
    fig.update_yaxes(title_text=q.metric, showline=True, linecolor="#bbb", exponentformat="e")
    # an early spike (a big first step) would flatten the endings the question is about: the axis then holds the
    # run after its first tenth, and its title says the spike is cut
    rows = frame[frame["weight_decay"].isin(q.weight_decays)]
    means = rows.groupby(["weight_decay", "epoch"])[q.metric].mean()
    later = means[means.index.get_level_values("epoch") >= last / 10]
    lo, hi, peak = float(later.min()), float(later.max()), float(means.max())
    if math.isfinite(peak) and hi > lo and peak - lo > 5 * (hi - lo):
        pad = 0.08 * (hi - lo)
        fig.update_yaxes(range=[lo - pad, hi + pad], title_text=f"{q.metric} (early peak {quiz.fmt(peak)} cut)")
    return fig


def reveal(scenario: Scenario, outcomes: Sequence[Outcome], predictions: Mapping[int, str], frames,
           models=None) -> None:
    """Below the run: the lettered figures of which-curve questions, the pictures of the model that decided the
    questions about it, then the explanation with its numbers."""
    st.subheader("What happened, and why")
    for i, (q, o) in enumerate(zip(scenario.questions, outcomes)):
        if isinstance(q, WhichCurve) and o.graded:
            st.markdown(f"**Q{i + 1}: the curves, lettered.** Your pick is the thick line; ✓ marks the right one.")
            st.plotly_chart(curve_figure(q, o, predictions[i], frames, at=scenario.at), key=f"quiz_curves_q{i}",
                            config=CHART_CONFIG)
        elif getattr(q, "uses_models", False) and o.graded:
            from wdlab.ui import (
                quiz_pictures,  # deferred: the model's pictures (plots.model), only where a card needs them
            )
            quiz_pictures.draw(i, scenario, q, o, predictions[i], models)
    for paragraph in quiz.explain(scenario, outcomes, predictions).split("\n\n"):
        st.markdown(re.sub(r"^(Q\d+\.|Why:)", r"**\1**", paragraph))  # the core's own text, never a visitor's
