"""The quiz grades from measurement: real runs of every scenario, reversed effects, boundaries, divergence."""
import re
import urllib.parse

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from wdlab.settings import params
from wdlab.settings.config import DEMO_LIMITS, SweepConfig
from wdlab.frame.schema import with_gap
from wdlab.quiz.cards import (DOWN, SAME, UP, Direction, MultipleChoice, Option, Point, Run, Scenario, WhichCurve,
                        direction_of, explain, fmt, grade, tolerance_rule)
from wdlab.quiz.bank import (BANK, BY_ID, COURSE_OPTIONS, COURSE_QUESTION, Score, curve, d, explorer_query,
                             from_query, next_scenario, share_query)
from support import train_scenario
from wdlab.engine.budget import validate
from wdlab.engine.sweep import run_sweep


@pytest.fixture(scope="module")
def bank_runs():
    """Every scenario's runs, trained once for this module, exactly as the explorer would train them: (frames,
    parameter snapshots for the cards that read the model)."""
    return {s.id: train_scenario(s, limits=DEMO_LIMITS) for s in BANK}


@pytest.fixture(scope="module")
def bank_frames(bank_runs):
    return {sid: frames for sid, (frames, _) in bank_runs.items()}


def measured(frames, p: Point, metric: str, at: str = "final") -> float:
    """The value at p, computed here independently of the grader: mean over seeds of the last epoch ("final"), or
    of each seed's epoch of lowest validation loss after epoch 0 ("best")."""
    f = with_gap(frames[p.run])
    f = f[f.weight_decay == p.weight_decay]
    if at == "best":
        f = f[f.epoch > 0]
        return f.loc[f.groupby("seed")["val_loss"].idxmin(), metric].mean()
    assert at == "final", at
    last = f[f.epoch == f.epoch.max()]
    return last[metric].mean()


def synth(finals: dict, seeds=(0,), epochs=3, classification=False, diverged=None) -> pd.DataFrame:
    """A frame with run_sweep's columns; finals[λ][metric] is the final value (a list: one per seed).
    Earlier epochs hold other values, so only the final epoch may be read; diverged[(λ, seed)] = epoch
    ends that member there with NaN losses and diverged=True, as run_sweep reports it."""
    metrics = ["train_loss", "train_eval_loss", "val_loss", "l2_norm"] + (["train_acc", "val_acc"] if classification
                                                                           else [])
    cols = {c: [] for c in ["weight_decay", "seed", "epoch", *metrics, "l2_layer1", "diverged"]}
    for w, values in finals.items():
        for i, s in enumerate(seeds):
            stop = (diverged or {}).get((w, s), epochs)
            for e in range(stop + 1):
                cols["weight_decay"].append(w); cols["seed"].append(s); cols["epoch"].append(e)
                for m in metrics:
                    v = values.get(m, 0.5)
                    v = v[i] if isinstance(v, (list, tuple)) else v
                    early = float("nan") if e == stop < epochs else 10 * v + 7
                    cols[m].append(v if e == epochs else early)
                cols["l2_layer1"].append(1.0)
                cols["diverged"].append(e == stop and stop < epochs)
    df = pd.DataFrame(cols)
    df.insert(0, "optimizer", "adam")
    df.insert(1, "lr", 0.01)
    return df.astype({"seed": "int64", "epoch": "int64", "diverged": bool})


def scenario_with(*questions, runs=None, epochs=3, preset="tutorial", wds=(0.0, 0.1, 1.0), seeds=(0,)):
    cfg = SweepConfig(preset=preset, epochs=epochs, weight_decays=wds, seeds=seeds)
    return Scenario("test-card", "t", "t", runs or (Run(cfg),), tuple(questions))


# --- the bank, run for real -------------------------------------------------------------------------------

def test_bank_has_a_dozen_distinct_url_safe_scenarios():
    assert len(BANK) >= 12
    assert len(BY_ID) == len(BANK)
    for s in BANK:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s.id) and urllib.parse.quote(s.id) == s.id
        assert 1 <= len(s.questions) <= 3 and s.title and s.setup
        assert hash(s) == hash(BY_ID[s.id])   # usable as a cache key by the page
    assert {o for s in BANK for r in s.runs for o in r.config.optimizers} == {"sgd", "adam", "adamw"}
    assert len({r.config.preset for s in BANK for r in s.runs}) >= 5


