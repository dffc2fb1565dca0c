"""Every preset's own settings, measured: sine overfits without decay and fits at a middle λ; each default fits
the hosted demo; the CLI, a link and the config apply a preset's defaults where nothing else is set."""
import pytest
import torch

from wdlab.engine.budget import validate
from wdlab.cli.args import build_parser, config_from_args
from wdlab.settings.config import DEMO_LIMITS, SweepConfig, preset_config, preset_defaults
from wdlab.registry.datasets import DATASETS, SINE_NOISE, sine_truth
from wdlab.engine.predict import predict
from wdlab.errors import ConfigError
from wdlab.settings.params import from_query, to_query
from wdlab.engine.sweep import run_sweep

COURSE_LOSS = 0.988277792930603  # what ../shared/seed/tutorial.py prints with torch 2.13.0


def final(frame, column):
    """{λ: that column's value at the last epoch} (one seed)."""
    last = frame[frame["epoch"] == frame["epoch"].max()]
    return dict(zip(last["weight_decay"], last[column]))


def test_sine_data_is_noisy_points_of_the_curve_and_the_curve_held_out():
    d = DATASETS["sine"].make(0, None)
    assert d.X_train.shape == (20, 1) and d.X_val.shape == (200, 1)
    assert torch.equal(d.y_val, sine_truth(d.X_val))                        # held out: the curve itself
    residual = d.y_train - sine_truth(d.X_train)
    assert 0.5 * SINE_NOISE < residual.std().item() < 1.5 * SINE_NOISE     # training targets carry the noise
    gaps = d.X_val[1:, 0] - d.X_val[:-1, 0]
    assert torch.allclose(gaps, gaps[0].expand_as(gaps))                   # an even grid over the interval
    assert d.X_train.min() >= d.X_val.min() and d.X_train.max() <= d.X_val.max()


def test_sine_defaults_overfit_without_decay_and_fit_best_at_a_middle_lambda():
    cfg = SweepConfig(preset="sine", **preset_defaults("sine"))
    validate(cfg, DEMO_LIMITS)                                  # the defaults fit the hosted demo as they are
    result = run_sweep(cfg, keep_params=True)
    frame = result.frame
    val, train = final(frame, "val_loss"), final(frame, "train_loss")
    wds = sorted(val)
    data = DATASETS["sine"].make(0, None)
    fitted = predict(cfg, 1, 1, [p.numpy() for p in result.params[cfg.members[0]]], data.X_train.numpy())
    assert cfg.members[0].weight_decay == 0.0
    assert abs(fitted - data.y_train.numpy()).max() < SINE_NOISE / 2   # λ = 0 passes through every point
    best = min(wds, key=val.get)
    assert wds[0] == 0.0 and best not in (wds[0], wds[-1])      # the best fit at a middle λ ...
    assert val[best] < val[0.0] / 2 and val[best] < val[wds[-1]] / 2    # ... clearly better than both ends
    assert train[0.0] < SINE_NOISE ** 2 / 10                    # λ = 0 fits the noise, not the curve
    assert train[best] > train[0.0]                             # the good fit leaves the noise in its residual


BUILT_IN = [n for n in DATASETS if n != "csv"]
TOO_BIG_FOR_DEMO = {"modular-addition", "modular-addition-p59"}   # documented: minutes; p23 is the demo's variant


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_preset_brings_a_whole_sweep_that_fits_the_demo(name):
    d = preset_defaults(name)
    assert {"hidden", "optimizers", "lrs", "epochs", "batch_size", "weight_decays", "seeds"} <= set(d)
    assert 0.0 in d["weight_decays"] and len(d["weight_decays"]) >= 3       # λ = 0 and at least two decays
    cfg = preset_config(name)
    assert all(getattr(cfg, k) == v for k, v in d.items())
    if name in TOO_BIG_FOR_DEMO:
        with pytest.raises(ConfigError):
            validate(cfg, DEMO_LIMITS)
    else:
        validate(cfg, DEMO_LIMITS)


def test_highdim_linear_is_the_linear_model_its_description_promises():
    assert preset_config("highdim-linear").hidden == ()
    assert "linear" in DATASETS["highdim-linear"].title.lower()


