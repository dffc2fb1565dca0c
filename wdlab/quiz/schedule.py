"""A quiz question on a learning-rate schedule: in which part of training did decoupled decay act most? Read from the
run as ‖w‖₂ with λ against ‖w‖₂ with λ = 0 trained alongside (same seed, same start), so the data's own pull on the
norm cancels and what is left is decay's."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

from wdlab.quiz.cards import DOWN, Direction, Frames, Outcome, Point, Run, Scenario, fmt
from wdlab.quiz.grok import member_rows
from wdlab.registry import schedules
from wdlab.settings.config import SweepConfig

PARTS = ("first third", "middle third", "last third")


def bounds(epochs: int) -> tuple[int, ...]:
    """The epochs that split a run into thirds: 0, E/3, 2E/3, E (rounded)."""
    return (0, round(epochs / 3), round(2 * epochs / 3), epochs)


@dataclass(frozen=True)
class DecayActsMost:
    """'In which third of training did decay pull ‖w‖₂ down the most?' Per seed the ratio ρ(e) = ‖w‖(λ)/‖w‖(0) at
    epoch e; its logs are averaged over seeds; decay's pull in a third is how far log ρ fell across it. The third
    with the largest fall is the answer."""

    point: Point
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # a PARTS entry or "*" -> reason
    kind = "multiple_choice"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((p, f"In the {p}") for p in PARTS)

    def prompt(self, scenario) -> str:
        cfg = scenario.runs[self.point.run].config
        b = bounds(cfg.epochs)
        return (f"With {scenario.where(self.point)} under {schedules.describe(cfg)}: in which third of the "
                f"{cfg.epochs} epochs (0–{b[1]}, {b[1]}–{b[2]}, {b[2]}–{b[3]}) did decay pull the weights down "
                f"most? Measured as ‖w‖₂ with λ = {self.point.weight_decay:g} divided by ‖w‖₂ with λ = 0, trained "
                f"alongside from the same start: how far that ratio fell in each third.")

    def needs(self) -> list[tuple[str, Point]]:
        return [("l2_norm", self.point), ("l2_norm", Point(0.0, self.point.run))]

    def measure(self, scenario, frames: Frames) -> list[float]:
        """ρ at the bounds of the thirds: the geometric mean over seeds of ‖w‖(λ)/‖w‖(0)."""
        b = bounds(scenario.runs[self.point.run].config.epochs)
        decayed = member_rows(scenario, frames, self.point)
        free = member_rows(scenario, frames, Point(0.0, self.point.run))
        norms = [rows.set_index(["seed", "epoch"])["l2_norm"] for rows in (decayed, free)]
        logs = [[math.log(norms[0][s, e] / norms[1][s, e]) for s in sorted(set(decayed["seed"]))] for e in b]
        return [math.exp(sum(v) / len(v)) for v in logs]

    def grade(self, scenario, frames: Frames) -> Outcome:
        ratio = self.measure(scenario, frames)
        b = bounds(scenario.runs[self.point.run].config.epochs)
        pulls = [math.log(ratio[i]) - math.log(ratio[i + 1]) for i in range(3)]
        answer = PARTS[max(range(3), key=pulls.__getitem__)]
        listing = ", ".join(f"{fmt(r)} at epoch {e}" for r, e in zip(ratio, b))
        fact = (f"‖w‖₂ with {scenario.where(self.point)} as a share of λ = 0's: {listing}. It fell most in the "
                f"{answer}: decay acted most there.")
        return Outcome(self, "graded", frozenset({answer}), answer,
                       {f"‖w‖(λ)/‖w‖(0) at epoch {e}": r for r, e in zip(ratio, b)}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"


COSINE = SweepConfig(preset="moons", hidden=(64,), optimizers=("adamw",), lrs=(0.02,), epochs=150, schedule="cosine",
                     warmup_epochs=5, weight_decays=(0.0, 1.0), seeds=(0,))

SCHEDULE_BANK = (
    Scenario(
        "adamw-cosine", "AdamW under cosine: when does decay act most?",
        "Noisy moons, a 2-64-2 network, AdamW (lr 0.02), 150 full-batch epochs with torch's schedule: lr rises "
        "linearly over 5 warmup epochs, then falls along a cosine to 0 at the end; λ = 0 and 1.",
        (Run(COSINE),),
        (DecayActsMost(Point(1.0), why={
            "first third": "AdamW shrinks each weight by lr_t·λ per step, and under cosine lr_t is largest just "
                           "after the warmup: most of decay's work is done early, while the data is still being "
                           "fitted.",
            "*": "AdamW's shrink lr_t·λ is largest early under cosine, but here the data's pull on the weights "
                 "changed the balance: what the ratio measures is decay's effect on where training went."}),
         Direction("l2_norm", Point(0.0), Point(1.0), {DOWN: "What decay took off while lr_t was large, the fit "
                   "did not win back once lr_t had faded."})),
        "torch's AdamW multiplies every weight by 1 − lr_t·λ each step with the scheduled lr_t, so decay follows "
        "the schedule: under cosine it is strongest right after the warmup and fades to nothing as lr_t → 0. "
        "The late epochs, where the data gradient is small, are "
        "exactly where decay has almost no step size left to act with — the Explorer's lr_t figure shows the "
        "per-step shrink lr_t·λ.", at="final"),
)
