"""Quiz questions on the laws of weight decay (wdlab.laws), graded from the runs: which optimizer ends at the ridge
solution, whether AdamW's rotation changes when lr·λ does not, where max|w| ends against AdamW's box 1/λ."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from wdlab.laws.catalog import LAWS
from wdlab.laws.predict import predictions, ridge, training_sets
from wdlab.laws.verdict import measure
from wdlab.quiz.cards import DOWN, SAME, UP, Frames, Outcome, Point, Run, Scenario, Unreadable, direction_of, fmt
from wdlab.quiz.grok import member_rows
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig

RIDGE_NEAR = LAWS["ridge"].tolerance       # "ends at the ridge solution": ‖w‖₂ within 1 % of ‖w*‖
ROTATION_SAME = LAWS["rotation"].tolerance  # "barely changes": the law's own 15 % (seeds and layers scatter ~5 %)
EDGE = 0.05                                # "on the box's edge": max|w| within 5 % of 1/λ


ADAM, ADAMW, BOTH, NEITHER = OPTIMIZERS["adam"].label, OPTIMIZERS["adamw"].label, "both", "neither"


def _verdict(o: Outcome, pick: str) -> str:
    return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"


@dataclass(frozen=True)
class EndsAtRidge:
    """'Adam + L2 or AdamW — which ends at the ridge solution?' One run trains both optimizers at λ on a linear
    model; each one's final ‖w‖₂ (mean over seeds) is compared with the ridge solution's ‖w*‖ (closed form on the
    same data, wdlab.laws.predict.ridge): within RIDGE_NEAR it "ends there"."""

    weight_decay: float
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # the measured answer (or "*") -> reason
    kind = "multiple_choice"
    metric = "l2_norm"   # what the quiz page's figure should show (no validation curves)

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, k[0].upper() + k[1:]) for k in (ADAM, ADAMW, BOTH, NEITHER))

    def prompt(self, scenario) -> str:
        return (f"Both trained with λ = {self.weight_decay:g} on a linear model: which one ends at the ridge "
                f"solution, the minimizer of the loss + (λ/2)·‖w‖²? (“Ends there”: its ‖w‖₂ within "
                f"{RIDGE_NEAR:.0%} of the ridge solution's ‖w*‖.)")

    def needs(self) -> list[tuple[str, Point]]:
        return [("l2_norm", Point(self.weight_decay))]

    def measure(self, scenario, frames: Frames) -> tuple[dict[str, float], float]:
        """({optimizer: final ‖w‖₂, mean over seeds}, ‖w*‖ mean over seeds)."""
        cfg = scenario.runs[0].config
        rows = member_rows(scenario, frames, Point(self.weight_decay))
        last = rows[rows["epoch"] == cfg.epochs]
        norms = {o: float(last[last["optimizer"] == o]["l2_norm"].mean()) for o in ("adam", "adamw")}
        sets = training_sets(cfg, None)
        star = np.mean([np.linalg.norm(ridge(*sets[s], self.weight_decay, cfg.decay_bias)[0]) for s in cfg.seeds])
        return norms, float(star)

    def grade(self, scenario, frames: Frames) -> Outcome:
        norms, star = self.measure(scenario, frames)
        if any(math.isnan(v) for v in norms.values()):
            raise ValueError("the ridge card's run trains both adam and adamw")
        near = {o for o, v in norms.items() if abs(v - star) <= RIDGE_NEAR * star}
        answer = BOTH if len(near) == 2 else OPTIMIZERS[near.pop()].label if near else NEITHER
        said = "; ".join(f"{OPTIMIZERS[o].label} {fmt(v)} ({(v - star) / star:+.1%})" for o, v in norms.items())
        fact = f"The ridge solution's ‖w*‖ is {fmt(star)}; the final ‖w‖₂: {said}."
        values = {"ridge ‖w*‖": star, **{f"{OPTIMIZERS[o].label} ‖w‖₂": v for o, v in norms.items()}}
        return Outcome(self, "graded", frozenset({answer}), answer, values, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return _verdict(o, pick)


@dataclass(frozen=True)
class RotationChange:
    """'Going from before to after, AdamW's rotation per step at equilibrium …' The rotation of a point: the mean
    over its hidden layers and seeds of rot{k} averaged over the equilibrium epochs (wdlab.laws.verdict.measure,
    from the rotation law's from_epoch for that member). Judged by direction_of with the law's 15 %."""

    before: Point
    after: Point
    why: Mapping[str, str] = field(default_factory=dict, hash=False)
    tolerance: float = ROTATION_SAME
    kind = "direction"
    metric = "rot1"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((d, d) for d in (UP, DOWN, SAME))

    def prompt(self, scenario) -> str:
        return (f"Going from {scenario.where(self.before)} to {scenario.where(self.after)}, the angle each "
                "LayerNorm'd layer turns per step once it has settled (its rotational equilibrium) … (“barely "
                f"changes”: within {self.tolerance:.0%})")

    def needs(self) -> list[tuple[str, Point]]:
        return [("rot1", self.before), ("rot1", self.after)]

    def rate(self, scenario, frames: Frames, p: Point) -> tuple[float, float]:
        """(measured, predicted) rotation per step of point p."""
        member_rows(scenario, frames, p)   # diverged or unfinished: not graded
        frame = frames if isinstance(frames, pd.DataFrame) else frames[p.run]
        preds = [q for q in predictions(scenario.runs[p.run].config)
                 if q.law == "rotation" and q.applies and math.isclose(q.member.weight_decay, p.weight_decay)]
        if not preds:
            raise Unreadable("undecided", f"the rotation law does not apply to {scenario.where(p)}")
        got = [measure(frame, q) for q in preds]
        if any(g is None for g in got):
            raise Unreadable("undecided", f"{scenario.where(p)} has no measured rotation")
        return float(np.mean(got)), float(np.mean([q.value for q in preds]))

    def grade(self, scenario, frames: Frames) -> Outcome:
        (a, pa), (b, pb) = (self.rate(scenario, frames, p) for p in (self.before, self.after))
        answer, r = direction_of(a, b, self.tolerance)
        fact = (f"The rotation per step at equilibrium went from {fmt(a)} rad ({scenario.where(self.before)}) to "
                f"{fmt(b)} rad ({scenario.where(self.after)}), a change of {r:+.1%}: {answer}. The law predicts "
                f"{fmt(pa)} and {fmt(pb)}.")
        values = {f"rotation, {scenario.where(self.before)}": a, f"rotation, {scenario.where(self.after)}": b,
                  f"predicted, {scenario.where(self.before)}": pa, f"predicted, {scenario.where(self.after)}": pb}
        return Outcome(self, "graded", frozenset({answer}), answer, values, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return _verdict(o, pick)


EDGE_KEY, INSIDE, OUTSIDE = "on the edge", "inside the box", "outside the box"   # keys read as the verdict's words


@dataclass(frozen=True)
class BoxEnd:
    """'AdamW at λ: where does max|w| end against 1/λ?' The final max_abs_w, mean over seeds: within EDGE of 1/λ
    is on the edge, below that inside, above it outside."""

    point: Point
    why: Mapping[str, str] = field(default_factory=dict, hash=False)
    kind = "multiple_choice"
    metric = "max_abs_w"

    def choices(self) -> tuple[tuple[str, str], ...]:
        box = 1 / self.point.weight_decay
        return ((EDGE_KEY, f"About 1/λ = {box:.3g} (within {EDGE:.0%}): on the box's edge"),
                (INSIDE, f"Clearly below {box:.3g}: inside the box"),
                (OUTSIDE, f"Clearly above {box:.3g}: outside the box"))

    def prompt(self, scenario) -> str:
        return (f"With {scenario.where(self.point)}, what is max|w|, the largest weight in absolute value, at the "
                f"end of the {scenario.runs[self.point.run].config.epochs} epochs?")

    def needs(self) -> list[tuple[str, Point]]:
        return [("max_abs_w", self.point)]

    def grade(self, scenario, frames: Frames) -> Outcome:
        rows = member_rows(scenario, frames, self.point)
        value = float(rows[rows["epoch"] == rows["epoch"].max()]["max_abs_w"].mean())
        box = 1 / self.point.weight_decay
        ratio = value / box
        answer = EDGE_KEY if abs(ratio - 1) <= EDGE else INSIDE if ratio < 1 else OUTSIDE
        fact = (f"With {scenario.where(self.point)} max|w| ended at {fmt(value)}, {ratio:.1%} of 1/λ = "
                f"{fmt(box)}: {answer}.")
        return Outcome(self, "graded", frozenset({answer}), answer, {"final max|w|": value, "1/λ": box}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return _verdict(o, pick)


RIDGE_RUN = SweepConfig(preset="diabetes", hidden=(), optimizers=("adam", "adamw"), lrs=(0.03,), epochs=300,
                        weight_decays=(1.0,), seeds=(0,))
# Rotation: the course's data through 20-32-32-1 with LayerNorm (the law does not depend on the width), batch 32.
ROT_A = SweepConfig(preset="tutorial", hidden=(32, 32), norm="layernorm", optimizers=("adamw",), lrs=(0.01,),
                    epochs=20, batch_size=32, weight_decays=(0.2, 0.4), seeds=(0,))
ROT_B = ROT_A.replace(lrs=(0.005,), weight_decays=(0.4,))
BOX_RUN = SweepConfig(preset="moons", hidden=(), optimizers=("adamw",), lrs=(0.02,), epochs=300,
                      weight_decays=(0.5, 5.0), seeds=(0,))

LAWS_BANK = (
    Scenario(
        "ridge-or-box", "Adam + L2 or AdamW: which one ends at the ridge solution?",
        "A linear model on the diabetes data (10 standardized features), trained full batch for 300 steps by Adam "
        "with weight_decay = 1 (L2, added to the gradient) and by AdamW with λ = 1 (decoupled), lr 0.03.",
        (Run(RIDGE_RUN),),
        (EndsAtRidge(1.0, why={
            "adam": "Adam + L2 follows the gradient of loss + (λ/2)·‖w‖², only rescaled per weight: where it "
                    "stops, that gradient is zero — the ridge solution.",
            "*": "Coupled decay stops where the gradient of loss + (λ/2)·‖w‖² is zero, the ridge solution; AdamW's "
                 "decay is not part of any gradient, so it stops elsewhere."}),),
        "Adam with weight_decay adds λ·w to the gradient, so it minimises loss + (λ/2)·‖w‖² (Hoerl & Kennard's "
        "ridge). AdamW shrinks w by lr·λ outside the gradient: its fixed point balances Adam's normalized step "
        "against λ·w, which bounds every weight by 1/λ (Xie & Li 2024) instead of penalising ‖w‖². With weights "
        "inside the box it ends near the plain least-squares fit, far from ridge. Explorer: the dashed line on ‖w‖₂.",
        at="final"),
    Scenario(
        "rotation-lr-lambda", "λ doubled, lr halved: does AdamW's rotation change?",
        "The course's data (1000 × 20, pure noise) through a 20-32-32-1 network with LayerNorm after each hidden "
        "layer, AdamW, batch 32, 20 epochs (640 steps): lr 0.01 with λ = 0.2 and 0.4, and lr 0.005 with λ = 0.4.",
        (Run(ROT_A, "AdamW lr 0.01"), Run(ROT_B, "AdamW lr 0.005")),
        (RotationChange(Point(0.2, 0), Point(0.4, 1), why={
            SAME: "The equilibrium angle is √(2·lr·λ·(1−β₁)/(1+β₁)): only the product lr·λ enters, and it did not "
                  "change.",
            "*": "The law says only lr·λ sets the angle; here the two runs differed by more than its 15 %."}),
         RotationChange(Point(0.2, 0), Point(0.4, 0), why={
             UP: "Doubling λ at the same lr doubles lr·λ: the angle grows by √2.",
             "*": "The law predicts √2 × the angle when lr·λ doubles."})),
        "A layer followed by LayerNorm computes the same function at any scale of its (W, b), so only its direction "
        "learns. Decay shrinks the norm, the updates grow it; they balance where the layer turns "
        "√(2·lr·λ·(1−β₁)/(1+β₁)) radians per step under AdamW (Kosson, Messmer & Jaggi 2023), whatever its size "
        "or init. The Explorer draws it dashed on each layer's rotation curve.",
        at="final"),
    Scenario(
        "adamw-box", "AdamW's box: how large is the largest weight at the end?",
        "Logistic regression (a linear model) on the noisy moons, AdamW lr 0.02, 300 full-batch steps, λ = 0.5 and "
        "λ = 5.",
        (Run(BOX_RUN),),
        (BoxEnd(Point(5.0), why={
            EDGE_KEY: "Cross-entropy keeps asking for larger weights, AdamW's normalized step pushes each one by "
                      "about lr per step and decay pulls it back by lr·λ·|w|: they balance at |w| = 1/λ.",
            "*": "The balance of Adam's normalized step (about lr) against decay (lr·λ·|w|) is at |w| = 1/λ; a run "
                 "this short or a weaker pull can end short of it."}),
         BoxEnd(Point(0.5), why={
             INSIDE: "The box 1/λ = 2 is far away: the fit is done with smaller weights, so the box does not bind.",
             "*": "The box only bounds the weights; whether they reach it depends on how hard the data pulls."})),
        "AdamW's weights end inside the box |wᵢ| ≤ 1/λ, on its edge where the loss keeps pushing a weight outwards "
        "(Xie & Li 2024, \"Implicit Bias of AdamW: ℓ∞ Norm Constrained Optimization\"). The Explorer draws 1/λ "
        "dashed on the max|w| curve.",
        at="final"),
)
