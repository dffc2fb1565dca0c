"""The Laws page's figure: measured curves per member and layer, each applying prediction dashed from the epoch it
is measured from, once per λ and layer; the box as a ceiling; τ as a dotted line only where the run reaches it."""
import numpy as np
import pandas as pd

from support import values
from wdlab.laws.predict import predictions
from wdlab.plots.law_cards import law_figure
from wdlab.settings.config import SweepConfig


def fake_frame(cfg: SweepConfig) -> pd.DataFrame:
    """The frame's columns for cfg's members, with made-up values (the figure only draws them)."""
    out = []
    for m in cfg.members:
        for e in range(cfg.epochs + 1):
            out.append(dict(optimizer=m.optimizer, lr=m.lr, weight_decay=m.weight_decay, seed=m.seed, epoch=e,
                            l2_norm=1.0 + e, max_abs_w=0.5, rot1=np.nan if e == 0 else 0.01, rot2=np.nan if e == 0
                            else 0.02, l2_weight1=3.0, l2_bias1=4.0, l2_weight2=1.0, l2_bias2=0.0, l2_weight3=1.0,
                            l2_bias3=0.0, diverged=False))
    return pd.DataFrame(out)


def traces(fig, role):
    return [t for t in fig.to_dict()["data"] if t["meta"]["role"] == role]


def test_rotation_draws_each_member_and_layer_and_one_dashed_rate_per_layer_from_its_epoch():
    cfg = SweepConfig(preset="tutorial", hidden=(8, 8), norm="layernorm", optimizers=("adamw",), lrs=(0.01,),
                      weight_decays=(0.1,), seeds=(0, 1), batch_size=32, epochs=40)
    frame = fake_frame(cfg)
    fig = law_figure("rotation", frame, predictions(cfg))
    measured = traces(fig, "measured")
    assert sorted((t["meta"]["seed"], t["meta"]["layer"]) for t in measured) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert all(0 not in values(t["x"]) for t in measured)                     # epoch 0 has no rotation yet
    dashed = traces(fig, "predicted")
    assert sorted(t["meta"]["layer"] for t in dashed) == [1, 2]               # seeds share one line
    rate = (2 * 0.01 * 0.1 * 0.1 / 1.9) ** 0.5
    for t in dashed:
        assert t["line"]["dash"] == "dash" and list(t["y"]) == [rate, rate]
        assert list(t["x"]) == [32.0, 40.0]          # from 2 × 1/(2·lr·λ) = 1,000 steps = epoch 32 of 32 steps
    colour = {t["meta"]["layer"]: t["line"]["color"] for t in dashed}
    assert all(t["line"]["color"] == colour[t["meta"]["layer"]] for t in measured)


def test_the_norm_of_a_layer_is_its_whole_weights_and_biases():
    cfg = SweepConfig(preset="tutorial", hidden=(8, 8), norm="layernorm", optimizers=("adamw",), lrs=(0.01,),
                      weight_decays=(0.1,), seeds=(0,), batch_size=32, epochs=5)
    fig = law_figure("norm", fake_frame(cfg), predictions(cfg))
    layer1 = next(t for t in traces(fig, "measured") if t["meta"]["layer"] == 1)
    assert set(values(layer1["y"])) == {5.0}                                          # √(3² + 4²)
    assert len(traces(fig, "measured")) == 2                                   # not the output layer


def test_the_box_is_a_ceiling_and_adam_with_l2_gets_no_line():
    cfg = SweepConfig(preset="diabetes", hidden=(), optimizers=("adam", "adamw"), lrs=(0.01,),
                      weight_decays=(1.0, 10.0), seeds=(0,), batch_size=None, epochs=10)
    fig = law_figure("box", fake_frame(cfg), predictions(cfg))
    assert len(traces(fig, "measured")) == 4
    ceilings = traces(fig, "predicted")
    assert sorted(t["y"][0] for t in ceilings) == [0.1, 1.0]
    assert all(t["name"].startswith("box 1/λ (ceiling), λ") for t in ceilings)


def test_tau_is_drawn_only_inside_the_run():
    cfg = SweepConfig(preset="tutorial", hidden=(8,), optimizers=("adamw",), lrs=(0.01,), batch_size=100,
                      weight_decays=(0.03, 3.0), seeds=(0,), epochs=50)
    fig = law_figure("timescale", fake_frame(cfg), predictions(cfg))
    taus = traces(fig, "tau")
    assert [round(t["x"][0], 3) for t in taus] == [3.333]                     # τ = 333 epochs is past the run
    assert taus[0]["line"]["dash"] == "dot"
