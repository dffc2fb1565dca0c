"""Quiz questions read off the model itself (its parameter snapshots): boundary length, fitted misses, weight spread."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import Member
from wdlab.engine.predict import model_data, predict
from wdlab.quiz.cards import (
    DIRECTIONS,
    ROUNDING,
    TOLERANCE,
    Frames,
    Outcome,
    Point,
    Unreadable,
    direction_of,
    fmt,
    accepted_letters,
    ranked,
)
from wdlab.quiz.grok import member_rows

GRID = 121      # points per side of the plane the boundary is measured on: the panels' plane, finer than drawn
PAD = 0.08      # the plane reaches this share of the points' range beyond them (as wdlab.plots.model.plane)
MEASURES = {
    "boundary": "length of the decision boundary",
    "spread": "spread of the weights (standard deviation of every weight-matrix entry)",
    "miss": "largest miss of the fitted curve (the farthest training point from it)",
    "roughness": "roughness of the first-layer filters (mean jump between neighbouring pixels' weights)",
}
Models = Sequence[Any]   # per run: wdlab.engine.snapshots.Snapshots (params(epoch, member), latest(epoch), note)


# -- what the pictures show, measured -------------------------------------------------------------------------
def plane(X: np.ndarray, n: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """The axes of the plane a boundary panel draws (wdlab.plots.model.plane: the points' box, PAD of its size
    wider each side), with n points each."""
    lo, hi = X.min(0), X.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.linspace(lo[0] - PAD * span[0], hi[0] + PAD * span[0], n), \
        np.linspace(lo[1] - PAD * span[1], hi[1] + PAD * span[1], n)


def contour_length(f: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    """Length of the level set f = 0 of a grid f[iy, ix] by marching squares with linear interpolation (the
    polyline a contour plot draws). f = 0 exactly counts as the negative side: a constant f has length 0."""
    f00, f10, f01, f11 = f[:-1, :-1], f[:-1, 1:], f[1:, :-1], f[1:, 1:]   # a cell's corners, (y, x)
    x0, x1 = np.broadcast_to(xs[:-1], f00.shape), np.broadcast_to(xs[1:], f00.shape)
    y0, y1 = np.broadcast_to(ys[:-1, None], f00.shape), np.broadcast_to(ys[1:, None], f00.shape)

    def t(a, b):  # where the edge a → b crosses 0, as a fraction of it (NaN where it does not)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((a > 0) != (b > 0), a / (a - b), np.nan)

    tb, tt, tl, tr = t(f00, f10), t(f01, f11), t(f00, f01), t(f10, f11)   # bottom, top, left, right edges
    px = np.stack([x0 + tb * (x1 - x0), x0 + tt * (x1 - x0), x0, x1])
    py = np.stack([y0, y1, y0 + tl * (y1 - y0), y0 + tr * (y1 - y0)])
    hits = ~np.isnan(np.stack([tb, tt, tl, tr]))
    count = hits.sum(0)

    def seg(i, j):
        return np.hypot(px[i] - px[j], py[i] - py[j])

    first, last = np.argmax(hits, 0)[None], (3 - np.argmax(hits[::-1], 0))[None]
    two = np.hypot(np.take_along_axis(px, first, 0) - np.take_along_axis(px, last, 0),
                   np.take_along_axis(py, first, 0) - np.take_along_axis(py, last, 0))[0]
    total = float(two[count == 2].sum())
    four = count == 4   # a saddle: the crossings are paired by the sign at the cell's centre
    if four.any():
        centre = (f00 + f10 + f01 + f11) / 4 > 0
        corner = centre == (f00 > 0)   # centre on the bottom-left corner's side: the cut-off corners are the other two
        total += float(np.where(corner, seg(0, 3) + seg(1, 2), seg(0, 2) + seg(1, 3))[four].sum())
    return total


def points(cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_val, y_val) as the pictures draw them (wdlab.engine.predict.model_data), as numpy."""
    d = model_data(cfg)
    return tuple(t.double().numpy() if t.is_floating_point() else t.numpy()
                 for t in (d.X_train, d.y_train, d.X_val, d.y_val))


