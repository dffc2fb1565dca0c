"""Grids over optimizer × lr × λ × seed in one stacked sweep, LayerNorm, the registries, chunking: every member
against its own nn.Sequential + torch.optim run."""
import math

import pandas as pd
import pytest
import torch
import torch.nn as nn

from wdlab.settings import params
from wdlab.settings.config import Member, SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.reference import reference_run
from wdlab.engine.net import StackedNet, member_losses_and_grad
from wdlab.engine.sweep import plan_stacks, prepare, run_sweep

TOL = 1e-12
COLUMNS = ("train_loss", "train_eval_loss", "val_loss", "l2_norm")


def rows(df, m):
    keep = (df.optimizer == m.optimizer) & (df.lr == m.lr) & (df.weight_decay == m.weight_decay) & (df.seed == m.seed)
    return df[keep].sort_values("epoch").reset_index(drop=True)


def assert_members_match(cfg, res, tol=TOL):
    for m in cfg.members:
        ref, got = reference_run(cfg, m), rows(res.frame, m)
        assert list(got.epoch) == list(range(cfg.epochs + 1)), m
        for col in COLUMNS:
            diff = max(abs(a - b) for a, b in zip(got[col][1:], ref[col]))
            assert diff <= tol, (m, col, diff)
        for p_eng, p_ref in zip(res.params[m], ref["model"].parameters(), strict=True):
            assert p_eng.shape == p_ref.shape and (p_eng - p_ref.detach()).abs().max().item() <= tol, m


GRID = dict(preset="tutorial", hidden=(6, 5), activation="tanh", optimizers=tuple(OPTIMIZERS), lrs=(0.002, 0.005),
            momentum=0.9, epochs=3, weight_decays=(0.0, 0.2), seeds=(0, 3), dtype="float64")


@pytest.mark.parametrize("norm", ["none", "layernorm"])
@pytest.mark.parametrize("decay_bias", [True, False])
@pytest.mark.parametrize("batch_size", [None, 200])
def test_every_member_of_a_mixed_optimizer_and_lr_grid_equals_its_own_torch_optim_run(norm, decay_bias, batch_size):
    cfg = SweepConfig(norm=norm, decay_bias=decay_bias, batch_size=batch_size, **GRID)
    assert len(cfg.members) == 4 * 2 * 2 * 2
    res = run_sweep(cfg, keep_params=True)
    assert len(plan_stacks(cfg, prepare(cfg), None)) == 1      # all 32 members in one stacked pass
    assert_members_match(cfg, res)


def test_chunked_passes_and_row_blocks_change_no_number():
    cfg = SweepConfig(norm="none", batch_size=300, **GRID)
    whole = run_sweep(cfg, keep_params=True)
    for chunk, block in [(1, None), (5, 77), (7, 1000)]:
        assert len(plan_stacks(cfg, prepare(cfg), chunk)) == math.ceil(32 / chunk)
        part = run_sweep(cfg, keep_params=True, max_chunk_members=chunk, val_block_rows=block)
        assert_members_match(cfg, part)
        diff = (part.frame[list(COLUMNS)] - whole.frame[list(COLUMNS)]).abs().max().max()
        assert diff <= 1e-13, (chunk, block, diff)


def test_chunks_follow_members_batch_and_width_not_a_constant():
    small = SweepConfig(hidden=(64,), weight_decays=tuple(i / 10 for i in range(8)), seeds=(0, 1, 2))
    wide = small.replace(hidden=(1024,))
    assert len(plan_stacks(small, prepare(small), None)) == 1               # 24 × 1000 × 64 floats: one pass
    wide_chunks = plan_stacks(wide, prepare(wide), None)
    assert len(wide_chunks) > 1 and sum(len(c) for c in wide_chunks) == 24  # 24 × 1000 × 1024: split
    assert max(len(c) for c in wide_chunks) - min(len(c) for c in wide_chunks) <= 1
    assert len(plan_stacks(wide.replace(batch_size=50), prepare(wide), None)) == 1  # a small batch fits again
    assert all(len(c) <= 5 for c in plan_stacks(small, prepare(small), 5))


def test_a_diverging_lr_group_is_frozen_and_the_other_groups_stay_exact():
    base = dict(preset="tutorial", hidden=(16,), momentum=0.0, epochs=8, weight_decays=(0.0, 1e-2), seeds=(0, 1))
    # float32, the app's precision: the healthy groups must not even round differently beside the wild one
    grid = SweepConfig(optimizers=("sgd", "adamw"), lrs=(0.05, 8.0), **base)
    tame = SweepConfig(optimizers=("sgd", "adamw"), lrs=(0.05,), **base)
    with_bad, without = run_sweep(grid, keep_params=True), run_sweep(tame, keep_params=True)
    sgd_wild = {m for m in grid.members if m.optimizer == "sgd" and m.lr == 8.0}
    assert sgd_wild <= set(with_bad.diverged)                       # SGD at lr 8 blows up, every member of it
    assert not {m for m in with_bad.diverged if m.lr == 0.05}
    healthy = with_bad.frame[with_bad.frame.lr == 0.05].reset_index(drop=True)
    pd.testing.assert_frame_equal(healthy, without.frame, check_exact=True)
    for m, p in without.params.items():
        assert all(torch.equal(a, b) for a, b in zip(with_bad.params[m], p, strict=True))
    for m in sgd_wild:
        r = rows(with_bad.frame, m)
        assert r.diverged.iloc[-1] and not r.diverged.iloc[:-1].any() and r.epoch.iloc[-1] == with_bad.diverged[m]
        assert m not in with_bad.params