def test_the_tutorials_defaults_are_the_courses_run_trained_longer():
    cfg = preset_config("tutorial")
    assert cfg.epochs == 100             # the course's 5 steps leave every λ's curves on top of each other
    cfg = cfg.replace(epochs=5)
    course = SweepConfig(preset="tutorial", hidden=(64,), activation="relu", optimizers=("adam",), lrs=(0.01,), epochs=5,
                         batch_size=None, weight_decays=(1e-4,), seeds=(0,))
    assert cfg.replace(weight_decays=(1e-4,)) == course and 1e-4 in cfg.weight_decays
    frame = run_sweep(cfg).frame
    assert final(frame, "train_loss")[1e-4] == pytest.approx(COURSE_LOSS, abs=1e-6)


# What each preset's own settings must show, from a real run of them (numbers measured: docs/PRESETS.md): the best
# λ by final validation loss is not 0 and beats λ = 0 by the factor given; classification: the best λ's accuracy.
EFFECT = {"highdim-linear": (5.0, None), "moons": (2.0, 0.85), "spirals": (1.5, 0.8), "digits": (1.3, 0.97),
          "diabetes": (1.2, None), "breast-cancer": (1.5, 0.95)}   # sine: its own test above


@pytest.mark.parametrize("name", EFFECT)
def test_each_presets_defaults_show_a_visible_lambda_effect(name):
    factor, accuracy = EFFECT[name]
    frame = run_sweep(preset_config(name)).frame
    val = final(frame, "val_loss")
    best = min(val, key=val.get)
    assert best > 0 and val[0.0] > factor * val[best], val
    if accuracy is not None:
        assert final(frame, "val_acc")[best] >= accuracy


def test_spirals_beats_the_old_app_defaults_clearly():
    old = run_sweep(SweepConfig(preset="spirals", weight_decays=(0.0,))).frame   # 64 ReLU, 100 epochs: 0.63
    new = run_sweep(preset_config("spirals").replace(weight_decays=(1e-3,))).frame
    assert final(new, "val_acc")[1e-3] >= final(old, "val_acc")[0.0] + 0.15


# -- the CLI and a link take the preset's own settings where nothing else is said ----------------------------------
@pytest.mark.parametrize("name", BUILT_IN)
def test_cli_preset_alone_is_the_presets_sweep_and_a_flag_wins(name):
    assert config_from_args(build_parser().parse_args(["run", "--preset", name])) == preset_config(name)
    cfg = config_from_args(build_parser().parse_args(["run", "--preset", name, "--epochs", "3", "--lr", "0.2"]))
    assert cfg == preset_config(name).replace(epochs=3, lrs=(0.2,))


def test_cli_alone_trains_the_course_run(capsys):
    assert config_from_args(build_parser().parse_args(["run"])) == preset_config("tutorial")
    assert "the preset's own" in build_parser()._subparsers._group_actions[0].choices["run"].format_help()


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_link_with_only_a_preset_is_the_presets_sweep(name):
    cfg, warnings = from_query({"preset": name})
    assert (cfg, warnings) == (preset_config(name), [])
    cfg, _ = from_query({"preset": name, "epochs": "7", "activation": "gelu"})
    assert cfg == preset_config(name).replace(epochs=7, activation="gelu")


def test_old_links_keep_their_meaning():
    # README's link, and a link without a preset: the tutorial's own settings for what they leave out (those
    # equal SweepConfig's except epochs and λ, which the README's link carries); a full link (what the app
    # writes) is exact whatever the defaults
    cfg, warnings = from_query({"preset": "tutorial", "optimizer": "adamw", "wd": "0,0.001,0.1", "seeds": "0,1",
                                "epochs": "100"})
    assert warnings == [] and cfg == SweepConfig(optimizers=("adamw",), weight_decays=(0.0, 1e-3, 0.1), seeds=(0, 1))
    assert from_query({}) == (preset_config("tutorial"), [])
    full = SweepConfig(preset="moons", hidden=(8,), activation="tanh", epochs=12, weight_decays=(0.0, 0.5))
    assert from_query(to_query(full)) == (full, [])


def test_a_bad_value_in_a_preset_link_falls_back_to_the_presets_own():
    cfg, warnings = from_query({"preset": "sine", "epochs": "-1"})
    assert cfg == preset_config("sine") and len(warnings) == 1
    assert f"the default {preset_config('sine').epochs}" in warnings[0]


def test_the_landscape_page_keeps_its_grid_for_another_preset():
    from wdlab.ui.landscape_page import DEFAULT, GRID
    cfg, warnings = from_query({"preset": "spirals"}, base=DEFAULT, keep=GRID)
    assert warnings == [] and (cfg.optimizers, cfg.lrs) == (DEFAULT.optimizers, DEFAULT.lrs)
    assert cfg.replace(optimizers=("adam",), lrs=(0.01,)) == preset_config("spirals")