def boundary_length(cfg, params) -> float:
    """Length of the 50 % boundary (class 1 vs class 0) of a 2-D binary classifier within the drawn plane."""
    X, _, Xv, _ = points(cfg)
    xs, ys = plane(np.concatenate([X, Xv]))
    G = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    p = predict(cfg, 2, 2, params, G)[:, 1].reshape(len(ys), len(xs))
    return contour_length(p - 0.5, xs, ys)


def weight_spread(params) -> float:
    """Standard deviation of every entry of the weight matrices (2-D parameters; biases and gains left out)."""
    w = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params if np.ndim(p) == 2])  # as drawn
    return float(w.std())


def largest_miss(cfg, params) -> float:
    """max |f(x) − y| over the training points of a 1-D regression (in the target's units)."""
    X, y, _, _ = points(cfg)
    return float(np.abs(predict(cfg, X.shape[1], y.shape[1], params, X) - y).max())


def roughness(cfg, params) -> float:
    """Mean |difference| between the first-layer weights of side-by-side pixels (across and down), over every
    unit's filter on the preset's image (DatasetSpec.image): in weight units, as the filters are drawn."""
    h, w = DATASETS[cfg.preset].image
    images = np.asarray(params[0], dtype=np.float64).reshape(-1, h, w)
    return float(np.concatenate([np.abs(np.diff(images, axis=1)).ravel(),
                                 np.abs(np.diff(images, axis=2)).ravel()]).mean())


MEASURE = {"boundary": boundary_length, "spread": lambda cfg, params: weight_spread(params),
           "miss": largest_miss, "roughness": roughness}


def member_of(cfg, w: float) -> Member:
    """The member a picture shows at λ = w: the run's first optimizer, lr and seed."""
    return Member(cfg.optimizers[0], cfg.lrs[0], w, cfg.seeds[0])


def measure(scenario, frames: Frames, models: Models | None, what: str, p: Point, epoch: int | None = None
            ) -> tuple[float, int]:
    """(the quantity `what` of the model drawn at p, the epoch it was read at: `epoch` or the last snapshot
    before it; the run's end by default). Unreadable if the member diverged, or its snapshot is not there."""
    cfg = scenario.runs[p.run].config
    member_rows(scenario, frames, Point(p.weight_decay, p.run))  # diverged or unfinished: not graded
    if models is None or models[p.run] is None:
        raise Unreadable("incomplete", "this question reads the model's parameters, which this run did not keep")
    snaps = models[p.run]
    want = cfg.epochs if epoch is None else epoch
    at = snaps.latest(want)
    params = snaps.params(at, member_of(cfg, p.weight_decay)) if at is not None else None
    if params is None:
        why = f" ({snaps.note})" if getattr(snaps, "note", "") else ""
        raise Unreadable("incomplete", f"the parameters of λ = {p.weight_decay:g} at epoch {want} were not kept{why}")
    return MEASURE[what](cfg, params), at


def read_words(epochs: Mapping[float, int]) -> str:
    """Where a picture question's numbers were read, λ -> epoch, for its fact: "at epoch 400", or each λ's."""
    if len(set(epochs.values())) == 1:
        return f"at epoch {next(iter(epochs.values()))}"
    return "at " + ", ".join(f"epoch {e} (λ = {w:g})" for w, e in epochs.items())


def _at(scenario, p: Point, epoch: int | None) -> str:
    return scenario.where(p) + (f" at epoch {epoch}" if epoch is not None else "")


