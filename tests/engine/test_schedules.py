"""Learning-rate schedules: every member equals a torch.optim run with LambdaLR stepped after every step."""
import math

import pandas as pd
import pytest
import torch
import torch.nn as nn

from wdlab.engine.stack import Stack
from wdlab.engine.sweep import prepare, run_sweep
from wdlab.reference import lr_lambda, reference_run
from wdlab.registry import schedules
from wdlab.registry.datasets import DATASETS
from wdlab.run.train import train
from wdlab.run.workers import Workers
from wdlab.settings.config import ConfigError, Member, SweepConfig

TOL = 1e-12


def rows(df, m):
    keep = (df.optimizer == m.optimizer) & (df.lr == m.lr) & (df.weight_decay == m.weight_decay) & (df.seed == m.seed)
    return df[keep].sort_values("epoch").reset_index(drop=True)


def assert_matches_reference(cfg, result, tol=TOL):
    for m in cfg.members:
        ref = reference_run(cfg, m)
        got = rows(result.frame, m)
        for col in ("train_loss", "train_eval_loss", "val_loss", "l2_norm"):
            diff = max(abs(a - b) for a, b in zip(got[col][1:], ref[col]))
            assert diff <= tol, (m, col, diff)
        for a, b in zip(result.params[m], ref["model"].parameters(), strict=True):
            assert (a - b.detach()).abs().max().item() <= tol, m


@pytest.mark.parametrize("schedule,warmup,batch_size", [
    ("cosine", 1, 96),       # 1000 rows: 10 full batches and a partial one of 40 each epoch
    ("cosine", 0, None),
    ("step", 1, 96),
    ("constant", 2, 300),    # warmup then constant; last batch of 100
])
def test_mixed_grid_under_a_schedule_equals_torch_optim_with_lambdalr(schedule, warmup, batch_size):
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh",
                      optimizers=("sgd", "adam", "adamw", "rmsprop"), lrs=(0.003, 0.02), momentum=0.9, epochs=5,
                      batch_size=batch_size, weight_decays=(0.0, 1e-3, 0.3), seeds=(0, 4), schedule=schedule,
                      warmup_epochs=warmup, step_period=2, step_gamma=0.5, decay_bias=schedule != "step",
                      dtype="float64")
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_chunked_and_sliced_members_keep_their_step_count():
    # chunks train one after another and a worker trains a slice: each stack counts its own steps from 0
    cfg = SweepConfig(preset="moons", hidden=(8,), optimizers=("adamw",), lrs=(0.05,), epochs=4, batch_size=64,
                      weight_decays=(0.0, 0.01, 0.5), seeds=(1,), schedule="cosine", warmup_epochs=1,
                      dtype="float64")
    whole = run_sweep(cfg, keep_params=True)
    assert_matches_reference(cfg, whole)
    parts = run_sweep(cfg, keep_params=True, max_chunk_members=1)
    assert whole.frame.equals(parts.frame)
    one = run_sweep(cfg, keep_params=True, members=range(1, 2))
    assert list(one.frame.val_loss) == list(rows(whole.frame, cfg.members[1]).val_loss)


def test_a_plain_loop_written_here_with_lambdalr_equals_the_member():
    # the schedule written out from the formula, not through wdlab: cosine after 1 warmup epoch
    cfg = SweepConfig(preset="diabetes", hidden=(8,), optimizers=("adamw",), lrs=(0.01,), epochs=3, batch_size=100,
                      weight_decays=(0.2,), seeds=(2,), schedule="cosine", warmup_epochs=1, dtype="float64")
    res = run_sweep(cfg, keep_params=True)
    data = DATASETS["diabetes"].make(0, None)
    X, y = data.X_train.double(), data.y_train.double()
    per_epoch = math.ceil(len(X) / 100)
    T, W = 3 * per_epoch, per_epoch
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.2)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: (t + 1) / W if t < W else 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W))))
    g, losses = torch.Generator().manual_seed(2), []
    for _ in range(3):
        total, perm = 0.0, torch.randperm(len(X), generator=g)
        for idx in perm.split(100):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        losses.append(total / per_epoch)
    got = rows(res.frame, Member("adamw", 0.01, 0.2, 2))
    assert max(abs(a - b) for a, b in zip(got.train_loss[1:], losses)) < TOL
    for a, b in zip(res.params[Member("adamw", 0.01, 0.2, 2)], model.parameters(), strict=True):
        assert (a - b.detach()).abs().max().item() < TOL