@pytest.mark.parametrize("sid", [s.id for s in BANK])
def test_scenario_runs_within_demo_limits_and_every_question_is_graded(sid, bank_runs):
    s, (frames, models) = BY_ID[sid], bank_runs[sid]
    for r in s.runs:
        validate(r.config, DEMO_LIMITS)
    outcomes = grade(s, frames, models)
    assert len(outcomes) == len(s.questions)
    for q, o in zip(s.questions, outcomes):
        assert o.status == "graded", o.note
        keys = {k for k, _ in q.choices()}
        assert o.correct and o.correct <= keys
        assert all(o.is_right(k) == (k in o.correct) for k in keys)
    text = explain(s, outcomes)
    # every number the grader compared is in the text, as computed here from the frame
    for q, o in zip(s.questions, outcomes):
        if hasattr(q, "grade"):  # a curve's course (quiz_grok), the model's pictures (quiz_model): tested there
            assert all(fmt(v) in text for v in o.values.values()), o.values
            continue
        points = ([(q.metric, q.before), (q.metric, q.after)] if isinstance(q, Direction) else
                  [(q.metric, Point(w, q.run)) for w in q.weight_decays] if isinstance(q, WhichCurve) else
                  [(m, p) for m in q.metrics() for p in (q.before, q.after)])
        for metric, p in points:
            assert fmt(measured(frames, p, metric, s.at)) in text, (metric, p)


def test_bank_answers_are_not_degenerate(bank_frames):
    """Across the bank the measured directions cover all three answers (a bank that always says
    'goes down' would teach nothing) — read from the runs, not stored."""
    seen = {o.answer for s in BANK for o in grade(s, bank_frames[s.id]) if isinstance(o.question, Direction)}
    assert seen == {UP, DOWN, SAME}


@pytest.mark.parametrize("sid", [s.id for s in BANK])
def test_links_reopen_the_scenario_and_its_exact_runs(sid):
    s = BY_ID[sid]
    assert from_query(share_query(s)) is s
    assert from_query({"scenario": [s.id]}) is s
    for i, r in enumerate(s.runs):
        cfg, warnings = params.from_query(explorer_query(s, i))
        assert cfg == r.config and not warnings


# --- the grader follows the measurement ----------------------------------------------------------------------

def swap_points(frames, a: Point, b: Point):
    """The same runs with the members at a and b exchanged: the measured effect reversed."""
    frames = [f.copy() for f in frames]
    if a.run != b.run:
        frames[a.run], frames[b.run] = frames[b.run], frames[a.run]
        return frames
    f = frames[a.run]
    wa, wb = f.weight_decay == a.weight_decay, f.weight_decay == b.weight_decay
    f.loc[wa, "weight_decay"], f.loc[wb, "weight_decay"] = b.weight_decay, a.weight_decay
    return frames


@pytest.mark.parametrize("sid", [s.id for s in BANK])
def test_reversing_the_measured_effect_flips_the_grade(sid, bank_frames):
    s, frames = BY_ID[sid], bank_frames[sid]
    for i, q in enumerate(s.questions):
        before = grade(s, frames)[i]
        if isinstance(q, Direction) and before.answer != SAME:
            after = grade(s, swap_points(frames, q.before, q.after))[i]
            assert after.answer == {UP: DOWN, DOWN: UP}[before.answer]
        if isinstance(q, WhichCurve):
            other = next(w for w in q.weight_decays if w != q.target)
            swapped = grade(s, swap_points(frames, Point(q.target, q.run), Point(other, q.run)))[i]
            # the target now carries the other curve's values, so it takes that curve's letter
            assert swapped.values[f"λ = {q.target:g}"] == before.values[f"λ = {other:g}"]
            letters = sorted(before.values, key=lambda k: (-before.values[k], float(k.split("= ")[1])))
            assert swapped.answer == chr(65 + letters.index(f"λ = {other:g}"))


def test_direction_on_synthetic_frames_up_down_same():
    q = Direction("val_loss", Point(0.0), Point(0.1))
    s = scenario_with(q)
    assert grade(s, synth({0.0: {"val_loss": 2.0}, 0.1: {"val_loss": 1.0}, 1.0: {}}))[0].answer == DOWN
    assert grade(s, synth({0.0: {"val_loss": 1.0}, 0.1: {"val_loss": 2.0}, 1.0: {}}))[0].answer == UP
    tie = grade(s, synth({0.0: {"val_loss": 1.5}, 0.1: {"val_loss": 1.5}, 1.0: {}}))[0]
    assert tie.answer == SAME and tie.is_right(SAME) and not tie.is_right(UP)
    text = explain(s, [tie], {0: SAME})
    assert "went from 1.5 (λ = 0) to 1.5 (λ = 0.1), a change of +0.0%: barely changes" in text
    assert "You predicted “barely changes”: right" in text
    assert "You predicted “goes up”: not what happened" in explain(s, [tie], {0: UP})


