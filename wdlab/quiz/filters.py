"""A quiz question read off an image dataset's first-layer filters (the digits' 8×8 weights): which row is λ?"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from wdlab.quiz.cards import ROUNDING, TOLERANCE, Frames, Outcome, Point, curve_letters, fmt, ranked
from wdlab.quiz.pictures import Models, measure


@dataclass(frozen=True)
class WhichFilters:
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

    def choices(self) -> tuple[tuple[str, str], ...]:
        where = ranked(len(self.weight_decays), "roughest", "smoothest")
        return tuple((chr(65 + i), f"{chr(65 + i)} — the {w} filters") for i, w in enumerate(where))

    def prompt(self, scenario) -> str:
        shown = ", ".join(f"{w:g}" for w in self.weight_decays)
        return (f"Each λ (= {shown}) gets a row of first-layer filters — each hidden unit's weights on the 8 × 8 "
                f"pixels, drawn as an image on one colour scale — lettered A, B, … from the roughest (the largest "
                f"jumps between neighbouring pixels) to the smoothest. Which row is λ = {self.target:g}?")

    def needs(self) -> list[tuple[str, Point]]:
        if self.target not in self.weight_decays:
            raise ValueError(f"which-filters target λ = {self.target:g} is not among the rows shown")
        return [("l2_norm", Point(w, self.run)) for w in self.weight_decays]   # the λ values must be swept

    def rule(self) -> str:
        return (f"Roughness: the mean jump between neighbouring pixels' weights (across and down) over every "
                f"hidden unit's filter, read on the model drawn (first seed, last epoch); rows within "
                f"{self.tolerance:.0%} of the asked-for one's roughness are accepted too.")

    def grade(self, scenario, frames: Frames, models: Models | None = None) -> Outcome:
        rough = {w: measure(scenario, frames, models, "roughness", Point(w, self.run))[0]
                 for w in self.weight_decays}
        letters = curve_letters(rough)
        near = (self.tolerance + ROUNDING) * abs(rough[self.target])
        right = {letters[w] for w, v in rough.items() if abs(v - rough[self.target]) <= near}
        listing = "; ".join(f"{letters[w]}: λ = {w:g}, roughness {fmt(rough[w])}"
                            for w in sorted(rough, key=letters.get))
        fact = f"Filter roughness by row — {listing}. λ = {self.target:g} is row {letters[self.target]}."
        if len(right) > 1:
            fact += f" Rows {', '.join(sorted(right))} are within {self.tolerance:.0%} of it: each counts."
        return Outcome(self, "graded", frozenset(right), letters[self.target],
                       {f"λ = {w:g}": v for w, v in rough.items()}, (fact,))

    def verdict(self, o: Outcome, pick: str) -> str:
        accepted = f" (within the tolerance, {' or '.join(sorted(o.correct))} count)" if len(o.correct) > 1 else ""
        return f"You said **{pick}**; λ = {self.target:g} is row **{o.answer}**{accepted}: {o.facts[0]}"