@pytest.mark.parametrize("schedule", ["constant", "cosine", "step"])
def test_the_registry_factor_is_the_references_lambda(schedule):
    cfg = SweepConfig(preset="moons", epochs=7, batch_size=30, schedule=schedule, warmup_epochs=2, step_period=3,
                      step_gamma=0.3)
    steps = schedules.steps_of(cfg, 200)
    assert (steps.total, steps.warmup, steps.per_epoch) == (49, 14, 7)
    f = lr_lambda(cfg, 200)
    assert [schedules.factor(cfg, t, steps) for t in range(steps.total)] == [f(t) for t in range(steps.total)]
    assert f(0) == 1 / 14 and f(13) == 1.0


def test_adamw_shrink_follows_the_scheduled_lr_and_adam_l2_does_not():
    """One full-batch step at f(0) = 1/2 (2 warmup epochs): from the same initial weights, AdamW's λ changes the
    step by exactly −lr_0·λ·w (lr_0 = lr/2, not lr); Adam+L2's λ enters the gradient, which Adam rescales."""
    lr, wd = 0.01, 0.5
    for opt, follows in (("adamw", True), ("adam", False)):
        cfg = SweepConfig(preset="moons", hidden=(8,), optimizers=(opt,), lrs=(lr,), epochs=4, weight_decays=(0.0, wd),
                          seeds=(0,), schedule="cosine", warmup_epochs=2, dtype="float64")
        stack = Stack(cfg, prepare(cfg), range(2))
        w0 = stack.flat_rows([0])[0].clone()
        assert stack.train_epoch(None, None)
        after = stack.flat_rows([0, 1])
        effect = after[1] - after[0]
        expect = -(lr / 2) * wd * w0
        if follows:
            assert (effect - expect).abs().max().item() < 1e-15
            assert (effect - -lr * wd * w0).abs().max().item() > 1e-4      # not the unscheduled lr
        else:
            assert (effect - expect).abs().max().item() > 1e-4
        # the next step's lr is lr·f(1): both optimizers' groups read it
        assert all(g["lr"] == lr * 1.0 for o in stack.optimizers for g in o.param_groups)


def test_schedule_settings_are_checked():
    with pytest.raises(ConfigError, match="warmup_epochs"):
        SweepConfig(epochs=5, warmup_epochs=5)
    with pytest.raises(ConfigError, match="schedule"):
        SweepConfig(schedule="linear")
    with pytest.raises(ConfigError, match="step_gamma"):
        SweepConfig(schedule="step", step_gamma=0.0)
    with pytest.raises(ConfigError, match="step_period"):
        SweepConfig(schedule="step", step_period=0)
    assert schedules.describe(SweepConfig(schedule="cosine", warmup_epochs=5)) == "cosine after 5 warmup epochs"
    assert not schedules.scheduled(SweepConfig()) and schedules.scheduled(SweepConfig(warmup_epochs=1))


def test_two_workers_train_a_schedule_as_in_process_and_a_member_does_not_depend_on_its_pass_in_float32():
    cfg = SweepConfig(preset="moons", hidden=(16, 8), optimizers=("adamw", "sgd"), lrs=(0.003, 0.01), epochs=4,
                      batch_size=40, weight_decays=(0.0, 1e-2, 0.1), seeds=(0, 1), schedule="cosine",
                      warmup_epochs=1)
    here, there = train([cfg]), train([cfg], backend=Workers(2))
    assert there.status == "done"
    pd.testing.assert_frame_equal(there.frame, here.frame, check_exact=True)
    whole = run_sweep(cfg).frame
    pd.testing.assert_frame_equal(run_sweep(cfg, max_chunk_members=3).frame, whole, check_exact=True)


def test_every_optimizer_under_step_decay_on_two_workers_equals_in_process_and_the_reference():
    from wdlab.registry.optimizers import OPTIMIZERS
    cfg = SweepConfig(preset="moons", hidden=(8,), optimizers=tuple(OPTIMIZERS), lrs=(0.01,), momentum=0.9,
                      epochs=4, batch_size=64, weight_decays=(0.0, 0.2), seeds=(3,), schedule="step", step_period=1,
                      step_gamma=0.5, warmup_epochs=1, dtype="float64")
    here, there = train([cfg]), train([cfg], backend=Workers(2))
    assert there.status == "done"
    pd.testing.assert_frame_equal(there.frame, here.frame, check_exact=True)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))
