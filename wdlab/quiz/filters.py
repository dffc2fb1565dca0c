"""A quiz question read off an image dataset's first-layer filters (the digits' 8×8 weights): which row is λ?"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from wdlab.quiz.cards import TOLERANCE, ranked
from wdlab.quiz.pictures import Lettered


@dataclass(frozen=True)
class WhichFilters(Lettered):
    """'Each λ's first-layer filters are a row, lettered from the roughest to the smoothest: which row is λ =
    target?' Roughness (quiz.pictures.roughness) is read on each λ's model at the end of the run (the first
    seed: the one drawn), so the letters come from the run, never from a stored key."""

    target: float
    weight_decays: tuple[float, ...]
    run: int = 0
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # target's measured letter / "*" -> reason
    tolerance: float = TOLERANCE
    kind = "which_curve"
    uses_models = True
    pictures = "filters"
    name, measured, value, title, noun = "which-filters", "roughness", "roughness", "Filter roughness", "row"

    def choices(self) -> tuple[tuple[str, str], ...]:
        where = ranked(len(self.weight_decays), "roughest", "smoothest")
        return tuple((chr(65 + i), f"{chr(65 + i)} — the {w} filters") for i, w in enumerate(where))

    def prompt(self, scenario) -> str:
        shown = ", ".join(f"{w:g}" for w in self.weight_decays)
        return (f"Each λ (= {shown}) gets a row of first-layer filters — each hidden unit's weights on the 8 × 8 "
                f"pixels, drawn as an image on one colour scale — lettered A, B, … from the roughest (the largest "
                f"jumps between neighbouring pixels) to the smoothest. Which row is λ = {self.target:g}?")

    def rule(self) -> str:
        return (f"Roughness: the mean jump between neighbouring pixels' weights (across and down) over every "
                f"hidden unit's filter, read on the model drawn (first seed, last epoch); rows within "
                f"{self.tolerance:.0%} of the asked-for one's roughness are accepted too.")
