"""'Predict the effect': questions whose right answers are read from measured runs, never stored."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

import pandas as pd

from wdlab.settings.config import SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.frame.schema import compared_rows, final_rows, with_gap
from wdlab.settings.reading import COMPARED_AT, DEFAULT_AT, describe_at

UP, DOWN, SAME = "goes up", "goes down", "barely changes"
DIRECTIONS = (UP, DOWN, SAME)
TOLERANCE = 0.05
FLOOR = 1e-12     # |before| is floored here so a change from exactly 0 has a finite relative size
ROUNDING = 1e-12  # float rounding slack at the boundary: 1.05 vs 1.0 is exactly 5 % on the page
METRICS = {   # each read where the scenario compares (Scenario.at), said once in the grading rule and the reveal
    "train_loss": "training loss", "val_loss": "validation loss",
    "l2_norm": "L2 norm of the weights", "gap": "generalization gap (validation − training loss)",
    "train_acc": "training accuracy", "val_acc": "validation accuracy",
    "max_abs_w": "largest weight max|w|", "rot1": "rotation per step of hidden layer 1",   # quiz.laws
}
Frames = Union[pd.DataFrame, Sequence[pd.DataFrame]]
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")   # scenario ids travel in URLs as they are


def tolerance_rule(tol: float = TOLERANCE, at: str = DEFAULT_AT) -> str:
    """The grading rule as the page states it."""
    t = f"{tol:.0%}"
    return (f"Each value is read {describe_at(at)}, averaged over the seeds. Relative change r = (after − before) / "
            f"|before|: |r| ≤ {t} (exactly {t} included) is “barely changes”, r > {t} “goes up”, r < −{t} "
            f"“goes down”; equal values are “barely changes”. Accuracy is judged by its error rate (1 − "
            f"accuracy): 0.967 → 0.982 is an error rate 0.033 → 0.018, r = −45 %, so accuracy “goes up”, as "
            f"it does when r < −{t}. Curves are lettered from the one whose value is highest "
            f"(A); curves within {t} of the asked-for one are accepted too. A question whose run "
            f"diverged (loss NaN or infinite) is not graded.")


ACCURACIES = ("train_acc", "val_acc")   # judged by their error rate: 0.967 → 0.982 nearly halves the errors


def direction_of(before: float, after: float, tol: float = TOLERANCE, metric: str | None = None) -> tuple[str, float]:
    """(answer, relative change) for one measured before → after, by tolerance_rule. For an accuracy metric the
    relative change is that of the error rate (1 − accuracy), and accuracy moves the other way."""
    if metric in ACCURACIES:
        answer, r = direction_of(1.0 - before, 1.0 - after, tol)
        return {UP: DOWN, DOWN: UP, SAME: SAME}[answer], r
    r = (after - before) / max(abs(before), FLOOR)
    if abs(r) <= tol + ROUNDING:
        return SAME, r
    return (UP if r > 0 else DOWN), r


def fmt(v: float) -> str:
    return f"{v:.3g}"  # every measured number in the text: 3 significant figures


@dataclass(frozen=True)
class Run:
    """One sweep of a scenario: exactly what the explorer runs for `config`."""

    config: SweepConfig
    label: str = ""      # names the run when a scenario compares two, e.g. "Adam + L2"


@dataclass(frozen=True)
class Point:
    """Where a value is read: weight_decay λ of run `run` (an index into Scenario.runs)."""

    weight_decay: float
    run: int = 0


@dataclass(frozen=True)
class Direction:
    """'Going from `before` to `after`, the final <metric> goes up / goes down / barely changes.'"""

    metric: str
    before: Point
    after: Point
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # measured answer -> reason; "*" = any
    tolerance: float = TOLERANCE
    kind = "direction"

    def choices(self) -> tuple[tuple[str, str], ...]:  # (key, text) pairs; the key is what is graded
        return tuple((d, d) for d in DIRECTIONS)

    def prompt(self, scenario: "Scenario") -> str:
        return (f"Going from {scenario.where(self.before)} to {scenario.where(self.after)}, "
                f"the {METRICS[self.metric]} …")


@dataclass(frozen=True)
class WhichCurve:
    """'Which of these unlabeled <metric> curves is λ = target?' Curves are lettered by their value as read (at)."""

    metric: str
    target: float
    weight_decays: tuple[float, ...]     # the curves shown
    run: int = 0
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # target's measured letter -> reason
    tolerance: float = TOLERANCE
    kind = "which_curve"

    def choices(self) -> tuple[tuple[str, str], ...]:
        n = len(self.weight_decays)
        where = ranked(n, "highest", "lowest")
        return tuple((chr(65 + i), f"{chr(65 + i)} — the {where[i]} curve") for i in range(n))

    def prompt(self, scenario: "Scenario") -> str:
        shown = ", ".join(f"{w:g}" for w in self.weight_decays)
        return (f"Curves of the {METRICS[self.metric]} for λ = {shown} are lettered A, B, … from the highest to "
                f"the lowest, each read {describe_at(scenario.at)}. Which letter is λ = {self.target:g}?")


@dataclass(frozen=True)
class Option:
    """A multiple-choice option, true when every (metric, direction) in `when` is what was measured.
    An option with an empty `when` is 'something else': true exactly when no other option is."""

    text: str
    when: tuple[tuple[str, str], ...] = ()
    why: str = ""

    def __post_init__(self):
        if any(d not in DIRECTIONS for _, d in self.when):
            raise ValueError(f"option {self.text!r}: directions must be one of {DIRECTIONS}")


@dataclass(frozen=True)
class MultipleChoice:
    """A question like the course's, its options judged on the change from `before` to `after`."""

    text: str
    before: Point
    after: Point
    options: tuple[Option, ...]
    tolerance: float = TOLERANCE
    kind = "multiple_choice"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((chr(65 + i), f"{chr(65 + i)}. {o.text}") for i, o in enumerate(self.options))

    def prompt(self, scenario: "Scenario") -> str:
        return f"{self.text} (from {scenario.where(self.before)} to {scenario.where(self.after)})"

    def metrics(self) -> list[str]:
        return sorted({m for o in self.options for m, _ in o.when})


