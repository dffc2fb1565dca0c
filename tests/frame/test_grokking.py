"""The modular-addition presets: their data, the x² activation against torch.optim, the
preset's own defaults, grokking events, and (slow) the default sweep's grokking measured."""
import itertools
import math

import pandas as pd
import pytest
import torch

from wdlab.cli import args as cli
from wdlab.settings import params
from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig, preset_defaults, with_preset_defaults
from wdlab.registry.datasets import DATASETS
from wdlab.frame.grokking import GROKKED, MEMORISED, criteria, events
from wdlab.reference import reference_run
from wdlab.engine.sweep import run_sweep

F64 = dict(dtype="float64")


def member(df, wd, seed):
    return df[(df.weight_decay == wd) & (df.seed == seed)].sort_values("epoch").reset_index(drop=True)


def assert_matches_reference(cfg, result, tol=1e-12):
    for m in cfg.members:
        wd, seed = m.weight_decay, m.seed
        ref = reference_run(cfg, m)
        got = member(result.frame, wd, seed)
        for col in ("train_loss", "val_loss", "l2_norm"):
            diff = max(abs(a - b) for a, b in zip(got[col][1:], ref[col]))
            assert diff <= tol * max(1.0, max(abs(b) for b in ref[col])), (wd, seed, col, diff)
        for p_eng, p_ref in zip(result.params[m], ref["model"].parameters(), strict=True):
            assert (p_eng - p_ref.detach()).abs().max().item() <= tol, (wd, seed)


@pytest.mark.parametrize("name", [n for n, s in DATASETS.items() if s.view == "grokking"])
def test_modular_data_is_every_pair_once_with_a_fixed_split(name):
    spec = DATASETS[name]
    p = spec.out_dim
    d = spec.make(0, None)
    again = spec.make(7, None)
    assert torch.equal(d.X_train, again.X_train) and torch.equal(d.y_val, again.y_val)   # one split for all
    X = torch.cat([d.X_train, d.X_val])
    y = torch.cat([d.y_train, d.y_val])
    assert X.shape == (p * p, 2 * p) and (X.sum(1) == 2).all()
    a, b = X[:, :p].argmax(1), X[:, p:].argmax(1)
    assert torch.equal(y, (a + b) % p)
    assert len({(int(i), int(j)) for i, j in zip(a, b)}) == p * p                    # every pair exactly once
    n_train, n_val = spec.sizes(None)
    assert (len(d.X_train), len(d.X_val)) == (n_train, n_val)
    assert d.task == "classification" and d.n_classes == p


@pytest.mark.parametrize("optimizer", ["adamw", "adam", "sgd"])
@pytest.mark.parametrize("batch_size", [None, 300])
def test_modular_members_equal_their_own_torch_optim_runs(optimizer, batch_size):
    # x² and its hand-written backward in the engine, nn.Linear and autograd in the reference
    cfg = SweepConfig(preset="modular-addition", hidden=(24,), activation="quadratic", optimizers=(optimizer,),
                      lrs=(0.01 if optimizer != "sgd" else 0.05,), epochs=6, batch_size=batch_size,
                      weight_decays=(0.0, 0.5), seeds=(0, 3), **F64)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_quadratic_on_dense_inputs_equals_torch_optim():
    cfg = SweepConfig(preset="moons", hidden=(8, 6), activation="quadratic", optimizers=("adamw",), lrs=(0.01,),
                      epochs=8, batch_size=50, weight_decays=(0.0, 0.3), seeds=(1,), **F64)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_float32_modular_run_stays_within_rounding_of_torch_optim():
    cfg = SweepConfig(preset="modular-addition", hidden=(32,), activation="quadratic", optimizers=("adamw",),
                      lrs=(0.01,), epochs=4, weight_decays=(0.0, 1.0), seeds=(0,))
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True), tol=2e-5)


# ---- the preset's own defaults --------------------------------------------------------------------------