def test_seeds_are_averaged_before_the_change_is_judged():
    q = Direction("l2_norm", Point(0.0), Point(0.1))
    s = scenario_with(q, seeds=(0, 1))
    # seed 0 says up, seed 1 says down; the means are 2.0 and 2.05: within 5 %
    o = grade(s, synth({0.0: {"l2_norm": [1.0, 3.0]}, 0.1: {"l2_norm": [3.0, 1.1]}, 1.0: {}}, seeds=(0, 1)))[0]
    assert o.answer == SAME and o.values == {"λ = 0": 2.0, "λ = 0.1": 2.05}


@pytest.mark.parametrize("before,after,answer", [
    (1.0, 1.05, SAME), (1.0, 0.95, SAME), (0.8, 0.84, SAME), (2.0, 1.9, SAME), (0.3, 0.315, SAME),
    (1.0, 1.0500001, UP), (1.0, 0.9499999, DOWN), (2.0, 1.8999, DOWN), (0.0, 0.0, SAME), (0.0, 1e-3, UP),
    (-1.0, -0.9, UP), (-1.0, -1.04, SAME), (5.0, 5.0, SAME),
])
def test_tolerance_boundary_is_inclusive(before, after, answer):
    assert direction_of(before, after)[0] == answer
    q = Direction("train_loss", Point(0.0), Point(1.0))
    o = grade(scenario_with(q), synth({0.0: {"train_loss": before}, 0.1: {}, 1.0: {"train_loss": after}}))[0]
    assert o.answer == answer


@given(st.floats(1e-6, 1e6), st.sampled_from([0.01, 0.05, 0.1]), st.sampled_from([1, -1]))
def test_exactly_at_the_tolerance_is_barely_changes_just_past_it_is_not(a, tol, sign):
    at = a * (1 + sign * tol)
    past = a * (1 + sign * tol * (1 + 1e-6))
    assert direction_of(a, at, tol)[0] == SAME
    assert direction_of(a, past, tol)[0] == (UP if sign > 0 else DOWN)


def test_tolerance_rule_is_stated_with_its_boundary():
    rule = tolerance_rule()
    assert "≤ 5%" in rule and "exactly 5% included" in rule and "averaged over the seeds" in rule


def test_which_curve_letters_follow_the_measured_order_and_accept_ties():
    q = WhichCurve("l2_norm", 0.1, (0.0, 0.1, 1.0))
    s = scenario_with(q)
    o = grade(s, synth({0.0: {"l2_norm": 5.0}, 0.1: {"l2_norm": 2.0}, 1.0: {"l2_norm": 0.5}}))[0]
    assert o.correct == {"B"} and o.answer == "B"
    o = grade(s, synth({0.0: {"l2_norm": 1.0}, 0.1: {"l2_norm": 2.0}, 1.0: {"l2_norm": 0.5}}))[0]
    assert o.correct == {"A"}
    # λ = 0 ends exactly 5 % above the target: indistinguishable, both letters accepted; 6 % is not
    o = grade(s, synth({0.0: {"l2_norm": 2.1}, 0.1: {"l2_norm": 2.0}, 1.0: {"l2_norm": 0.5}}))[0]
    assert o.correct == {"A", "B"} and o.answer == "B" and "each counts" in o.facts[0]
    o = grade(s, synth({0.0: {"l2_norm": 2.12}, 0.1: {"l2_norm": 2.0}, 1.0: {"l2_norm": 0.5}}))[0]
    assert o.correct == {"B"}
    # an exact tie keeps λ order for the letters, and both are right
    o = grade(s, synth({0.0: {"l2_norm": 2.0}, 0.1: {"l2_norm": 2.0}, 1.0: {"l2_norm": 0.5}}))[0]
    assert o.correct == {"A", "B"} and o.answer == "B"


@pytest.mark.parametrize("train,val,option", [
    ((0.1, 0.3), (1.5, 1.0), "A"),   # training loss up, validation loss down
    ((0.3, 0.1), (1.0, 1.5), "D"),   # the reverse
    ((0.3, 0.1), (1.5, 1.0), "B"),
    ((0.1, 0.3), (1.0, 1.5), "C"),
    ((0.3, 0.3), (1.0, 1.02), "E"),
    ((0.3, 0.3), (1.5, 1.0), "F"),   # no declared combination: "something else"
])
def test_multiple_choice_options_are_judged_on_the_measurement(train, val, option):
    q = MultipleChoice(COURSE_QUESTION, Point(0.0), Point(0.1), COURSE_OPTIONS)
    frame = synth({0.0: {"train_loss": train[0], "val_loss": val[0]},
                   0.1: {"train_loss": train[1], "val_loss": val[1]}, 1.0: {}})
    o = grade(scenario_with(q), frame)[0]
    assert o.correct == {option}
    assert fmt(train[0]) in explain(scenario_with(q), [o]) and fmt(val[1]) in explain(scenario_with(q), [o])


