"""rot{k}, max_abs_w and eff_lr{k}: the engine's per-epoch measures equal a plain loop's, to float64 rounding."""
import math

import pytest

from wdlab.engine.sweep import run_sweep
from wdlab.reference import reference_run
from wdlab.settings.config import SweepConfig

TOL = 1e-12


def law_columns(df):
    return [c for c in df.columns if c.startswith(("rot", "max_abs_w", "eff_lr"))]


@pytest.mark.parametrize("optimizer,momentum,norm,decay_bias,batch_size", [
    ("adamw", 0.0, "layernorm", True, 96),
    ("adamw", 0.0, "none", False, None),
    ("sgd", 0.9, "layernorm", False, 250),
    ("adam", 0.0, "layernorm", True, None),
    ("adamw", 0.0, "layernorm", True, "cosine"),     # eff_lr with the scheduled lr of the epoch's last step
])
def test_rotation_max_abs_w_and_effective_lr_equal_a_plain_loop(optimizer, momentum, norm, decay_bias, batch_size):
    schedule = dict(schedule="cosine", warmup_epochs=1) if batch_size == "cosine" else {}
    batch_size = 250 if schedule else batch_size
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh", optimizers=(optimizer,), momentum=momentum,
                      norm=norm, lrs=(0.05 if optimizer == "sgd" else 0.01,), epochs=3, batch_size=batch_size,
                      weight_decays=(0.0, 0.3), seeds=(0, 5), decay_bias=decay_bias, dtype="float64", **schedule)
    df = run_sweep(cfg).frame
    normed = norm != "none"    # rot… and eff_lr…: on normalized layers only
    want = ["rot1", "rot2", "max_abs_w", "eff_lr1", "eff_lr2"] if normed else ["max_abs_w"]
    assert law_columns(df) == want
    for m in cfg.members:
        ref = reference_run(cfg, m)
        got = df[(df.weight_decay == m.weight_decay) & (df.seed == m.seed)].sort_values("epoch")
        for c in want:
            for a, b in zip(got[c].iloc[1:], ref[c], strict=True):
                assert abs(a - b) <= TOL * abs(b), (m, c, a, b)
        if normed:
            assert math.isnan(got.rot1.iloc[0]) and math.isnan(got.rot2.iloc[0])     # epoch 0: no step yet
            assert all(got.rot1.iloc[1:] > 0)


def test_a_linear_model_has_max_abs_w_and_no_rotation():
    cfg = SweepConfig(preset="tutorial", hidden=(), optimizers=("adamw",), epochs=2, weight_decays=(0.1,),
                      dtype="float64")
    df = run_sweep(cfg).frame
    assert law_columns(df) == ["max_abs_w"]
    ref = reference_run(cfg, cfg.members[0])
    assert list(df.max_abs_w.iloc[1:]) == pytest.approx(ref["max_abs_w"], rel=TOL)


def test_max_abs_w_skips_the_biases_when_they_do_not_decay():
    cfg = SweepConfig(preset="tutorial", hidden=(4,), optimizers=("sgd",), lrs=(0.05,), epochs=1, weight_decays=(0.0,),
                      decay_bias=False, dtype="float64")
    res = run_sweep(cfg, keep_params=True)
    params = res.params[cfg.members[0]]
    assert res.frame.max_abs_w.iloc[-1] == max(p.abs().max().item() for p in params if p.dim() >= 2)
