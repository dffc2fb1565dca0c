"""Every preset's own settings, measured: sine overfits without decay and fits at a middle λ; each default fits
the hosted demo; the CLI, a link and the config apply a preset's defaults where nothing else is set."""
import math

import pytest
import torch

from wdlab.budget import validate
from wdlab.config import DEMO_LIMITS, SweepConfig, preset_defaults
from wdlab.data import DATASETS, SINE_NOISE, sine_truth
from wdlab.sweep import run_sweep


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
    frame = run_sweep(cfg).frame
    val, train = final(frame, "val_loss"), final(frame, "train_loss")
    wds = sorted(val)
    best = min(wds, key=val.get)
    assert wds[0] == 0.0 and best not in (wds[0], wds[-1])      # the best fit at a middle λ ...
    assert val[best] < val[0.0] / 2 and val[best] < val[wds[-1]] / 2    # ... clearly better than both ends
    assert train[0.0] < SINE_NOISE ** 2 / 4                     # λ = 0 follows the noise: near every point
    assert train[best] > train[0.0]                             # the good fit leaves the noise in its residual