Question = Union[Direction, WhichCurve, MultipleChoice]


@dataclass(frozen=True)
class Scenario:
    """One quiz card: a setup, its runs (usually one sweep) and 1–3 questions about the outcome."""

    id: str
    title: str
    setup: str
    runs: tuple[Run, ...]
    questions: tuple[Question, ...]
    reason: str = ""     # the mechanism, true whatever was measured; measured facts come from the grader
    at: str = DEFAULT_AT  # the epoch its numbers are read at (frame.schema.compared_rows), as on every page

    def __post_init__(self):
        # a misdeclared scenario fails at import, not in front of a learner
        if not SLUG.fullmatch(self.id):
            raise ValueError(f"scenario id {self.id!r} must be lowercase letters, digits and single hyphens")
        if self.at not in COMPARED_AT:
            raise ValueError(f"scenario {self.id!r}: at={self.at!r}; choose one of {', '.join(COMPARED_AT)}")
        if not self.runs or not 1 <= len(self.questions) <= 3:
            raise ValueError(f"scenario {self.id!r} needs at least one run and 1–3 questions")
        for metric, p in (needed for q in self.questions for needed in _needs(q)):
            if not 0 <= p.run < len(self.runs):
                raise ValueError(f"scenario {self.id!r}: no run {p.run}")
            cfg = self.runs[p.run].config
            if p.weight_decay not in cfg.weight_decays:
                raise ValueError(f"scenario {self.id!r}: λ = {p.weight_decay:g} is not swept in run {p.run}")
            allowed = [m for m in METRICS if "acc" not in m or DATASETS[cfg.preset].task == "classification"]
            if metric not in allowed:
                raise ValueError(f"scenario {self.id!r}: metric {metric!r} not available; use {allowed}")

    @property
    def config(self) -> SweepConfig:
        return self.runs[0].config

    def where(self, p: Point) -> str:
        label = self.runs[p.run].label
        return f"{label} with λ = {p.weight_decay:g}" if label else f"λ = {p.weight_decay:g}"


def _needs(q: Question) -> list[tuple[str, Point]]:
    """(metric, point) pairs a question reads."""
    if hasattr(q, "needs"):  # questions declared elsewhere (quiz_grok) say what they read and grade themselves
        return q.needs()
    if isinstance(q, Direction):
        if q.before == q.after:
            raise ValueError("a direction question compares two different points")
        return [(q.metric, q.before), (q.metric, q.after)]
    if isinstance(q, WhichCurve):
        if q.target not in q.weight_decays:
            raise ValueError(f"which-curve target λ = {q.target:g} is not among the curves shown")
        return [(q.metric, Point(w, q.run)) for w in q.weight_decays]
    return [(m, p) for m in q.metrics() for p in (q.before, q.after)]


