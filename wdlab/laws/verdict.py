"""A run measured against the laws: the measured value each prediction speaks to, and the verdict."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from wdlab.laws.catalog import tau_number
from wdlab.laws.predict import Prediction
from wdlab.registry.optimizers import OPTIMIZERS


@dataclass(frozen=True)
class Verdict:
    """holds: the measured value is within tolerance of the prediction (below the bound for the box); None where
    there is nothing to compare. error: the relative distance |measured − predicted| / predicted. text: for a
    reader, e.g. "holds within 4 %" or "does not hold here: full batch — the law assumes noisy gradients"."""

    holds: bool | None
    text: str
    error: float = math.nan

    def __str__(self) -> str:
        return self.text


def measure(frame: pd.DataFrame, p: Prediction) -> float | None:
    """What the run did where p speaks: its column at the member's last epoch, or, for the equilibrium laws, its
    mean over epochs ≥ p.from_epoch. None where the prediction does not apply, the column is missing or the
    member diverged."""
    if not p.applies or p.column is None:
        return None
    m = p.member
    rows = frame[(frame.optimizer == m.optimizer) & (frame.lr == m.lr) & (frame.weight_decay == m.weight_decay)
                 & (frame.seed == m.seed)]
    if rows.empty or rows.diverged.any():
        return None
    if p.column.startswith("norm"):
        k = p.column[len("norm"):]
        if f"l2_weight{k}" not in rows:
            return None
        values = (rows[f"l2_weight{k}"] ** 2 + rows[f"l2_bias{k}"] ** 2) ** 0.5
    elif p.column in rows:
        values = rows[p.column]
    else:
        return None
    if p.from_epoch:
        return float(values[rows.epoch >= p.from_epoch].mean())
    return float(values[rows.epoch == rows.epoch.max()].iloc[0])


def verdict(measured: float | None, p: Prediction, tol: float | None = None) -> Verdict:
    """measured against p within tol (default: the law's own tolerance, LAWS[p.law].tolerance)."""
    if not p.applies:
        return Verdict(None, f"does not apply: {p.why}")
    if measured is None or p.value is None or not math.isfinite(measured):
        return Verdict(None, "nothing measured to compare")
    tol = p.info.tolerance if tol is None else tol
    error = abs(measured - p.value) / abs(p.value) if p.value else abs(measured)
    if p.bound:
        if measured <= p.value * (1 + tol):
            where = f"on its edge (within {_pct(error)})" if error <= tol else f"inside it ({measured:.4g} < " \
                                                                                 f"{p.value:.4g})"
            return Verdict(True, f"holds: {where}", error)
        return Verdict(False, _fails(p, f"{measured:.4g} is outside the bound {p.value:.4g}"), error)
    if error <= tol:
        return Verdict(True, f"holds within {_pct(error)}", error)
    return Verdict(False, _fails(p, f"{_pct(error)} off"), error)


def _pct(x: float) -> str:
    if x < 0.01:
        return "1 %" if x >= 1e-3 else f"{x:.1g} (relative)"
    return f"{math.ceil(100 * x)} %"


def _fails(p: Prediction, how: str) -> str:
    return f"does not hold here: {p.assumption}" if p.assumption else f"does not hold here: {how}"


def compare(frame: pd.DataFrame, preds: list[Prediction], tol: float | None = None) -> list[dict]:
    """One dict per applying prediction with a measured counterpart: law, member, layer, predicted, measured,
    verdict (a Verdict) and the law's title, formula and source — what a page or the CLI shows."""
    out = []
    for p in preds:
        if not p.applies or p.column is None:
            continue
        got = measure(frame, p)
        law = p.info
        out.append(dict(law=p.law, member=p.member, layer=p.layer, column=p.column, predicted=p.value,
                        measured=got, bound=p.bound, verdict=verdict(got, p, tol), title=law.title,
                        formula=law.formula, source=law.source))
    return out


def summary_lines(frame: pd.DataFrame, preds: list[Prediction]) -> list[str]:
    """The CLI's --summary lines: per member where a law applies, predicted and measured side by side (and τ)."""
    lines = []
    for c in compare(frame, preds):
        m = c["member"]
        who = f"{OPTIMIZERS[m.optimizer].label} lr {m.lr:g} λ {m.weight_decay:g} seed {m.seed}"
        what = c["title"] + (f", layer {c['layer']}" if c["layer"] else "")
        measured = "—" if c["measured"] is None else f"{c['measured']:.4g}"
        sign = "≤ " if c["bound"] else ""
        lines.append(f"  {who}: {what}: predicted {sign}{c['predicted']:.4g}, measured {measured} — {c['verdict']}")
    for p in preds:
        if p.law == "timescale" and p.applies:
            m = p.member
            lines.append(f"  {OPTIMIZERS[m.optimizer].label} lr {m.lr:g} λ {m.weight_decay:g} seed {m.seed}: "
                         f"τ = 1/(lr·λ) = {tau_number(p.detail['tau_steps'], 3)} steps = "
                         f"{tau_number(p.detail['tau_epochs'], 3)} epochs"
                         + (f" ({p.assumption})" if p.assumption else ""))
    return ["laws (predicted vs measured):"] + lines if lines else []