# -- the questions ---------------------------------------------------------------------------------------------
class Lettered:
    """What a 'which picture is λ = target?' question shares: every λ's picture measured (`measured`, read on the
    model drawn), lettered by that value, graded and explained in the question's own words."""

    name = measured = value = title = noun = ""

    def needs(self) -> list[tuple[str, Point]]:
        if self.target not in self.weight_decays:
            raise ValueError(f"{self.name} target λ = {self.target:g} is not among the {self.noun}s shown")
        return [("l2_norm", Point(w, self.run)) for w in self.weight_decays]   # the λ values must be swept

    def grade(self, scenario, frames: Frames, models: Models | None = None) -> Outcome:
        read = {w: measure(scenario, frames, models, self.measured, Point(w, self.run)) for w in self.weight_decays}
        values, epochs = {w: v for w, (v, _) in read.items()}, {w: e for w, (_, e) in read.items()}
        letters, right = accepted_letters(values, self.target, self.tolerance)
        listing = "; ".join(f"{letters[w]}: λ = {w:g}, {self.value} {fmt(values[w])}"
                            for w in sorted(values, key=letters.get))
        fact = (f"{self.title} by {self.noun}, on the model drawn (first seed) {read_words(epochs)} — {listing}. "
                f"λ = {self.target:g} is {self.noun} {letters[self.target]}.")
        if len(right) > 1:
            fact += (f" {self.noun.capitalize()}s {', '.join(sorted(right))} are within {self.tolerance:.0%} of it: "
                     f"each counts.")
        return Outcome(self, "graded", frozenset(right), letters[self.target],
                       {f"λ = {w:g}": v for w, v in values.items()}, (fact,),
                       read_at={f"λ = {w:g}": e for w, e in epochs.items()})

    def verdict(self, o: Outcome, pick: str) -> str:
        accepted = f" (within the tolerance, {' or '.join(sorted(o.correct))} count)" if len(o.correct) > 1 else ""
        return f"You said **{pick}**; λ = {self.target:g} is {self.noun} **{o.answer}**{accepted}: {o.facts[0]}"


@dataclass(frozen=True)
class WhichPanel(Lettered):
    """'The boundaries of λ = … are lettered from the longest (most bent) to the shortest: which is λ = target?'
    Read on each λ's model at the end of the run (the first seed: the one drawn)."""

    target: float
    weight_decays: tuple[float, ...]
    run: int = 0
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # target's measured letter / "*" -> reason
    tolerance: float = TOLERANCE
    kind = "which_curve"
    uses_models = True
    pictures = "boundary"
    name, measured, value, title, noun = "which-panel", "boundary", "length", "Boundary length", "panel"

    def choices(self) -> tuple[tuple[str, str], ...]:
        n = len(self.weight_decays)
        where = ranked(n, "longest", "shortest (or none at all)")
        return tuple((chr(65 + i), f"{chr(65 + i)} — the {where[i]} boundary") for i in range(n))

    def prompt(self, scenario) -> str:
        shown = ", ".join(f"{w:g}" for w in self.weight_decays)
        return (f"The decision boundaries (where the predicted probability crosses 50 %) of λ = {shown} are drawn "
                f"in panels lettered A, B, … from the longest boundary — the most bent — to the shortest. Which "
                f"panel is λ = {self.target:g}?")

    def rule(self) -> str:
        return (f"Boundary length: the 50 % contour of the model drawn (first seed, last epoch) on the plotted "
                f"{GRID} × {GRID} grid, in input units; panels within {self.tolerance:.0%} of the asked-for "
                f"one's length are accepted too.")