def test_rmsprop_is_one_registry_entry_and_equals_torch_rmsprop_with_weight_decay():
    spec = OPTIMIZERS["rmsprop"]
    assert spec.coupled and spec.label and "grad += λ·w" in spec.rule
    assert "rmsprop" in params.BY_KEY["optimizer"].choices                 # the CLI and URL list it
    cfg = SweepConfig(preset="diabetes", hidden=(8,), optimizers=("rmsprop",), lrs=(0.003,), epochs=4, batch_size=100,
                      weight_decays=(0.0, 0.05, 0.5), seeds=(2,), dtype="float64", decay_bias=False)
    res = run_sweep(cfg, keep_params=True)
    data = DATASETS["diabetes"].make(0, None)
    for w in cfg.weight_decays:      # written out here, not through the registry: torch.optim.RMSprop itself
        torch.manual_seed(2)
        model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 1)).double()
        decayed = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.RMSprop([{"params": decayed}, {"params": rest, "weight_decay": 0.0}], lr=0.003,
                                  weight_decay=w)
        X, y = data.X_train.double(), data.y_train.double()
        g, losses = torch.Generator().manual_seed(2), []
        for _ in range(4):
            total, perm = 0.0, torch.randperm(len(X), generator=g)
            for idx in perm.split(100):
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item()
            losses.append(total / math.ceil(len(X) / 100))
        got = rows(res.frame, Member("rmsprop", 0.003, w, 2))
        assert max(abs(a - b) for a, b in zip(got.train_loss[1:], losses)) < TOL
        for a, b in zip(res.params[Member("rmsprop", 0.003, w, 2)], model.parameters(), strict=True):
            assert (a - b.detach()).abs().max().item() < TOL


def test_layernorm_decays_by_shape_and_records_weight_norms_apart_from_gains():
    cfg = SweepConfig(preset="moons", hidden=(8, 4), norm="layernorm", optimizers=("adamw",), lrs=(0.05,), epochs=5,
                      batch_size=50, weight_decays=(0.0, 5.0), seeds=(1,), decay_bias=False, dtype="float64")
    res = run_sweep(cfg, keep_params=True)
    df = res.frame
    assert [c for c in df.columns if c.startswith("l2_")] == [
        "l2_norm", "l2_weight1", "l2_bias1", "l2_gain1", "l2_weight2", "l2_bias2", "l2_gain2", "l2_weight3", "l2_bias3"]
    for m in cfg.members:
        model = reference_run(cfg, m)["model"]
        last = rows(df, m).iloc[-1]
        lin, ln = [x for x in model if isinstance(x, nn.Linear)], [x for x in model if isinstance(x, nn.LayerNorm)]
        for k, layer in enumerate(lin, 1):
            assert abs(last[f"l2_weight{k}"] - layer.weight.detach().norm().item()) < TOL
            assert abs(last[f"l2_bias{k}"] - layer.bias.detach().norm().item()) < TOL
        for k, layer in enumerate(ln, 1):
            both = torch.cat([layer.weight.detach(), layer.bias.detach()])
            assert abs(last[f"l2_gain{k}"] - both.norm().item()) < TOL
    # λ = 5 with AdamW shrinks the matrices by 1 − lr·λ = 0.75 a step; the LayerNorm gains are not decayed
    big = [p for p in res.params[Member("adamw", 0.05, 5.0, 1)]]
    small = [p for p in res.params[Member("adamw", 0.05, 0.0, 1)]]
    assert big[0].norm() < 0.5 * small[0].norm()          # first weight matrix
    assert abs(big[2].mean().item() - 1) < 0.5             # first LayerNorm gain stays near its start, 1


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_the_hand_written_backward_equals_autograd_on_the_same_stacked_layout(activation):
    cfg = SweepConfig(preset="digits", hidden=(16, 8), activation=activation, weight_decays=(0.0, 0.1),
                      seeds=(0, 1), dtype="float64")
    setup = prepare(cfg)
    models = [setup.models[0], setup.models[1], setup.models[0]]
    hand = StackedNet(models, activation, torch.float64, autograd=False)
    auto = StackedNet(models, activation, torch.float64, autograd=True)
    x, y = setup.X[0, :64].expand(3, 64, 64), setup.y[0, :64].expand(3, 64)
    grad = lambda out, t: member_losses_and_grad(out, t, "classification")  # noqa: E731
    (l1, _), (l2, _) = hand.loss_grad(x, y, grad), auto.loss_grad(x, y, grad)
    assert torch.equal(l1, l2)
    assert (hand.flat.grad - auto.flat.grad).abs().max().item() < 1e-15


def test_ray_groups_of_a_momentum_sweep_keep_momentum_only_where_the_optimizer_takes_it():
    # a Ray task trains one group: an Adam group of an SGD-with-momentum sweep was refused ("momentum applies to
    # sgd only") before any task ran
    from wdlab.run.grid import first_member, groups
    cfg = SweepConfig(preset="moons", optimizers=tuple(OPTIMIZERS), lrs=(0.01, 0.1), momentum=0.9, epochs=3)
    parts = groups([cfg])
    assert [(g.optimizers, g.lrs) for g in parts] == [((o,), (lr,)) for o in cfg.optimizers for lr in cfg.lrs]
    assert all(g.momentum == (0.9 if OPTIMIZERS[g.optimizers[0]].momentum else 0.0) for g in parts)
    assert [first_member(cfg, g) for g in parts] == list(range(0, len(cfg.members), len(cfg.members) // len(parts)))