def test_preset_defaults_fill_what_the_cli_did_not_set():
    defaults = preset_defaults("modular-addition")
    assert defaults["activation"] == "quadratic" and defaults["optimizers"] == ("adamw",) and 0.0 in defaults["weight_decays"]
    args = cli.build_parser().parse_args(["run", "--preset", "modular-addition"])
    cfg = cli.config_from_args(args)
    assert cfg == SweepConfig(preset="modular-addition", **defaults)
    args = cli.build_parser().parse_args(["run", "--preset", "modular-addition", "--lr", "0.003", "--wd", "0", "2"])
    cfg = cli.config_from_args(args)
    assert cfg.lr == 0.003 and cfg.weight_decays == (0.0, 2.0) and cfg.hidden == defaults["hidden"]
    # a preset without defaults of its own (csv) keeps SweepConfig's; the others bring theirs (tests/test_presets.py)
    assert with_preset_defaults({"preset": "csv", "lr": 0.5}) == {"preset": "csv", "lr": 0.5}
    assert with_preset_defaults({"preset": "moons", "lr": 0.5})["hidden"] == preset_defaults("moons")["hidden"]


def test_a_link_naming_the_preset_gets_its_defaults_and_its_warnings_name_them():
    defaults = preset_defaults("modular-addition")
    cfg, warnings = params.from_query({"preset": "modular-addition"})
    assert cfg == SweepConfig(preset="modular-addition", **defaults) and warnings == []
    cfg, warnings = params.from_query({"preset": "modular-addition", "epochs": "lots", "lr": "0.02"})
    assert cfg.epochs == defaults["epochs"] and cfg.lr == 0.02
    assert len(warnings) == 1 and f"the default {defaults['epochs']}" in warnings[0]
    # a full link (every key, as the app writes it) reproduces its run whatever the defaults
    other = SweepConfig(preset="modular-addition", hidden=(8,), epochs=3)
    assert params.from_query(params.to_query(other)) == (other, [])


def test_the_default_sweep_fits_the_default_limits():
    from wdlab.engine.budget import validate
    validate(SweepConfig(preset="modular-addition", **preset_defaults("modular-addition")), DEFAULT_LIMITS)


# ---- grokking events ---------------------------------------------------------------------------------------

def frame_of(curves: dict) -> pd.DataFrame:
    """curves[λ] = (train_acc list, val_acc list, norm list), one seed, epochs 0…n."""
    rows = []
    for w, (tr, va, nm) in curves.items():
        for e, (t, v, n) in enumerate(zip(tr, va, nm)):
            rows.append(dict(weight_decay=w, seed=0, epoch=e, train_loss=1.0, val_loss=1.0, l2_norm=n,
                             train_acc=t, val_acc=v, diverged=False))
    return pd.DataFrame(rows).astype({c: float for c in ('l2_norm', 'train_acc', 'val_acc')})


def test_events_read_the_first_crossings_and_the_norm_when_fitted():
    f = frame_of({
        0.0: ([0, .5, 1, 1, 1, 1], [0, .1, .2, .3, .3, .3], [1, 2, 3, 4, 5, 6]),
        0.5: ([0, .995, 1, 1, 1, 1], [.95, .1, .5, .91, .95, .99], [1, 5, 6, 5, 4, 3]),
    })
    ev = events(f).set_index("weight_decay")
    assert ev.loc[0.0, "memorised"] == 2 and pd.isna(ev.loc[0.0, "grokked"]) and pd.isna(ev.loc[0.0, "delay"])
    # epoch 0 (the initial weights) never counts as an event
    assert ev.loc[0.5, "memorised"] == 1 and ev.loc[0.5, "grokked"] == 3 and ev.loc[0.5, "delay"] == 2
    assert ev.loc[0.5, "fitted"] == 2 and ev.loc[0.5, "norm_fitted"] == 6 and ev.loc[0.5, "norm_final"] == 3
    assert ev.loc[0.0, "val_acc_max"] == .3
    assert criteria(events(f), min_delay=2) == []
    problems = criteria(events(f), min_delay=3)
    assert len(problems) == 1 and "λ = 0.5" in problems[0]
    f.loc[(f.weight_decay == 0.0) & (f.epoch == 4), "val_acc"] = 0.6
    assert any("λ = 0," in p for p in criteria(events(f), min_delay=2))


# ---- the default, trained: the proof ------------------------------------------------------------------------

MIN_DELAY = 300   # "several hundred steps"


