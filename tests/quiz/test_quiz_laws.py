"""The laws' quiz cards: each answer is read from its run (other numbers, another answer), each run fits the demo's
limits and, trained, gives the answer the card teaches; the text names what was measured."""
import math

import numpy as np
import pandas as pd
import pytest

from support import train_scenario
from wdlab.engine.budget import validate
from wdlab.laws.predict import predictions, ridge, training_sets
from wdlab.quiz.bank import BANK, BY_ID
from wdlab.quiz.cards import DOWN, SAME, UP, explain, fmt, grade, grade_question
from wdlab.quiz.laws import (ADAM, ADAMW, BOTH, EDGE_KEY, INSIDE, LAWS_BANK, NEITHER, OUTSIDE, RIDGE_RUN, ROT_A,
                             ROT_B)
from wdlab.settings.config import DEMO_LIMITS

IDS = ("ridge-or-box", "rotation-lr-lambda", "adamw-box")


def rows(cfg, optimizer, wd, epochs=None, seeds=None, **columns):
    """A frame of one member per seed whose columns are `columns`' functions of the epoch."""
    out = []
    for s in seeds or cfg.seeds:
        for e in range((epochs or cfg.epochs) + 1):
            out.append(dict(optimizer=optimizer, lr=cfg.lrs[0], weight_decay=wd, seed=s, epoch=e, diverged=False,
                            **{k: f(e) for k, f in columns.items()}))
    return out


def ridge_star():
    X, y = training_sets(RIDGE_RUN, None)[0]
    return float(np.linalg.norm(ridge(X, y, 1.0, RIDGE_RUN.decay_bias)[0]))


def test_the_three_cards_are_in_the_bank_and_fit_the_demo_limits():
    assert {s.id for s in LAWS_BANK} == set(IDS) and all(BY_ID[i] in BANK for i in IDS)
    for s in LAWS_BANK:
        for r in s.runs:
            validate(r.config, DEMO_LIMITS)


@pytest.mark.parametrize("adam,adamw,answer", [(1.0, 1.3, ADAM), (1.3, 1.0, ADAMW), (1.005, 0.995, BOTH),
                                               (1.2, 0.8, NEITHER)])
def test_which_ends_at_ridge_is_read_from_each_optimizers_final_norm(adam, adamw, answer):
    s = BY_ID["ridge-or-box"]
    star = ridge_star()
    frame = pd.DataFrame(rows(RIDGE_RUN, "adam", 1.0, l2_norm=lambda e: star * adam if e else 9.0)
                         + rows(RIDGE_RUN, "adamw", 1.0, l2_norm=lambda e: star * adamw if e else 9.0))
    o = grade(s, [frame])[0]
    assert o.graded and o.answer == answer and o.correct == {answer} and answer in dict(s.questions[0].choices())
    assert o.values["ridge ‖w*‖"] == pytest.approx(star)
    assert fmt(star * adam) in o.facts[0] and fmt(star * adamw) in o.facts[0]


def rotation_frames(a, b, c):
    """rot1 and rot2 of the rotation card's members: before equilibrium 1.0 (ignored), then the given rate."""
    def member(cfg, wd, rate):
        first = next(p.from_epoch for p in predictions(cfg) if p.law == "rotation" and p.applies
                     and p.member.weight_decay == wd)
        value = lambda e: math.nan if e == 0 else (rate if e >= first else 1.0)   # noqa: E731
        return rows(cfg, "adamw", wd, rot1=value, rot2=lambda e: value(e) * 1.1 if e else math.nan)
    return [pd.DataFrame(member(ROT_A, 0.2, a) + member(ROT_A, 0.4, c)), pd.DataFrame(member(ROT_B, 0.4, b))]


@pytest.mark.parametrize("b,answer", [(0.0150, SAME), (0.0120, DOWN), (0.0180, UP)])
def test_the_rotation_change_is_the_equilibrium_mean_over_layers_judged_within_15_percent(b, answer):
    s = BY_ID["rotation-lr-lambda"]
    frames = rotation_frames(0.0145, b, 0.0205)
    lr_halved, same_lr = grade(s, frames)
    assert lr_halved.answer == answer
    assert lr_halved.values["rotation, AdamW lr 0.01 with λ = 0.2"] == pytest.approx(0.0145 * 1.05)
    assert lr_halved.values["rotation, AdamW lr 0.005 with λ = 0.4"] == pytest.approx(b * 1.05)
    assert lr_halved.values["predicted, AdamW lr 0.005 with λ = 0.4"] == pytest.approx(
        math.sqrt(2 * 0.005 * 0.4 * 0.1 / 1.9))
    assert same_lr.answer == UP                                     # 0.0145 → 0.0205: +41 %
    flat = grade(s, rotation_frames(0.0145, b, 0.0145))[1]
    assert flat.answer == SAME


@pytest.mark.parametrize("value,answer", [(0.2, EDGE_KEY), (0.195, EDGE_KEY), (0.15, INSIDE), (0.25, OUTSIDE)])
def test_the_box_answer_is_where_the_final_max_abs_w_sits_against_one_over_lambda(value, answer):
    s = BY_ID["adamw-box"]
    cfg = s.config
    frame = pd.DataFrame(rows(cfg, "adamw", 5.0, max_abs_w=lambda e: value if e == cfg.epochs else 1.0)
                         + rows(cfg, "adamw", 0.5, max_abs_w=lambda e: 0.8))
    at5, at05 = grade(s, [frame])
    assert at5.answer == answer and at5.values == {"final max|w|": value, "1/λ": 0.2}
    assert at5.answer in dict(s.questions[0].choices()) and at5.facts[0].endswith(f": {answer}.")
    assert at05.answer == INSIDE and "40.0% of 1/λ = 2" in at05.facts[0]


def test_an_unfinished_or_diverged_run_is_not_graded():
    s = BY_ID["adamw-box"]
    cfg = s.config
    frame = pd.DataFrame(rows(cfg, "adamw", 5.0, epochs=100, max_abs_w=lambda e: 0.2)
                         + rows(cfg, "adamw", 0.5, epochs=100, max_abs_w=lambda e: 0.8))
    assert grade_question(s, s.questions[0], [frame]).status == "incomplete"
    frame = pd.DataFrame(rows(cfg, "adamw", 5.0, max_abs_w=lambda e: 0.2) + rows(cfg, "adamw", 0.5,
                                                                                 max_abs_w=lambda e: 0.8))
    frame.loc[frame.epoch == cfg.epochs, "diverged"] = True
    assert grade_question(s, s.questions[0], [frame]).status == "diverged"


@pytest.fixture(scope="module")
def trained():
    return {sid: train_scenario(BY_ID[sid], limits=DEMO_LIMITS)[0] for sid in IDS}


def test_trained_the_cards_teach_their_laws_and_the_text_names_the_numbers(trained):
    answers = {sid: [o.answer for o in grade(BY_ID[sid], trained[sid])] for sid in IDS}
    assert answers == {"ridge-or-box": [ADAM], "rotation-lr-lambda": [SAME, UP], "adamw-box": [EDGE_KEY, INSIDE]}
    for sid in IDS:
        s = BY_ID[sid]
        outcomes = grade(s, trained[sid])
        text = explain(s, outcomes, {0: s.questions[0].choices()[0][0]})
        assert all(fmt(v) in text for o in outcomes for v in o.values.values())
        assert "Why: " in text and "Q1." in text
        for q, o in zip(s.questions, outcomes):
            assert q.prompt(s) and q.verdict(o, "x").startswith("You said **x**; measured **")
