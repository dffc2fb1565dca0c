"""Parameter snapshots: equal to a standalone torch.optim run's parameters at those epochs, bounded in memory."""
import math

import numpy as np
import pytest
import torch

from wdlab.engine import snapshots
from wdlab.engine.budget import count_params
from wdlab.settings.config import Limits, Member, SweepConfig
from wdlab.run.jobs import JobManager
from wdlab.engine.predict import model_data, network, predict
from wdlab.plots.model import plane, weight_layers
from wdlab.reference import reference_run
from wdlab.engine.sweep import run_sweep

TOL = 1e-12


def plan_all(cfg, in_dim, out_dim):
    return snapshots.plan(cfg, in_dim, out_dim, budget_bytes=1e9)


@pytest.mark.parametrize("case", [
    dict(preset="moons", hidden=(8, 6), optimizers=("sgd", "adamw"), lrs=(0.05, 0.1), epochs=30, batch_size=64,
         weight_decays=(0.0, 0.01, 0.3), seeds=(0, 3)),
    dict(preset="tutorial", hidden=(5,), norm="layernorm", decay_bias=False, optimizers=("adam", "rmsprop"),
         lrs=(0.01,), epochs=40, weight_decays=(0.0, 0.1)),
])
def test_snapshots_equal_a_standalone_runs_parameters_at_those_epochs(case):
    cfg = SweepConfig(dtype="float64", **case)
    dims = (2, 2) if cfg.preset == "moons" else (20, 1)
    snaps = plan_all(cfg, *dims)
    assert len(snaps.epochs) == min(snapshots.SNAPSHOT_COUNT, cfg.epochs + 1)
    run_sweep(cfg, snapshots=snaps, max_chunk_members=5)   # member groups one after another: still every one
    assert snaps.taken() == snaps.epochs
    for m in cfg.members:
        ref = reference_run(cfg, m, keep_at=snaps.epochs)["params"]
        for epoch in snaps.epochs:
            got = snaps.params(epoch, m)
            assert [g.shape for g in got] == [tuple(p.shape) for p in ref[epoch]]
            diff = max(np.abs(g - p.numpy()).max() for g, p in zip(got, ref[epoch], strict=True))
            assert diff <= TOL, (m, epoch, diff)


def test_snapshot_names_and_shapes_are_the_plain_networks():
    cfg = SweepConfig(preset="moons", hidden=(7, 5), norm="layernorm")
    snaps = plan_all(cfg, 2, 2)
    model = network(cfg, 2, 2, [np.zeros(s, dtype=np.float32) for s in snaps.shapes])
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == list(zip(snaps.names, snaps.shapes))
    assert snaps.size == count_params(2, cfg.hidden, 2, cfg.norm)


@pytest.mark.parametrize("epochs", [1, 2, 24, 25, 26, 100, 333, 2000])
def test_snapshot_epochs_are_bounded_distinct_and_reach_both_ends(epochs):
    got = snapshots.snapshot_epochs(epochs)
    assert got[0] == 0 and got[-1] == epochs
    assert list(got) == sorted(set(got))
    assert len(got) == min(snapshots.SNAPSHOT_COUNT, epochs + 1)   # as many as allowed, not fewer
    late = [e for e in got if e >= epochs / 2]
    assert len(late) >= len(got) // 4    # the second half of training is not left with a point or two


def test_a_tight_budget_keeps_fewer_epochs_then_only_the_first_seed_then_nothing():
    cfg = SweepConfig(preset="moons", hidden=(64, 64), epochs=500, weight_decays=(0.0, 0.01, 0.1, 1.0),
                      seeds=(0, 1, 2, 3))
    per = count_params(2, cfg.hidden, 2) * 4 + 1                   # bytes per member and epoch
    whole = snapshots.plan(cfg, 2, 2, per * 16 * 25)
    assert len(whole.epochs) == 25 and len(whole.members) == 16 and whole.note == ""
    fewer = snapshots.plan(cfg, 2, 2, per * 16 * 15)
    assert len(fewer.epochs) == 15 and len(fewer.members) == 16 and "15 epochs rather than 25" in fewer.note
    first = snapshots.plan(cfg, 2, 2, per * 16 * 10)     # 10 epochs each: the first seed at 25 rather
    assert {m.seed for m in first.members} == {0} and len(first.members) == 4 and "first seed" in first.note
    assert len(first.epochs) == 25
    fewest = snapshots.plan(cfg, 2, 2, per * 4 * 7)
    assert len(fewest.epochs) == 7 and len(fewest.members) == 4
    assert snapshots.plan(cfg, 2, 2, per * 4 * 5) is None
    for s in (whole, fewer, first, fewest):
        assert s.nbytes() <= per * len(s.members) * len(s.epochs)


def test_a_diverged_member_keeps_its_epochs_before_and_does_not_hold_back_the_others():
    # lr·λ > 2 with coupled SGD: the λ = 50 member diverges within a few epochs
    cfg = SweepConfig(preset="tutorial", hidden=(8,), optimizers=("sgd",), momentum=0.9, lrs=(0.1,), epochs=30,
                      weight_decays=(0.0, 50.0), dtype="float64")
    snaps = plan_all(cfg, 20, 1)
    res = run_sweep(cfg, snapshots=snaps)
    bad = Member("sgd", 0.1, 50.0, 0)
    at = res.diverged[bad]
    assert snaps.diverged_at(bad) == at
    assert snaps.taken() == snaps.epochs                          # the survivor's epochs are all there
    for e in snaps.epochs:
        kept = snaps.params(e, bad)
        assert (kept is None) == (e >= at)
        if kept is not None:
            assert all(np.isfinite(k).all() for k in kept)
    assert snaps.latest(at) == at and snaps.latest(-1) is None