@pytest.mark.slow
def test_default_sweep_groks_every_decayed_member_and_not_the_undecayed_one():
    cfg = cli.config_from_args(cli.build_parser().parse_args(["run", "--preset", "modular-addition"]))
    result = run_sweep(cfg)
    assert result.status == "done" and not result.diverged
    ev = events(result.frame)
    assert criteria(ev, MIN_DELAY) == [], ev.to_string()
    decayed = ev[ev.weight_decay > 0]
    assert len(decayed) >= 2 and (ev.weight_decay == 0).any()
    assert (decayed.memorised < decayed.grokked - MIN_DELAY).all()
    # and the norm: with decay it peaks after the fit and falls from there; without, it ends at its largest
    assert (decayed.norm_final < 0.95 * decayed.norm_peak).all()
    undecayed = ev[ev.weight_decay == 0]
    assert (undecayed.norm_final >= 0.99 * undecayed.norm_peak).all()
    assert decayed.norm_final.max() < undecayed.norm_final.min()
    assert MEMORISED == 0.99 and GROKKED == 0.9 and not math.isnan(ev.val_acc_max.max())


# ---- quiz questions on the course of a run -----------------------------------------------------------------

def grok_card(*questions, epochs=5, wds=(0.0, 0.5)):
    from wdlab.quiz.cards import Run, Scenario
    cfg = SweepConfig(preset="modular-addition-p23", epochs=epochs, weight_decays=wds)
    return Scenario("grok-card", "t", "t", (Run(cfg),), tuple(questions))


def test_ever_passes_reads_steps_one_to_n_averaged_over_seeds():
    from wdlab.quiz.cards import Point, grade
    from wdlab.quiz.grok import EverPasses
    card = grok_card(EverPasses("val_acc", 0.5, Point(0.0)), EverPasses("val_acc", 0.5, Point(0.5)))
    f = frame_of({0.0: ([0] * 6, [.9, .1, .4, .5, .3, .2], [1] * 6),       # epoch 0 does not count; 0.5 is not "past"
                  0.5: ([0] * 6, [0, .1, .2, .3, .6, .7], [1] * 6)})
    no, yes = grade(card, f)
    assert no.answer == "no" and no.values == {"peak validation accuracy": .5} and "step 3 of 5" in no.facts[0]
    assert yes.answer == "yes" and "first passing it at step 4" in yes.facts[0] and yes.is_right("yes")
    # two seeds: the mean curve is what passes or not
    f2 = pd.concat([f, frame_of({0.0: ([0] * 6, [0, .1, .45, .5, .3, .2], [1] * 6),
                                 0.5: ([0] * 6, [0, .1, .2, .3, .35, .7], [1] * 6)}).assign(seed=1)])
    no, yes = grade(card, f2)
    assert no.answer == "no" and yes.answer == "yes" and yes.values["peak validation accuracy"] == pytest.approx(.7)


def test_since_fitted_compares_the_end_with_the_step_training_accuracy_hit_100_percent():
    from wdlab.quiz.cards import Point, grade
    from wdlab.quiz.grok import SinceFitted
    card = grok_card(SinceFitted(Point(0.0)), SinceFitted(Point(0.5)))
    f = frame_of({0.0: ([0, .9, 1, 1, 1, 1], [0] * 6, [1, 5, 10, 12, 13, 14]),
                  0.5: ([0, 1, .9, 1, 1, 1], [0] * 6, [1, 10, 12, 11, 9, 8])})
    up, down = grade(card, f)
    assert up.answer == "higher" and up.values["‖w‖₂ when fitted"] == 10 and up.values["final ‖w‖₂"] == 14
    assert down.answer == "lower" and down.values["‖w‖₂ when fitted"] == 10            # the FIRST step at 100 %
    assert down.values["peak ‖w‖₂ after it"] == 12 and "rose to 12 (step 2)" in down.facts[0]
    f.loc[(f.weight_decay == 0.5) & (f.epoch == 5), "l2_norm"] = 10.4                     # +4 %: within 5 %
    assert grade(card, f)[1].answer == "about the same"
    f.loc[f.weight_decay == 0.5, "train_acc"] = 0.99
    o = grade(card, f)[1]
    assert o.status == "undecided" and o.is_right("lower") is None and "never reached 100 %" in o.note


