"""Quiz questions on the model's pictures: the measurements, the grading from parameters, real runs of the cards."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from wdlab.engine.budget import validate
from wdlab.settings.config import DEMO_LIMITS, Member, SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.engine.predict import predict
from wdlab.quiz.cards import DOWN, SAME, UP, Point, Run, Scenario, explain, fmt, grade
from wdlab.quiz.pictures import (
    GRID,
    NONE,
    FitsEveryPoint,
    PictureChange,
    WhichPanel,
    contour_length,
    plane,
    points,
    weight_spread,
)
from wdlab.quiz.bank import BY_ID
from support import train_scenario
from wdlab.quiz.bank_pictures import MODEL_BANK

# --- the measurements ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f,length", [
    (lambda X, Y: X ** 2 + Y ** 2 - 1, 2 * math.pi),         # a circle
    (lambda X, Y: X - 0.3, 4.0),                              # a vertical line across the square
    (lambda X, Y: X - Y, 4 * math.sqrt(2)),                   # the diagonal
    (lambda X, Y: Y - 0.5 * np.sin(3 * X), 5.6539),           # a wave: ∫ √(1 + 2.25 cos² 3x) dx over [−2, 2]
    # hyperbolas (x − c)(y − c) = ±ε whose saddle is a cell's centre: that cell's four crossings paired both ways
    # (lengths: the branches' arcs summed on 400,001 points each)
    (lambda X, Y: (X - 1 / 60) * (Y - 1 / 60) - 1e-4, 7.96599),
    (lambda X, Y: (X - 1 / 60) * (Y - 1 / 60) + 1e-3, 7.89270),
    (lambda X, Y: 0 * X, 0.0), (lambda X, Y: 1 + 0 * X, 0.0),  # constant: no boundary at all
])
def test_contour_length_of_known_curves(f, length):
    xs = ys = np.linspace(-2, 2, 121)
    X, Y = np.meshgrid(xs, ys)
    assert contour_length(f(X, Y), xs, ys) == pytest.approx(length, rel=2e-3, abs=1e-9)


def test_weight_spread_reads_the_weight_matrices_only():
    w1, w2 = np.array([[1.0, -1.0], [3.0, -3.0]]), np.array([[2.0, -2.0]])
    biases = np.array([100.0, -50.0])
    assert weight_spread([w1, biases, w2, np.array([7.0])]) == pytest.approx(np.std([1, -1, 3, -3, 2, -2]))


def test_the_plane_covers_every_point_with_a_margin():
    X, _, Xv, _ = points(SweepConfig(preset="moons"))
    xs, ys = plane(np.concatenate([X, Xv]))
    assert len(xs) == len(ys) == GRID
    assert xs[0] < X[:, 0].min() and xs[-1] > Xv[:, 0].max() and ys[0] < Xv[:, 1].min() and ys[-1] > X[:, 1].max()


# --- grading from given parameters -------------------------------------------------------------------------------

class Snaps:
    """Parameters by (epoch, member), answering like wdlab.engine.snapshots.Snapshots."""

    def __init__(self, by_epoch: dict, note: str = ""):
        self.by_epoch, self.note = by_epoch, note

    def latest(self, epoch):
        return max((e for e in self.by_epoch if e <= epoch), default=None)

    def params(self, epoch, member):
        return self.by_epoch.get(epoch, {}).get(member)


def frame(cfg, diverged=()):
    """A finished run's rows (only what the pictures' questions check: which members ran to the end)."""
    rows = [dict(optimizer=m.optimizer, lr=m.lr, weight_decay=m.weight_decay, seed=m.seed, epoch=e,
                 diverged=e == 2 and m.weight_decay in diverged, train_loss=0.0, l2_norm=0.0)
            for m in cfg.members for e in range(cfg.epochs + 1) if not (e > 2 and m.weight_decay in diverged)]
    return pd.DataFrame(rows)


def line(a: float, b: float, c: float = 0.0):
    """A linear 2-class model whose boundary is a·x1 + b·x2 + c = 0."""
    return [np.array([[0.0, 0.0], [a, b]]), np.array([0.0, c])]


MOONS = SweepConfig(preset="moons", hidden=(), epochs=4, weight_decays=(0.0, 0.1, 1.0), seeds=(0,))


def card(*questions, cfg=MOONS):
    return Scenario("picture-card", "t", "t", (Run(cfg),), tuple(questions))


def members(cfg, by_wd):
    return {Member(cfg.optimizers[0], cfg.lrs[0], w, cfg.seeds[0]): p for w, p in by_wd.items()}


def test_panels_are_lettered_by_measured_boundary_length_and_near_ties_count():
    q = WhichPanel(0.1, (0.0, 0.1, 1.0))
    xs, ys = plane(np.concatenate([points(MOONS)[0], points(MOONS)[2]]))
    width, height = xs[-1] - xs[0], ys[-1] - ys[0]
    # λ = 0: a diagonal through the centre; λ = 0.1: a vertical line; λ = 1: all weights 0, no boundary
    centre = ((xs[0] + xs[-1]) / 2, (ys[0] + ys[-1]) / 2)
    snaps = Snaps({4: members(MOONS, {0.0: line(height, -width, width * centre[1] - height * centre[0]),
                                      0.1: line(1.0, 0.0, -centre[0]), 1.0: line(0.0, 0.0)})})
    o = grade(card(q), frame(MOONS), [snaps])[0]
    assert o.graded and o.answer == "B" and o.correct == {"B"}
    assert o.values["λ = 0"] == pytest.approx(math.hypot(width, height), rel=1e-6)
    assert o.values["λ = 0.1"] == pytest.approx(height, rel=1e-6) and o.values["λ = 1"] == 0.0
    # the measurement decides, not λ's order: swap the models of λ = 0 and 0.1
    swapped = Snaps({4: members(MOONS, {0.0: snaps.params(4, member(0.1)), 0.1: snaps.params(4, member(0.0)),
                                        1.0: line(0.0, 0.0)})})
    assert grade(card(q), frame(MOONS), [swapped])[0].answer == "A"
    # a boundary within 5 % of the target's length cannot be told apart: both letters count
    tilt = math.tan(math.acos(1 / 1.04))   # a line 4 % longer than the vertical one
    near = Snaps({4: members(MOONS, {0.0: line(1.0, -tilt, -centre[0] + tilt * centre[1]),
                                     0.1: line(1.0, 0.0, -centre[0]), 1.0: line(0.0, 0.0)})})
    o = grade(card(q), frame(MOONS), [near])[0]
    assert o.correct == {"A", "B"} and o.answer == "B" and "each counts" in o.facts[0]
    assert fmt(o.values["λ = 0"]) in explain(card(q), [o])


def member(w, cfg=MOONS):
    return Member(cfg.optimizers[0], cfg.lrs[0], w, cfg.seeds[0])


def test_a_picture_change_reads_the_snapshot_before_each_epoch_asked_for():
    q = PictureChange("spread", Point(0.1), Point(0.1), 3, None)
    small, big = line(1.0, -1.0), line(3.0, -3.0)
    snaps = Snaps({0: members(MOONS, {0.1: big}), 2: members(MOONS, {0.1: small}), 4: members(MOONS, {0.1: big})})
    o = grade(card(q), frame(MOONS), [snaps])[0]
    assert o.answer == UP and "at epoch 2" in o.facts[0] and "at epoch 4" in o.facts[0]   # epoch 3: read at 2
    assert o.values == {"λ = 0.1 at epoch 2": weight_spread(small), "λ = 0.1 at epoch 4": weight_spread(big)}
    flat = Snaps({2: members(MOONS, {0.1: small}), 4: members(MOONS, {0.1: line(1.04, -1.04)})})
    assert grade(card(q), frame(MOONS), [flat])[0].answer == SAME                      # +4 %: within 5 %
    down = Snaps({2: members(MOONS, {0.1: big}), 4: members(MOONS, {0.1: small})})
    assert grade(card(q), frame(MOONS), [down])[0].answer == DOWN


def test_pictures_of_a_diverged_or_missing_model_are_not_graded():
    q = WhichPanel(0.1, (0.0, 0.1, 1.0))
    snaps = Snaps({4: members(MOONS, {0.0: line(1, 1), 0.1: line(1, 0), 1.0: line(0, 0)})})
    o = grade(card(q), frame(MOONS, diverged=(1.0,)), [snaps])[0]
    assert o.status == "diverged" and o.is_right("B") is None
    o = grade(card(q), frame(MOONS), [Snaps({4: members(MOONS, {0.0: line(1, 1), 0.1: line(1, 0)})},
                                            note="memory was short")])[0]
    assert o.status == "incomplete" and "λ = 1 at epoch 4 were not kept (memory was short)" in o.note
    assert grade(card(q), frame(MOONS), None)[0].status == "incomplete"
    short = frame(MOONS)
    assert grade(card(q), short[short.epoch <= 2], [snaps])[0].status == "incomplete"


REG = SweepConfig(preset="diabetes", hidden=(), epochs=4, weight_decays=(0.0, 0.1, 1.0), seeds=(0,))


def test_fits_every_point_names_each_curve_within_the_rule_or_none():
    X, y, _, _ = points(REG)
    exact, _, _, _ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    best = [exact[:-1].T, exact[-1]]
    miss = float(np.abs(np.c_[X, np.ones(len(X))] @ exact - y).max())
    zero = [np.zeros((1, X.shape[1])), np.zeros(1)]
    snaps = Snaps({4: members(REG, {0.0: best, 0.1: best, 1.0: zero})})
    q = FitsEveryPoint((0.0, 0.1, 1.0), within=miss * 1.01)
    o = grade(card(q, cfg=REG), frame(REG), [snaps])[0]
    assert o.correct == {"0", "0.1"} and o.values["largest miss, λ = 0"] == pytest.approx(miss)
    assert o.values["largest miss, λ = 1"] == pytest.approx(np.abs(y).max())
    assert "λ = 0 and λ = 0.1 pass through every point" in o.facts[0]
    o = grade(card(FitsEveryPoint((0.0, 0.1, 1.0), within=miss * 0.99), cfg=REG), frame(REG), [snaps])[0]
    assert o.correct == {NONE} and o.is_right(NONE) and not o.is_right("0")


@pytest.mark.parametrize("make,match", [
    (lambda: card(WhichPanel(0.5, (0.0, 0.1))), "not among"),
    (lambda: card(WhichPanel(0.5, (0.0, 0.5))), "not swept"),
    (lambda: card(PictureChange("spread", Point(0.1), Point(0.1), 2, 2)), "two different pictures"),
])
def test_misdeclared_picture_questions_fail_when_declared(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- the bank's picture cards, trained for real -----------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    return {s.id: train_scenario(s, limits=DEMO_LIMITS) for s in MODEL_BANK}


def crofton(cfg, params, directions: int = 6, rows: int = 240, samples: int = 480) -> float:
    """Boundary length by another method (Cauchy–Crofton): count where the predicted class changes along
    parallel lines in several directions, on a torch model built here; length ≈ π·spacing·crossings / (2·K)."""
    X, _, Xv, _ = points(cfg)
    xs, ys = plane(np.concatenate([X, Xv]))
    centre = np.array([(xs[0] + xs[-1]) / 2, (ys[0] + ys[-1]) / 2])
    radius = math.hypot(xs[-1] - xs[0], ys[-1] - ys[0]) / 2
    net = torch.nn.Sequential(*[m for h in cfg.hidden for m in (torch.nn.LazyLinear(h), torch.nn.ReLU())],
                              torch.nn.LazyLinear(2)).double()
    net(torch.zeros(1, 2, dtype=torch.float64))
    with torch.no_grad():
        for p, v in zip(net.parameters(), params):
            p.copy_(torch.as_tensor(v))
    offsets, along = np.linspace(-radius, radius, rows), np.linspace(-radius, radius, samples)
    crossings = 0
    for k in range(directions):
        theta = math.pi * k / directions
        u, n = np.array([math.cos(theta), math.sin(theta)]), np.array([-math.sin(theta), math.cos(theta)])
        P = centre + offsets[:, None, None] * n + along[None, :, None] * u          # [rows, samples, 2]
        inside = (P[..., 0] >= xs[0]) & (P[..., 0] <= xs[-1]) & (P[..., 1] >= ys[0]) & (P[..., 1] <= ys[-1])
        with torch.no_grad():
            side = (net(torch.as_tensor(P.reshape(-1, 2))).softmax(-1)[:, 1] > 0.5).numpy().reshape(rows, samples)
        crossings += ((side[:, 1:] != side[:, :-1]) & inside[:, 1:] & inside[:, :-1]).sum()
    return math.pi * (offsets[1] - offsets[0]) * crossings / (2 * directions)


@pytest.mark.parametrize("sid", [s.id for s in MODEL_BANK])
def test_the_picture_cards_run_within_the_demo_and_are_graded_from_their_parameters(sid, trained):
    s, (frames, models) = BY_ID[sid], trained[sid]
    for r in s.runs:
        validate(r.config, DEMO_LIMITS)
    outcomes = grade(s, frames, models)
    text = explain(s, outcomes)
    for q, o in zip(s.questions, outcomes):
        assert o.status == "graded", o.note
        assert o.correct <= {k for k, _ in q.choices()} and o.correct
        assert all(fmt(v) in text for v in o.values.values())
    cfg = s.config
    last = frames[0][frames[0].epoch == cfg.epochs]
    for w in cfg.weight_decays:
        params = models[0].params(cfg.epochs, member(w, cfg))
        # the parameters read are that member's: they reproduce its measured training loss
        X, y, _, _ = points(cfg)
        if DATASETS[cfg.preset].task == "classification":
            p = predict(cfg, X.shape[1], DATASETS[cfg.preset].out_dim, params, X)   # moons: 2
            loss = -np.log(p[np.arange(len(y)), y]).mean()
        else:
            loss = ((predict(cfg, X.shape[1], y.shape[1], params, X) - y) ** 2).mean()
        assert loss == pytest.approx(float(last[last.weight_decay == w].train_eval_loss.iloc[0]), rel=1e-4, abs=1e-6)
    for q, o in zip(s.questions, outcomes):
        if isinstance(q, WhichPanel):   # an independent measurement of each boundary orders the panels alike
            ind = {w: crofton(cfg, models[0].params(cfg.epochs, member(w, cfg))) for w in q.weight_decays}
            for w in q.weight_decays:
                assert ind[w] == pytest.approx(o.values[f"λ = {w:g}"], rel=0.05, abs=0.05)
        if isinstance(q, FitsEveryPoint):   # the largest miss, from an nn.Sequential built here
            X, y, _, _ = points(cfg)
            assert (cfg.hidden, cfg.activation) == ((256, 256), "tanh")   # the network built here
            for w in q.weight_decays:
                net = torch.nn.Sequential(torch.nn.Linear(1, 256), torch.nn.Tanh(), torch.nn.Linear(256, 256),
                                          torch.nn.Tanh(), torch.nn.Linear(256, 1)).double()
                with torch.no_grad():
                    for p, v in zip(net.parameters(), models[0].params(cfg.epochs, member(w, cfg))):
                        p.copy_(torch.as_tensor(v))
                    out = net(torch.as_tensor(X)).numpy()
                assert o.values[f"largest miss, λ = {w:g}"] == pytest.approx(np.abs(out - y).max(), rel=1e-5)
        if isinstance(q, PictureChange) and q.what == "spread":
            for (p, e), v in zip(((q.before, q.before_epoch), (q.after, q.after_epoch)), o.values.values()):
                snap = models[0].params(models[0].latest(cfg.epochs if e is None else e), member(p.weight_decay, cfg))
                assert v == pytest.approx(np.concatenate([a.ravel() for a in snap if a.ndim == 2]).std())