def test_predict_is_the_plain_networks_output():
    cfg = SweepConfig(preset="moons", hidden=(6,), epochs=20, weight_decays=(0.0,), dtype="float64")
    snaps = plan_all(cfg, 2, 2)
    run_sweep(cfg, snapshots=snaps)
    m = cfg.members[0]
    model = reference_run(cfg, m)["model"]
    data = model_data(cfg)
    xs, ys, pts = plane(data.X_train.numpy(), n=9)
    assert pts.shape == (81, 2) and xs[0] < data.X_train[:, 0].min() and ys[-1] > data.X_train[:, 1].max()
    got = predict(cfg, 2, 2, snaps.params(20, m), pts)
    want = model(torch.as_tensor(pts, dtype=torch.float64)).softmax(-1).detach().numpy()
    assert np.abs(got - want).max() <= TOL and np.allclose(got.sum(1), 1)
    layers = weight_layers(snaps.names, snaps.params(20, m))
    assert [(k, w.shape) for k, w in layers] == [("layer 1", (6, 2)), ("layer 2", (2, 6))]


def test_model_data_is_what_the_first_seeds_models_trained_on():
    from wdlab.engine.sweep import prepare
    for cfg in (SweepConfig(preset="tutorial", seeds=(4, 7), epochs=1), SweepConfig(preset="moons", seeds=(2, 3))):
        data, setup = model_data(cfg), prepare(cfg)
        assert torch.equal(data.X_train, setup.X[0]) and torch.equal(data.y_val, setup.yv[0])


def test_a_jobs_snapshots_are_planned_within_its_memory_budget_and_counted_in_its_size():
    limits = Limits(max_sweep_mb=1)
    manager = JobManager(limits, warm=False, reap_every=3600)
    try:
        cfg = SweepConfig(preset="moons", hidden=(32,), epochs=40, weight_decays=(0.0, 0.01, 0.1, 1.0))
        job = manager.submit(cfg)
        assert job.done_event.wait(120)
        snap = job.snapshot()
        assert snap.status == "done" and snap.snapshots is job.snapshots
        assert snap.snapshots.taken() == snap.snapshots.epochs and len(snap.snapshots.members) == 4
        assert snap.snapshots.nbytes() <= snapshots.SHARE * 1_000_000
        assert job.nbytes() >= snap.snapshots.nbytes() + len(snap.frame) * 8
        final = snap.snapshots.params(40, cfg.members[1])
        assert math.isclose(float(np.sqrt(sum((p.astype(np.float64) ** 2).sum() for p in final))),
                            float(snap.frame.query("epoch == 40 and weight_decay == 0.01").l2_norm.iloc[0]),
                            rel_tol=1e-5)
    finally:
        manager.shutdown()


def test_thinner_keeps_the_first_seed_then_half_the_epochs_with_the_same_numbers_then_nothing():
    """The job manager's results bound thins a held result's snapshots step by step (issue 26, item 6)."""
    cfg = SweepConfig(preset="moons", hidden=(8,), epochs=30, weight_decays=(0.0, 0.1), seeds=(0, 1),
                      dtype="float64")
    whole = plan_all(cfg, 2, 2)
    run_sweep(cfg, snapshots=whole)
    steps, s = [], whole
    while s is not None:
        steps.append(s)
        s = s.thinner()
    first, *rest = steps
    assert first is whole and len(steps) >= 4
    seed0 = tuple(m for m in cfg.members if m.seed == 0)
    assert steps[1].members == seed0 and steps[1].taken() == whole.taken()       # first the other seeds go
    assert "only seed 0's models" in steps[1].note and steps[1].nbytes() < whole.nbytes() / 1.9
    for before, after in zip(steps[1:], steps[2:]):                               # then about half the epochs
        assert len(after.taken()) == max(snapshots.THIN_FLOOR, (len(before.taken()) + 1) // 2)
        assert after.taken()[0] == 0 and after.taken()[-1] == cfg.epochs
        assert set(after.taken()) <= set(before.taken()) and after.nbytes() < before.nbytes()
        assert f"{len(after.taken())} of their {len(whole.taken())} epochs" in after.note
    assert steps[-1].taken() == (0, cfg.epochs) and steps[-1].thinner() is None
    assert steps[-1].smallest() and not any(s.smallest() for s in steps[:-1])
    for s in rest:                                                                # the kept numbers are the same
        for e in s.taken():
            for m in s.members:
                assert all(np.array_equal(a, b) for a, b in zip(s.params(e, m), whole.params(e, m)))
        assert s.params(s.taken()[0], cfg.members[-1]) is None                    # seed 1's models are gone


def test_thinner_keeps_where_a_member_diverged():
    cfg = SweepConfig(preset="tutorial", hidden=(8,), optimizers=("sgd",), momentum=0.9, lrs=(0.1,), epochs=30,
                      weight_decays=(0.0, 50.0), dtype="float64")
    snaps = plan_all(cfg, 20, 1)
    run_sweep(cfg, snapshots=snaps)
    bad = Member("sgd", 0.1, 50.0, 0)
    thin = snaps.thinner()
    assert thin.diverged_at(bad) == snaps.diverged_at(bad) and thin.taken()[-1] == cfg.epochs
