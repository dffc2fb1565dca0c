"""LayerNorm in the stacked engine: its hand-written forward and backward against nn.LayerNorm + torch.optim."""
import pandas as pd
import pytest
import torch

from wdlab.engine.models import build_mlp
from wdlab.engine.net import StackedNet, member_losses_and_grad, with_ones
from wdlab.engine.stack import Stack
from wdlab.engine.sweep import prepare, run_sweep
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig

from engine.test_sweep import F64, assert_matches_reference, member

LN = dict(norm="layernorm", **F64)


@pytest.mark.parametrize("optimizer,momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0), ("adamw", 0.0),
                                                ("rmsprop", 0.0)])
@pytest.mark.parametrize("decay_bias", [True, False])
@pytest.mark.parametrize("batch_size", [None, 96])        # 1000 rows: ten batches of 96, then one of 40
def test_every_optimizer_with_layernorm_equals_its_own_torch_optim_run(optimizer, momentum, decay_bias, batch_size):
    assert set(OPTIMIZERS) == {"sgd", "adam", "adamw", "rmsprop"}     # a new optimizer joins this list
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh", optimizers=(optimizer,), momentum=momentum,
                      lrs=(0.05 if optimizer == "sgd" else 0.01,), epochs=4, batch_size=batch_size,
                      weight_decays=(0.0, 1e-3, 0.03), seeds=(0, 5), decay_bias=decay_bias, **LN)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_a_collapsing_layernorm_net_stays_within_its_amplified_rounding():
    # RMSprop with L2 λ = 0.1–0.3 on everything shrinks the Linear before each LayerNorm to |w| ~ 1e-3 in four
    # epochs: LayerNorm then divides rounding-level differences of z by z's tiny spread across units, so any two
    # exact implementations drift apart (λ = 0.3, seed 0: autograd through the same buffer 1.6e-11 from the plain
    # loop, this engine 7e-12); smaller λ stay within 1e-12 (above)
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh", optimizers=("rmsprop",), lrs=(0.01,), epochs=4,
                      batch_size=96, weight_decays=(0.1, 0.3), seeds=(0, 5), decay_bias=True, **LN)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True), tol=1e-10)


@pytest.mark.parametrize("case", [
    # a grid: several optimizers × lrs × λ × seeds in one stacked sweep, minibatches with a partial last one
    dict(preset="tutorial", hidden=(16, 8), activation="relu", optimizers=("adam", "adamw", "sgd"),
         lrs=(0.003, 0.03), weight_decays=(0.0, 0.1), seeds=(1, 2), batch_size=300, epochs=3, decay_bias=False),
    # reads_z activation (the LayerNorm output stays apart from the activation)
    dict(preset="tutorial", hidden=(8, 6), activation="gelu", optimizers=("adamw",), lrs=(0.01,),
         weight_decays=(0.0, 1.0), seeds=(0,), batch_size=64, epochs=3, decay_bias=True),
    # classification, full batch (layer 1 folds its bias into its product; the primed forward), x²
    dict(preset="spirals", hidden=(16, 16), activation="quadratic", optimizers=("rmsprop", "adam"),
         lrs=(0.003,), weight_decays=(0.0, 0.01, 0.3), seeds=(0, 3), epochs=5),
    dict(preset="digits", hidden=(32,), activation="relu", optimizers=("adamw",), lrs=(0.01,),
         weight_decays=(0.0, 0.1), seeds=(0,), batch_size=128, epochs=3),
])
def test_layernorm_grids_equal_their_own_torch_optim_runs(case):
    cfg = SweepConfig(**case, **LN)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_layernorm_nets_take_the_hand_written_backward_and_it_equals_autograd():
    torch.manual_seed(0)
    models = [build_mlp(5, (7, 6), 3, "gelu", "layernorm").double() for _ in range(4)]
    for m in models:   # gains and shifts away from their 1 and 0, so their gradients matter
        for layer in m:
            if isinstance(layer, torch.nn.LayerNorm):
                torch.nn.init.normal_(layer.weight, 1.0, 0.3)
                torch.nn.init.normal_(layer.bias, 0.0, 0.3)
    hand = StackedNet(models, "gelu", torch.float64, norm="layernorm")
    auto = StackedNet(models, "gelu", torch.float64, autograd=True, norm="layernorm")
    assert not hand.autograd
    x, y = torch.randn(4, 40, 5, dtype=torch.float64), torch.randint(0, 3, (4, 40))
    grad = lambda out, t: member_losses_and_grad(out, t, "classification")   # noqa: E731
    loss_h, out_h = hand.loss_grad(with_ones(x), y, grad)
    loss_a, out_a = auto.loss_grad(x, y, grad)
    assert (out_h - out_a).abs().max() < 1e-14 and (loss_h - loss_a).abs().max() < 1e-14
    assert (hand.flat.grad - auto.flat.grad).abs().max() < 1e-14
    assert all(g.abs().sum() > 0 for g in hand.ggrads + hand.sgrads)
    # and each member's gradient is its own nn.Sequential's
    for i, m in enumerate(models):
        m.zero_grad()
        torch.nn.functional.cross_entropy(m(x[i]), y[i]).backward()
        ref = torch.cat([p.grad.flatten() for p in m.parameters()])
        got = torch.cat([hand.rows(s, hand.flat.grad)[i] for s in hand.segments])
        assert (got - ref).abs().max() < 1e-14