# --- runs that cannot decide ----------------------------------------------------------------------------------

def test_a_diverged_member_is_reported_not_graded():
    q1, q2 = Direction("val_loss", Point(0.0), Point(1.0)), Direction("val_loss", Point(0.0), Point(0.1))
    s = scenario_with(q1, q2, epochs=5, seeds=(0, 1))
    frame = synth({0.0: {"val_loss": 1.0}, 0.1: {"val_loss": 0.5}, 1.0: {"val_loss": 0.5}}, seeds=(0, 1), epochs=5,
                  diverged={(1.0, 1): 2})
    o1, o2 = grade(s, frame)
    assert o1.status == "diverged" and o1.is_right(DOWN) is None and "seed 1 at epoch 2" in o1.note
    assert o2.status == "graded" and o2.answer == DOWN
    text = explain(s, [o1, o2], {0: DOWN, 1: DOWN})
    assert "Not graded" in text and "diverged" in text
    score = Score()
    assert score.record_all(s, [o1, o2], {0: DOWN, 1: DOWN}) == 1 and score.answered == 1


def test_a_real_divergent_run_is_not_graded():
    cfg = SweepConfig(preset="diabetes", hidden=(), optimizers=("sgd",), lrs=(5.0,), epochs=30, weight_decays=(0.0, 0.1))
    validate(cfg, DEMO_LIMITS)
    result = run_sweep(cfg)
    assert result.diverged
    s = Scenario("diverges", "t", "t", (Run(cfg),), (d("l2_norm", 0.0, 0.1), curve("val_loss", 0.1, (0.0, 0.1))))
    assert [o.status for o in grade(s, result.frame)] == ["diverged", "diverged"]


def test_an_unfinished_run_is_not_graded():
    s = scenario_with(Direction("val_loss", Point(0.0), Point(0.1)), epochs=4)
    frame = synth({0.0: {"val_loss": 1.0}, 0.1: {"val_loss": 0.5}, 1.0: {}}, epochs=4)
    cut = frame[frame.epoch <= 2]
    assert grade(s, frame)[0].status == "graded"
    assert grade(s, cut)[0].status == "incomplete"


# --- declaring scenarios ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,match", [
    (lambda: scenario_with(Direction("val_loss", Point(0.0), Point(0.5))), "not swept"),
    (lambda: scenario_with(Direction("val_acc", Point(0.0), Point(0.1))), "not available"),
    (lambda: scenario_with(Direction("val_loss", Point(0.0), Point(0.1, run=1))), "no run 1"),
    (lambda: scenario_with(*[Direction("val_loss", Point(0.0), Point(0.1))] * 4), "1–3 questions"),
    (lambda: Scenario("Bad Id", "t", "t", (Run(SweepConfig()),), (d("val_loss", 0.0, 0.1),)), "lowercase"),
    (lambda: scenario_with(WhichCurve("val_loss", 0.5, (0.0, 0.1))), "not among"),
    (lambda: scenario_with(Direction("val_loss", Point(0.1), Point(0.1))), "two different points"),
    (lambda: MultipleChoice("q", Point(0.0), Point(0.1), (Option("x", (("val_loss", "rises"),)),)), "directions"),
])
def test_misdeclared_scenarios_fail_when_declared(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_grade_needs_one_frame_per_run(bank_frames):
    s = BY_ID["adam-l2-vs-adamw"]
    with pytest.raises(ValueError, match="2 runs"):
        grade(s, bank_frames[s.id][:1])


# --- the session ------------------------------------------------------------------------------------------------

def test_score_counts_streaks_once_per_question():
    score = Score()
    assert score.record("a", 0, True) and score.record("a", 1, True)
    assert not score.record("a", 1, False)      # a repeat (a rerun of the page) is not counted again
    assert not score.record("b", 0, None)       # ungraded
    score.record("b", 0, False)
    score.record("c", 0, True)
    assert (score.answered, score.correct, score.streak, score.best_streak) == (4, 3, 1, 2)
    assert score.done("a") and not score.done("d")


def test_next_scenario_skips_answered_ones_and_wraps():
    score = Score()
    assert next_scenario(None) is BANK[0]
    assert next_scenario(BANK[0].id, score) is BANK[1]
    score.record(BANK[1].id, 0, True)
    assert next_scenario(BANK[0].id, score) is BANK[2]
    assert next_scenario(BANK[-1].id, score) is BANK[0]
    for s in BANK:
        score.record(s.id, 0, True)
    assert next_scenario(BANK[-1].id, score) is BANK[0]   # all answered: plain bank order
    assert from_query({"scenario": "no-such-card"}) is None and from_query({}) is None