def test_grokking_questions_are_not_graded_on_a_diverged_or_unfinished_run():
    from wdlab.quiz.cards import Point, grade
    from wdlab.quiz.grok import EverPasses, SinceFitted
    card = grok_card(EverPasses("val_acc", 0.5, Point(0.5)), SinceFitted(Point(0.5)))
    f = frame_of({0.0: ([1] * 6, [0] * 6, [1] * 6), 0.5: ([1] * 6, [0] * 6, [1] * 6)})
    f.loc[(f.weight_decay == 0.5) & (f.epoch == 5), "diverged"] = True
    assert [o.status for o in grade(card, f)] == ["diverged", "diverged"]
    short = frame_of({0.0: ([1] * 4, [0] * 4, [1] * 4), 0.5: ([1] * 4, [0] * 4, [1] * 4)})
    assert [o.status for o in grade(card, short)] == ["incomplete", "incomplete"]


def test_grokking_questions_are_checked_when_declared():
    from wdlab.quiz.cards import Point
    from wdlab.quiz.grok import EverPasses
    with pytest.raises(ValueError, match="not swept"):
        grok_card(EverPasses("val_acc", 0.5, Point(0.3)))
    with pytest.raises(ValueError, match="not available"):
        from wdlab.quiz.cards import Run, Scenario
        Scenario("x", "t", "t", (Run(SweepConfig(preset="tutorial", epochs=3, weight_decays=(0.0,))),),
                 (EverPasses("val_acc", 0.5, Point(0.0)),))


@pytest.fixture(scope="module")
def grok_frame():
    from wdlab.settings.config import DEMO_LIMITS
    from wdlab.quiz.bank import BY_ID
    cfg = BY_ID["grokking-no-decay"].config
    assert cfg == BY_ID["grokking-norm"].config
    from wdlab.engine.budget import validate
    return run_sweep(cfg, **validate(cfg, DEMO_LIMITS).knobs()).frame


def test_the_bank_grokking_cards_are_graded_from_the_run(grok_frame):
    from wdlab.quiz.cards import explain, fmt, grade
    from wdlab.quiz.bank import BY_ID
    f = grok_frame
    acc = lambda w: f[(f.weight_decay == w) & (f.epoch >= 1)].val_acc  # noqa: E731
    card = BY_ID["grokking-no-decay"]
    outcomes = grade(card, f)
    # computed here from the frame, independently of the grader
    assert outcomes[0].answer == ("yes" if acc(0.0).max() > 0.5 else "no")
    assert outcomes[1].answer == ("yes" if acc(0.2).max() > 0.5 else "no")
    assert fmt(acc(0.0).max()) in explain(card, outcomes)
    card = BY_ID["grokking-norm"]
    m = f[f.weight_decay == 0.3].sort_values("epoch")
    fitted = m[(m.epoch >= 1) & (m.train_acc >= 1.0)].iloc[0]
    r = (m.l2_norm.iloc[-1] - fitted.l2_norm) / fitted.l2_norm
    o = grade(card, f)[0]
    assert o.answer == ("higher" if r > 0.05 else "lower" if r < -0.05 else "about the same")
    assert fmt(fitted.l2_norm) in o.facts[0] and fmt(m.l2_norm.iloc[-1]) in o.facts[0]


def test_the_small_variant_fits_the_demo_and_groks_within_it():
    from wdlab.settings.config import DEMO_LIMITS
    from wdlab.engine.budget import validate
    cfg = SweepConfig(preset="modular-addition-p23", **preset_defaults("modular-addition-p23"))
    result = run_sweep(cfg, **validate(cfg, DEMO_LIMITS).knobs())
    ev = events(result.frame)
    assert criteria(ev, MIN_DELAY) == [], ev.to_string()


def test_a_frame_with_no_rows_yet_has_no_events_and_an_empty_table():
    # a job queued or starting gives the page pd.DataFrame(): no rows, no columns (issue 26, item 3)
    from wdlab.plots.grokking import grok_table, grokking_figure
    ev = events(pd.DataFrame())
    assert ev.empty and "weight_decay" in ev.columns
    assert grok_table(pd.DataFrame()).empty and grokking_figure(pd.DataFrame()).data == ()