@dataclass(frozen=True)
class Outcome:
    """The measured answer to one question, with the numbers it was computed from."""

    question: Question
    status: str                          # "graded" | "diverged" | "incomplete"
    correct: frozenset[str] = frozenset()   # the choice keys that are right (empty unless graded)
    answer: str = ""                     # what was measured: a direction, the target's letter, true options
    values: Mapping[str, float] = field(default_factory=dict)   # what was read, by a readable name
    facts: tuple[str, ...] = ()          # sentences stating the measurement
    note: str = ""                       # why it could not be graded
    read_at: Mapping[str, int] = field(default_factory=dict)   # a picture question's: value name -> epoch read

    graded = property(lambda self: self.status == "graded")

    def is_right(self, choice: str) -> bool | None:
        """True/False for a graded question; None when the run cannot decide (diverged, incomplete)."""
        return (choice in self.correct) if self.graded else None


class Unreadable(Exception):
    """A value the question needs is not there to be read: args = (status, note)."""


def read(frames: Frames, p: Point, metric: str, epochs: int | None = None, at: str = DEFAULT_AT) -> float:
    """<metric> at point p read `at` (frame.schema.compared_rows: each member's best epoch by default), averaged
    over seeds;
    Unreadable if any seed diverged or stopped early."""
    frame = frames if isinstance(frames, pd.DataFrame) else frames[p.run]
    sub = with_gap(frame[[math.isclose(w, p.weight_decay, rel_tol=1e-9, abs_tol=0.0) for w in frame["weight_decay"]]])
    rows = final_rows(sub)
    if rows.empty:
        raise ValueError(f"λ = {p.weight_decay:g} is not in run {p.run}'s frame")
    bad = rows[rows["diverged"]]
    if len(bad):
        seeds = ", ".join(f"seed {s} at epoch {e}" for s, e in zip(bad["seed"], bad["epoch"]))
        raise Unreadable("diverged", f"λ = {p.weight_decay:g} diverged ({seeds}): its loss became NaN or "
                                     "infinite, so there is no final value to compare")
    if epochs is not None and (rows["epoch"] < epochs).any():
        raise Unreadable("incomplete", f"the run for λ = {p.weight_decay:g} stopped at epoch "
                                       f"{rows['epoch'].min()} of {epochs}; it is graded once it finishes")
    if metric not in rows:
        raise ValueError(f"metric {metric!r} is not in the frame; it has {', '.join(rows.columns)}")
    return float((rows if at == "final" else with_gap(compared_rows(sub, at)))[metric].mean())


def _change(scenario: Scenario, frames: Frames, metric: str, before: Point, after: Point, tol: float):
    epochs = [r.config.epochs for r in scenario.runs]
    a = read(frames, before, metric, epochs[before.run], scenario.at)
    b = read(frames, after, metric, epochs[after.run], scenario.at)
    answer, r = direction_of(a, b, tol, metric)
    verb = {UP: "rose", DOWN: "fell", SAME: "went"}[answer]
    change = f"its error rate {fmt(1 - a)} → {fmt(1 - b)}, a change of {r:+.1%}" if metric in ACCURACIES else \
        f"a change of {r:+.1%}"
    fact = (f"The {METRICS[metric]} {verb} from {fmt(a)} ({scenario.where(before)}) to {fmt(b)} "
            f"({scenario.where(after)}), {change}: {answer}.")
    return answer, {scenario.where(before): a, scenario.where(after): b}, fact


def grade_question(scenario: Scenario, q: Question, frames: Frames, models=None) -> Outcome:
    """Read the measured answer to q from the run(s) just shown (and, for questions on the model's pictures
    (quiz_model), from their parameter snapshots: one per run)."""
    try:
        if getattr(q, "uses_models", False):
            return q.grade(scenario, frames, models)
        if hasattr(q, "grade"):
            return q.grade(scenario, frames)
        if isinstance(q, Direction):
            answer, values, fact = _change(scenario, frames, q.metric, q.before, q.after, q.tolerance)
            return Outcome(q, "graded", frozenset({answer}), answer, values, (fact,))
        if isinstance(q, WhichCurve):
            epochs = scenario.runs[q.run].config.epochs
            vals = {w: read(frames, Point(w, q.run), q.metric, epochs, scenario.at) for w in q.weight_decays}
            letters, right = accepted_letters(vals, q.target, q.tolerance)
            listing = "; ".join(f"{letters[w]}: λ = {w:g} at {fmt(vals[w])}"
                                for w in sorted(vals, key=letters.get))
            fact = (f"{METRICS[q.metric][0].upper()}{METRICS[q.metric][1:]} by curve, read {describe_at(scenario.at)} "
                    f"— {listing}. "
                    f"λ = {q.target:g} is curve {letters[q.target]}.")
            if len(right) > 1:
                fact += f" Curves {', '.join(sorted(right))} were within {q.tolerance:.0%} of it: each counts."
            return Outcome(q, "graded", frozenset(right), letters[q.target],
                           {f"λ = {w:g}": v for w, v in vals.items()}, (fact,))
        measured, values, facts = {}, {}, []
        for m in q.metrics():
            measured[m], vals, fact = _change(scenario, frames, m, q.before, q.after, q.tolerance)
            values.update({f"{METRICS[m]}, {k}": v for k, v in vals.items()})
            facts.append(fact)
        hits = {chr(65 + i) for i, o in enumerate(q.options)
                if o.when and all(measured[m] == d for m, d in o.when)}
        if not hits:  # "something else" is right exactly when no declared combination happened
            hits = {chr(65 + i) for i, o in enumerate(q.options) if not o.when}
        return Outcome(q, "graded", frozenset(hits), ", ".join(sorted(hits)), values, tuple(facts))
    except Unreadable as e:
        return Outcome(q, e.args[0], note=e.args[1])


