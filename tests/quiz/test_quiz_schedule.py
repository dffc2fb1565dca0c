"""The schedule card's question reads when decay acted from the run: ‖w‖(λ)/‖w‖(0) per third of training."""
import math

import pandas as pd
import pytest

from wdlab.quiz.bank import BY_ID
from wdlab.quiz.cards import Point, Run, Scenario, grade_question
from wdlab.quiz.schedule import PARTS, DecayActsMost, bounds
from wdlab.settings.config import SweepConfig


def frame(ratio_at, epochs=30, seeds=(0, 1)) -> pd.DataFrame:
    """λ = 0 grows its norm from 2 to 5; λ = 1's norm is that times ratio_at(epoch)."""
    rows = []
    for s in seeds:
        for e in range(epochs + 1):
            free = 2 + 3 * e / epochs + 0.1 * s
            rows += [dict(optimizer="adamw", lr=0.02, weight_decay=0.0, seed=s, epoch=e, l2_norm=free, diverged=False),
                     dict(optimizer="adamw", lr=0.02, weight_decay=1.0, seed=s, epoch=e, l2_norm=free * ratio_at(e),
                          diverged=False)]
    return pd.DataFrame(rows)


def card(epochs=30):
    cfg = SweepConfig(preset="moons", optimizers=("adamw",), lrs=(0.02,), epochs=epochs, schedule="cosine",
                      warmup_epochs=2, weight_decays=(0.0, 1.0), seeds=(0, 1))
    q = DecayActsMost(Point(1.0))
    return Scenario("t-card", "t", "t", (Run(cfg),), (q,)), q


@pytest.mark.parametrize("third", [0, 1, 2])
def test_the_answer_is_the_third_where_the_ratio_fell_most(third):
    s, q = card()
    b = bounds(30)
    falls = [0.05, 0.05, 0.05]
    falls[third] = 0.4   # log ρ falls this much across the chosen third, linearly

    def ratio_at(e):
        log = -sum(f * min(max((e - b[i]) / (b[i + 1] - b[i]), 0), 1) for i, f in enumerate(falls))
        return math.exp(log)

    o = grade_question(s, q, [frame(ratio_at)])
    assert o.graded and o.answer == PARTS[third] and o.correct == {PARTS[third]}
    assert o.values["‖w‖(λ)/‖w‖(0) at epoch 0"] == pytest.approx(1.0)
    assert o.values["‖w‖(λ)/‖w‖(0) at epoch 30"] == pytest.approx(math.exp(-0.5))
    assert "0.607 at epoch 30" in o.facts[0]


def test_an_unfinished_or_diverged_run_is_not_graded():
    s, q = card()
    f = frame(lambda e: 1.0)
    assert grade_question(s, q, [f[f.epoch <= 20]]).status == "incomplete"
    f.loc[(f.weight_decay == 1.0) & (f.epoch == 30), "diverged"] = True
    assert grade_question(s, q, [f]).status == "diverged"


def test_the_card_asks_about_adamw_under_cosine_and_names_the_schedule():
    s = BY_ID["adamw-cosine"]
    cfg = s.config
    assert cfg.optimizers == ("adamw",) and cfg.schedule == "cosine" and cfg.warmup_epochs > 0
    prompt = s.questions[0].prompt(s)
    assert "cosine after 5 warmup epochs" in prompt and "0–50, 50–100, 100–150" in prompt