@dataclass(frozen=True)
class PictureChange:
    """'Going from (λ, epoch) to (λ', epoch'), <the pictured quantity> goes up / down / barely changes', by the
    quiz's 5 % rule, read on the model drawn (first seed). An epoch of None is the run's last."""

    what: str
    before: Point
    after: Point
    before_epoch: int | None = None
    after_epoch: int | None = None
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # measured direction / "*" -> reason
    tolerance: float = TOLERANCE
    kind = "direction"
    uses_models = True

    @property
    def pictures(self) -> str:
        return "weights" if self.what == "spread" else "boundary" if self.what == "boundary" else "fitted"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((d, d) for d in DIRECTIONS)

    def prompt(self, scenario) -> str:
        ea, eb = self.before_epoch, self.after_epoch
        if (ea, eb) != (None, None):  # one side at an epoch: name the other's too ("λ = 0 at epoch 44 to λ = 0")
            ea, eb = (scenario.runs[p.run].config.epochs if e is None else e
                      for p, e in ((self.before, ea), (self.after, eb)))
        return (f"Going from {_at(scenario, self.before, ea)} to "
                f"{_at(scenario, self.after, eb)}, the {MEASURES[self.what]} …")

    def needs(self) -> list[tuple[str, Point]]:
        if (self.before, self.before_epoch) == (self.after, self.after_epoch):
            raise ValueError("a picture-change question compares two different pictures")
        return [("l2_norm", self.before), ("l2_norm", self.after)]

    def rule(self) -> str:
        return ("Pictured quantities are read on the model drawn (the first seed) and judged by the same 5 % rule; "
                "an epoch between snapshots is read at the last snapshot before it.")

    def grade(self, scenario, frames: Frames, models: Models | None = None) -> Outcome:
        a, ea = measure(scenario, frames, models, self.what, self.before, self.before_epoch)
        b, eb = measure(scenario, frames, models, self.what, self.after, self.after_epoch)
        answer, r = direction_of(a, b, self.tolerance)
        name = MEASURES[self.what].split(" (")[0]
        where_a, where_b = (f"{scenario.where(p)} at epoch {e}" for p, e in ((self.before, ea), (self.after, eb)))
        by = f"a change of {r:+.1%}" if a or not b else "up from nothing"   # from 0 (no boundary) a ratio says nothing
        fact = f"The {name} went from {fmt(a)} ({where_a}) to {fmt(b)} ({where_b}), {by}: {answer}."
        return Outcome(self, "graded", frozenset({answer}), answer, {where_a: a, where_b: b}, (fact,),
                       read_at={where_a: ea, where_b: eb})

    def verdict(self, o: Outcome, pick: str) -> str:
        return f"You said **{pick}**; measured **{o.answer}** ({o.facts[0]})"


NONE = "none"


@dataclass(frozen=True)
class FitsEveryPoint:
    """'Which λ's fitted curve passes through every training point?' — within `within` of each (target units),
    read on the model drawn (first seed, last epoch); several may; 'none of them' is right when none does."""

    weight_decays: tuple[float, ...]
    within: float
    run: int = 0
    why: Mapping[str, str] = field(default_factory=dict, hash=False)   # "λ = w" of the closest / none / "*"
    kind = "which_curve"
    uses_models = True
    pictures = "fitted"

    def choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((f"{w:g}", f"λ = {w:g}") for w in self.weight_decays) + ((NONE, "None of them"),)

    def prompt(self, scenario) -> str:
        return (f"Which λ's fitted curve passes through every training point (misses none of them by more than "
                f"{self.within:g})? If several do, each counts.")

    def needs(self) -> list[tuple[str, Point]]:
        return [("train_loss", Point(w, self.run)) for w in self.weight_decays]

    def rule(self) -> str:
        return (f"A fitted curve passes through every point when its largest miss, max |f(x) − y| over the "
                f"training points, is at most {self.within:g} (the model drawn: first seed, last epoch).")

    def grade(self, scenario, frames: Frames, models: Models | None = None) -> Outcome:
        read = {w: measure(scenario, frames, models, "miss", Point(w, self.run)) for w in self.weight_decays}
        miss, epochs = {w: v for w, (v, _) in read.items()}, {w: e for w, (_, e) in read.items()}
        through = {f"{w:g}" for w, v in miss.items() if v <= self.within + ROUNDING}
        right = through or {NONE}
        listing = "; ".join(f"λ = {w:g} misses by at most {fmt(v)}" for w, v in miss.items())
        verdict = (f"{' and '.join(f'λ = {k}' for k in sorted(through, key=float))} "
                   f"{'pass' if len(through) > 1 else 'passes'} through every point" if through
                   else "none passes through every point")
        fact = (f"Largest miss by λ, on the model drawn (first seed) {read_words(epochs)} — {listing}; the rule "
                f"allows {self.within:g}: {verdict}.")
        answer = ", ".join(sorted(right, key=lambda k: -1 if k == NONE else float(k)))
        return Outcome(self, "graded", frozenset(right), answer, {f"largest miss, λ = {w:g}": v for w, v in
                                                                   miss.items()}, (fact,),
                       read_at={f"largest miss, λ = {w:g}": e for w, e in epochs.items()})

    def verdict(self, o: Outcome, pick: str) -> str:
        said = "none of them" if pick == NONE else f"λ = {pick}"
        return f"You said **{said}**; {o.facts[0]}"
