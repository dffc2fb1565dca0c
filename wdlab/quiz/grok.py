"""Quiz questions about the course of a run, not only its end: does a curve ever pass a line; the norm since fitting."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from wdlab.quiz.cards import METRICS, TOLERANCE, Frames, Outcome, Point, Unreadable, direction_of, fmt, UP, DOWN, SAME

YES, NO = "yes", "no"
HIGHER, LOWER, ABOUT = "higher", "lower", "about the same"
CURVES = {"val_acc": "validation accuracy", "train_acc": "training accuracy", "l2_norm": "‖w‖₂"}


def member_rows(scenario, frames: Frames, p: Point) -> pd.DataFrame:
    """The rows of point p (every seed); Unreadable if a seed diverged or the run stopped early."""
    frame = frames if isinstance(frames, pd.DataFrame) else frames[p.run]
    rows = frame[[math.isclose(w, p.weight_decay, rel_tol=1e-9, abs_tol=0.0) for w in frame["weight_decay"]]]
    if rows.empty:
        raise ValueError(f"λ = {p.weight_decay:g} is not in run {p.run}'s frame")
    if rows["diverged"].any():
        raise Unreadable("diverged", f"λ = {p.weight_decay:g} diverged: its loss became NaN or infinite")
    epochs = scenario.runs[p.run].config.epochs
    if rows.groupby("seed")["epoch"].max().min() < epochs:
        raise Unreadable("incomplete", f"the run for λ = {p.weight_decay:g} stopped before epoch {epochs}; "
                                       "it is graded once it finishes")
    return rows


@dataclass(frozen=True)
class EverPasses:
    """'With λ = w, will <metric> ever pass <threshold> in the run's N steps?' Read on the curve averaged over
    seeds, epochs 1…N: yes if it is above the threshold at any of them."""

    metric: str
    threshold: float
    point: Point
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # yes / no / "*" -> reason
    kind = "yes_no"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return ((YES, "Yes, at some step it passes"), (NO, "No, never in this run"))

    def prompt(self, scenario) -> str:
        n = scenario.runs[self.point.run].config.epochs
        return (f"With {scenario.where(self.point)}, will the {CURVES[self.metric]} ever pass "
                f"{self.threshold:.0%} in {n:,} steps?")

    def needs(self) -> list[tuple[str, Point]]:
        return [(self.metric, self.point)]

    def measure(self, scenario, frames: Frames) -> tuple[str, float, int]:
        """(answer, the curve's peak, the epoch of the peak)."""
        rows = member_rows(scenario, frames, self.point)
        curve = rows[rows["epoch"] >= 1].groupby("epoch")[self.metric].mean()
        peak, at = float(curve.max()), int(curve.idxmax())
        return (YES if peak > self.threshold else NO), peak, at

    def grade(self, scenario, frames: Frames) -> Outcome:
        answer, peak, at = self.measure(scenario, frames)
        n = scenario.runs[self.point.run].config.epochs
        what = CURVES[self.metric]
        first = ""
        if answer == YES:
            rows = member_rows(scenario, frames, self.point)
            curve = rows[rows["epoch"] >= 1].groupby("epoch")[self.metric].mean()
            first = f", first passing it at step {int(curve[curve > self.threshold].index.min())}"
        fact = (f"With {scenario.where(self.point)} the {what} peaked at {fmt(peak)} (step {at} of {n:,}){first}: "
                f"{'it passed' if answer == YES else 'it never passed'} {self.threshold:.0%}.")
        return Outcome(self, "graded", frozenset({answer}), answer, {f"peak {what}": peak}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"


@dataclass(frozen=True)
class SinceFitted:
    """'Does <metric> end higher or lower than it was when training accuracy first reached 100 %?' Per seed:
    the value at that epoch and at the last; their means compared by the quiz's 5 % rule."""

    point: Point
    metric: str = "l2_norm"
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # higher / lower / about the same / "*"
    tolerance: float = TOLERANCE
    kind = "direction"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((c, c) for c in (HIGHER, LOWER, ABOUT))

    def prompt(self, scenario) -> str:
        return (f"With {scenario.where(self.point)}, does {CURVES[self.metric]} end higher or lower than it was at "
                f"the step when training accuracy first reached 100 %?")

    def needs(self) -> list[tuple[str, Point]]:
        return [(self.metric, self.point), ("train_acc", self.point)]

    def measure(self, scenario, frames: Frames) -> dict[str, float]:
        """Means over seeds: the value when fitted, its peak after that, the final value; and the (latest
        seed's) fitting step and peak step."""
        rows = member_rows(scenario, frames, self.point)
        seen: dict[str, list[float]] = {"fitted": [], "peak": [], "final": [], "at": [], "peak_at": []}
        for _, g in rows.groupby("seed"):
            g = g.sort_values("epoch")
            hit = g[(g["epoch"] >= 1) & (g["train_acc"] >= 1.0)]
            if hit.empty:
                raise Unreadable("undecided", f"with λ = {self.point.weight_decay:g} training accuracy never "
                                              "reached 100 %, so there is no step to compare with")
            at = int(hit["epoch"].iloc[0])
            after = g[g["epoch"] >= at]
            seen["fitted"].append(float(hit[self.metric].iloc[0]))
            seen["peak"].append(float(after[self.metric].max()))
            seen["peak_at"].append(int(after.loc[after[self.metric].idxmax(), "epoch"]))
            seen["final"].append(float(g[self.metric].iloc[-1]))
            seen["at"].append(at)
        out = {k: sum(v) / len(v) for k, v in seen.items()}
        out["at"], out["peak_at"] = max(seen["at"]), max(seen["peak_at"])
        return out

    def grade(self, scenario, frames: Frames) -> Outcome:
        m = self.measure(scenario, frames)
        direction, r = direction_of(m["fitted"], m["final"], self.tolerance)
        answer = {UP: HIGHER, DOWN: LOWER, SAME: ABOUT}[direction]
        what = CURVES[self.metric]
        path = (f"it then rose to {fmt(m['peak'])} (step {m['peak_at']}) and ended at {fmt(m['final'])}"
                if m["peak"] > m["fitted"] and m["peak_at"] > m["at"] else f"it ended at {fmt(m['final'])}")
        fact = (f"With {scenario.where(self.point)} training accuracy first reached 100 % at step {m['at']}, with "
                f"{what} = {fmt(m['fitted'])}; {path}: a change of {r:+.1%} from the fit, {answer}.")
        return Outcome(self, "graded", frozenset({answer}), answer,
                       {f"{what} when fitted": m["fitted"], f"peak {what} after it": m["peak"],
                        f"final {what}": m["final"]}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"


assert set(CURVES) <= set(METRICS)