def test_a_layernorm_members_numbers_do_not_depend_on_its_sweep_mates():
    # float32, exact: LayerNorm's row-wise kernels must round a member the same way whoever shares the stack
    base = dict(preset="tutorial", hidden=(32, 16), epochs=3, batch_size=100, optimizers=("adamw",), norm="layernorm")
    big = run_sweep(SweepConfig(weight_decays=(0.0, 1e-3, 1e-1), seeds=(0, 1, 2), **base)).frame
    alone = run_sweep(SweepConfig(weight_decays=(1e-3,), seeds=(1,), **base)).frame
    pd.testing.assert_frame_equal(member(big, 1e-3, 1), member(alone, 1e-3, 1), check_exact=True)


def test_float32_layernorm_members_stay_within_rounding_of_torch_optim():
    cfg = SweepConfig(preset="moons", hidden=(16, 16), norm="layernorm", optimizers=("adamw",), lrs=(0.01,), epochs=5,
                      batch_size=32, weight_decays=(0.0, 0.1), seeds=(0, 1))
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True), tol=2e-6)


def test_layernorm_gains_decay_like_biases():
    # decay_bias off: weights decay, gains and shifts don't (1-D, as the reference's nanoGPT groups); on: all
    for decay_bias, decayed in ((False, {"weight"}), (True, {"weight", "bias", "gain", "shift"})):
        cfg = SweepConfig(preset="tutorial", hidden=(6,), norm="layernorm", optimizers=("adam",), lrs=(0.01,),
                          weight_decays=(0.5,), seeds=(0,), decay_bias=decay_bias, epochs=1)
        stack = Stack(cfg, prepare(cfg), range(1))
        got = {s.kind for s in stack.net.segments if stack.net.rows(s, stack.decay).abs().sum() > 0}
        assert got == decayed


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_an_evaluations_layernorm_over_its_input_buffer_gives_the_same_numbers(activation):
    # forward(backward=False) normalizes in z's own buffer (NormSpec.infer) and makes no normalization buffers for
    # its size: bit for bit the training forward, and a training step of that size after it gets its own saved x̂
    torch.manual_seed(0)
    models = [build_mlp(5, (16, 8), 3, activation=activation, norm="layernorm") for _ in range(3)]
    x, y = with_ones(torch.randn(3, 40, 5)), torch.randint(0, 3, (3, 40))
    evaluated, trained = (StackedNet(models, activation, torch.float32, norm="layernorm") for _ in range(2))
    first = evaluated.forward(x, backward=False).clone()
    assert not evaluated._work(40).normed                             # an evaluation's size: no x̂, no output buffer
    assert torch.equal(first, trained.forward(x))
    for net in (evaluated, trained):
        net.loss_grad(x, y, lambda o, t: member_losses_and_grad(o, t, "classification"))
    assert torch.equal(evaluated.flat.grad, trained.flat.grad)
    assert torch.equal(evaluated.forward(x, backward=False), first)   # the size has buffers now: the saving path