def grade(scenario: Scenario, frames: Frames, models=None) -> list[Outcome]:
    """One Outcome per question of the scenario, read from its runs' frames (in Scenario.runs order) and, for
    questions on the model's pictures, its runs' parameter snapshots (`models`, one per run, or None)."""
    if not isinstance(frames, pd.DataFrame) and len(frames) != len(scenario.runs):
        raise ValueError(f"scenario {scenario.id!r} has {len(scenario.runs)} runs; got {len(frames)} frames")
    return [grade_question(scenario, q, frames, models) for q in scenario.questions]


def ranked(n: int, word: str, last: str) -> list[str]:
    """Names of n places in order: `word`, "second <word>", "third <word>", "4th <word>", …, then `last`."""
    return [word] + [f"{('second', 'third')[i - 1] if i < 3 else f'{i + 1}th'} {word}" for i in range(1, n - 1)] + \
        [last]


def curve_letters(finals: Mapping[float, float]) -> dict[float, str]:
    """λ -> letter: A for the curve that ends highest; equal values keep λ order (smaller λ first)."""
    order = sorted(finals, key=lambda w: (-finals[w], w))
    return {w: chr(65 + i) for i, w in enumerate(order)}


def accepted_letters(values: Mapping[float, float], target: float,
                     tolerance: float) -> tuple[dict[float, str], set[str]]:
    """(λ -> letter, the letters accepted): curves (or panels) whose value is within `tolerance` (plus rounding) of
    the target's cannot be told apart, so each counts."""
    letters = curve_letters(values)
    near = (tolerance + ROUNDING) * abs(values[target])
    return letters, {letters[w] for w, v in values.items() if abs(v - values[target]) <= near}


def explain(scenario: Scenario, outcomes: Sequence[Outcome], predictions: Mapping[int, str] | None = None) -> str:
    """The reveal's text: per question what was measured (its numbers), the verdict on the prediction, why."""
    parts = []
    for i, o in enumerate(outcomes):
        if not o.graded:
            parts.append(f"Q{i + 1}. Not graded: {o.note}.")
            continue
        text = f"Q{i + 1}. " + " ".join(o.facts)
        if predictions and i in predictions:
            verdict = "right" if o.is_right(predictions[i]) else "not what happened"
            text += f" You predicted “{predictions[i]}”: {verdict}."
        parts.append(f"{text} {_reason(o.question, o)}".strip())
    seeds = sorted({s for r in scenario.runs for s in r.config.seeds})
    over = f", the mean over seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else ""
    pictured = [i + 1 for i, q in enumerate(scenario.questions) if getattr(q, "uses_models", False)]
    if not pictured:
        parts.append(f"Each value is read {describe_at(scenario.at)}{over}.")
    else:   # a picture's numbers are read where it is drawn (each fact names that epoch), not at `at`
        rest = [i + 1 for i in range(len(scenario.questions)) if i + 1 not in pictured]
        said = f"{_qs(pictured)}: read on the model drawn (first seed) at the epoch named"
        parts.append(said + (f"; {_qs(rest)}: read {describe_at(scenario.at)}{over}." if rest else "."))
    if scenario.reason:
        parts.append("Why: " + scenario.reason)
    return "\n\n".join(parts)


def _qs(numbers: Sequence[int]) -> str:
    """[1, 3] -> "Q1 and Q3"; the questions a reading applies to."""
    names = [f"Q{n}" for n in numbers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _reason(q: Question, o: Outcome) -> str:
    if isinstance(q, MultipleChoice):
        return " ".join(filter(None, (q.options[ord(k) - 65].why for k in sorted(o.correct))))
    return q.why.get(o.answer, q.why.get("*", ""))
