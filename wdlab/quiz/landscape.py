"""A quiz question about the λ × lr landscape: halve the learning rate — does the best λ move? Graded from the run."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from wdlab.frame.landscape import best_per_lr, cells
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.quiz.cards import Frames, Outcome, Point, Unreadable, fmt

UP, DOWN, SAME = "moves up", "moves down", "stays"


@dataclass(frozen=True)
class BestLambdaMoves:
    """'Halve <optimizer>'s learning rate: does the best λ move?' The best λ at each lr is the λ whose
    best-epoch validation loss (mean over seeds) is lowest, as the Landscape page reads it."""

    optimizer: str
    metric: str = "val_loss"
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # moves up / moves down / stays / "*"
    kind = "direction"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return ((UP, "The best λ moves up (a larger λ is best)"), (DOWN, "It moves down (a smaller λ is best)"),
                (SAME, "It stays at the same λ"))

    def _lrs(self, scenario) -> tuple[float, float]:
        lrs = scenario.config.lrs
        return lrs[0], lrs[-1]

    def prompt(self, scenario) -> str:
        lo, hi = self._lrs(scenario)
        return (f"{OPTIMIZERS[self.optimizer].label}: halve the learning rate from {hi:g} to {lo:g}. Does the best "
                f"λ (lowest validation loss) move?")

    def needs(self) -> list[tuple[str, Point]]:
        return [(self.metric, Point(0.0))]

    def grade(self, scenario, frames: Frames) -> Outcome:
        frame = frames if not isinstance(frames, (list, tuple)) else frames[0]
        if frame["epoch"].max() < scenario.config.epochs:
            raise Unreadable("incomplete", "the map is graded once every member has finished")
        c = cells(frame[frame["optimizer"] == self.optimizer], self.metric, "best")
        best = best_per_lr(c, self.metric).set_index("lr")
        lo, hi = self._lrs(scenario)
        at_lo, at_hi = float(best.loc[lo, "weight_decay"]), float(best.loc[hi, "weight_decay"])
        answer = SAME if at_lo == at_hi else UP if at_lo > at_hi else DOWN
        label = OPTIMIZERS[self.optimizer].label
        fact = (f"{label}: at lr {hi:g} the best λ was {at_hi:g} (validation loss {fmt(best.loc[hi, 'value'])}), "
                f"at lr {lo:g} it was {at_lo:g} ({fmt(best.loc[lo, 'value'])}): it {answer}.")
        return Outcome(self, "graded", frozenset({answer}), answer, {f"best λ at lr {lo:g}": at_lo,
                                                                     f"best λ at lr {hi:g}": at_hi}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"
