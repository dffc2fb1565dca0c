"""A law's prediction drawn where the curves are: a dashed line per λ in its colour on the curve it predicts.

Pure: predictions (wdlab.laws.predict) and the drawn frame in, Plotly traces out. Imported by the figures that
draw the measured curves (plots.curves for ‖w‖₂, plots.law_panels for max|w|, rotation and layer norms)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from wdlab.laws.catalog import LAWS
from wdlab.laws.predict import Prediction

KEY_COLOR = "#666"   # the legend's key for a law: one grey dashed entry, whatever the λ


def _plain(text: str) -> str:
    """Our own law text, escaped anyway: Plotly renders tags and entities in hover text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _label(w: float) -> str:
    return "λ = 0" if w == 0 else f"λ = {w:g}"


def drawn_predictions(frame: pd.DataFrame, preds: Sequence[Prediction], column: str) -> list[Prediction]:
    """The applying predictions of `column` whose member has rows in the frame (the group the figure shows)."""
    if frame is None or frame.empty or not preds:
        return []
    members = set(zip(frame["optimizer"], frame["lr"].astype(float), frame["weight_decay"].astype(float),
                      frame["seed"].astype(int)))
    return [p for p in preds if p.applies and p.column == column and p.value is not None
            and (p.member.optimizer, float(p.member.lr), float(p.member.weight_decay), int(p.member.seed))
            in members]


def tau_epochs(frame: pd.DataFrame, preds: Sequence[Prediction]) -> dict[float, float]:
    """λ -> τ = 1/(lr·λ) in epochs for the frame's decoupled-decay members (AdamW, λ > 0: the timescale law
    applies); none for coupled decay or λ = 0. With several (optimizer, lr) in the frame, their first."""
    if frame is None or frame.empty or not preds:
        return {}
    groups = set(zip(frame["optimizer"], frame["lr"].astype(float)))
    out: dict[float, float] = {}
    for p in preds:
        if p.law == "timescale" and p.applies and (p.member.optimizer, float(p.member.lr)) in groups:
            out.setdefault(float(p.member.weight_decay), float(p.detail["tau_epochs"]))
    return out


def tau_by_group(preds: Sequence[Prediction]) -> dict[tuple[str, float, float], float]:
    """(optimizer, lr, λ) -> τ in epochs for every member the timescale law applies to (AdamW, λ > 0)."""
    return {(p.member.optimizer, float(p.member.lr), float(p.member.weight_decay)): float(p.detail["tau_epochs"])
            for p in preds if p.law == "timescale" and p.applies}


def tau_number(epochs: float) -> str:
    """τ in epochs as the legends and the table write it: "0.52", "31", "2500", and from 10,000 on "1.0e6" (a tiny
    λ's τ of a million epochs, printed in full, crowded a phone's legend)."""
    if epochs < 10:
        return f"{epochs:.2g}"
    if epochs < 1e4:
        return f"{epochs:.0f}"
    mantissa, exponent = f"{epochs:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def tau_text(epochs: float) -> str:
    """τ in epochs, short enough for a legend entry on a phone: "τ 31 ep", "τ 0.52 ep", "τ 1.0e6 ep"."""
    return f"τ {tau_number(epochs)} ep"


def legend_room(n_wd: int, n_tau: int, n_laws: int) -> int:
    """Legend entries' worth of room (plots.curves.legend_rows_for) for n_wd λ entries, n_tau of them with a τ
    (about twice as long), and n_laws law keys (about three entries long): so a phone's wrapped legend stays
    clear of the title."""
    return n_wd + n_tau + 3 * n_laws


def law_lines(frame: pd.DataFrame, preds: Sequence[Prediction], column: str) -> list[dict]:
    """One entry per (law, λ) with a prediction of `column` for the frame's members: law, wd, value (the mean
    over the seeds drawn, their predictions differing only where each seed has its own data), spread (max − min
    of those), seeds, from_epoch, bound, assumption (the first seed's)."""
    out: dict[tuple[str, float], list[Prediction]] = {}
    for p in drawn_predictions(frame, preds, column):
        out.setdefault((p.law, float(p.member.weight_decay)), []).append(p)
    lines = []
    for (law, w), ps in sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        values = np.array([p.value for p in ps], dtype=float)
        lines.append(dict(law=law, wd=w, value=float(values.mean()), spread=float(values.max() - values.min()),
                          seeds=len(ps), from_epoch=max(p.from_epoch for p in ps), bound=ps[0].bound,
                          assumption=ps[0].assumption))
    return lines


def law_traces(frame: pd.DataFrame, preds: Sequence[Prediction], column: str, colors: dict[float, str],
               x_end: float, legend: bool = True, panel: str | None = None) -> list[go.Scatter]:
    """The dashed predicted lines of `column` (constant in epochs: from from_epoch for the equilibrium laws,
    across the run otherwise, to x_end), each in its λ's colour, named by its law, its formula in the hover;
    with legend, one grey dashed legend entry per law (clicking it hides that law's lines). meta: {"panel",
    "role": "law" | "law-key", "law", "wd", "value"}."""
    traces = []
    for line in law_lines(frame, preds, column):
        law, w = LAWS[line["law"]], line["wd"]
        start = float(line["from_epoch"])
        value = line["value"]
        seeds = "" if line["seeds"] == 1 else (f"<br>mean of {line['seeds']} seeds' predictions (they differ by "
                                               f"{line['spread']:.2g})" if line["spread"] else "")
        what = f"≤ {value:.4g} (a ceiling)" if line["bound"] else f"{value:.4g}"
        since = f" from epoch {line['from_epoch']} (equilibrium)" if line["from_epoch"] else ""
        caveat = f"<br>but: {_plain(line['assumption'])}" if line["assumption"] else ""
        short = start >= float(x_end)   # the run ends before equilibrium: a dash at its last epoch, not a line
        traces.append(go.Scatter(
            x=[start] if short else [start, float(x_end)], y=[value] if short else [value, value],
            mode="markers" if short else "lines",
            marker=dict(symbol="line-ew-open", size=16, color=colors.get(w, KEY_COLOR), line=dict(width=2)),
            name=f"{law.title}, {_label(w)}", legendgroup=f"law:{law.name}", showlegend=False,
            line=dict(color=colors.get(w, KEY_COLOR), width=1.8, dash="dash"),
            meta={"panel": panel or column, "role": "law", "law": law.name, "wd": w, "value": value},
            hovertemplate=f"{_plain(law.title)}, {_label(w)}<br>predicted {what}{since}<br>"
                          f"{_plain(law.formula)}{seeds}{caveat}<extra></extra>"))
    if legend:
        traces += law_keys(frame, preds, column, panel)
    return traces


def law_keys(frame: pd.DataFrame, preds: Sequence[Prediction], column: str,
             panel: str | None = None) -> list[go.Scatter]:
    """The legend's grey dashed key of each law drawn on `column` (no data: a legend entry only), for a figure
    whose legend stands for a panel drawn beside it."""
    return [go.Scatter(x=[None], y=[None], mode="lines", name=f"{LAWS[name].title} (predicted)",
                       legendgroup=f"law:{name}", showlegend=True, line=dict(color=KEY_COLOR, width=1.8, dash="dash"),
                       hoverinfo="skip", meta={"panel": panel or column, "role": "law-key", "law": name})
            for name in dict.fromkeys(line["law"] for line in law_lines(frame, preds, column))]
