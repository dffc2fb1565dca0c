"""The engine against torch.optim member by member, against hand-written math, and its live/stop/diverge behaviour."""
import math
import threading
import time

import pandas as pd
import pytest
import torch
import torch.nn as nn

from wdlab.settings.config import Member, SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.frame.schema import FrameBuilder
from wdlab.engine.models import build_mlp
from wdlab.reference import reference_run
from wdlab.engine.sweep import run_sweep

F64 = dict(dtype="float64")
TOL = 1e-12       # float64: the engine and per-member torch.optim agree to a few ulps


def member(df, wd, seed, optimizer=None, lr=None):
    keep = (df.weight_decay == wd) & (df.seed == seed)
    if optimizer is not None:
        keep &= df.optimizer == optimizer
    if lr is not None:
        keep &= df.lr == lr
    return df[keep].sort_values("epoch").reset_index(drop=True)


def one(cfg, wd, seed):
    """The Member key of a one-optimizer, one-lr sweep."""
    return Member(cfg.optimizer, cfg.lr, wd, seed)


def assert_matches_reference(cfg, result, tol=TOL, data=None):
    """Every member's per-epoch numbers and final parameters equal a standalone nn.Module + torch.optim run."""
    for m in cfg.members:
        ref = reference_run(cfg, m, data=data)
        got = member(result.frame, m.weight_decay, m.seed, m.optimizer, m.lr)
        assert list(got.epoch) == list(range(cfg.epochs + 1))
        for col in ("train_loss", "train_eval_loss", "val_loss", "l2_norm"):
            diff = max(abs(a - b) for a, b in zip(got[col][1:], ref[col]))
            assert diff <= tol, (m, col, diff)
        for p_eng, p_ref in zip(result.params[m], ref["model"].parameters(), strict=True):
            assert p_eng.shape == p_ref.shape
            assert (p_eng - p_ref.detach()).abs().max().item() <= tol, m


@pytest.mark.parametrize("optimizer,momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0), ("adamw", 0.0)])
@pytest.mark.parametrize("decay_bias", [True, False])
@pytest.mark.parametrize("batch_size", [None, 96])
def test_every_member_equals_its_own_torch_optim_run(optimizer, momentum, decay_bias, batch_size):
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh", optimizers=(optimizer,), momentum=momentum,
                      lrs=(0.05 if optimizer == "sgd" else 0.01,), epochs=4, batch_size=batch_size,
                      weight_decays=(0.0, 1e-3, 0.3), seeds=(0, 5), decay_bias=decay_bias, **F64)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


def test_float32_members_stay_within_rounding_of_torch_optim():
    # batched and per-model matmuls round differently in float32: equal to a few ulps on short runs
    cfg = SweepConfig(preset="moons", hidden=(16,), optimizers=("adamw",), lrs=(0.01,), epochs=5, batch_size=32,
                      weight_decays=(0.0, 0.1), seeds=(0, 1))
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True), tol=2e-6)


@pytest.mark.parametrize("preset", ["digits", "diabetes"])
def test_long_minibatch_run_in_float64_stays_equal(preset):
    cfg = SweepConfig(preset=preset, hidden=(16,), optimizers=("adam",), lrs=(0.01,), epochs=30, batch_size=128,
                      weight_decays=(0.0, 1e-2), seeds=(3,), activation="gelu", **F64)
    assert_matches_reference(cfg, run_sweep(cfg, keep_params=True), tol=1e-11)


# ---- an independent reference: the model, backprop and every optimizer written out by hand ----------------

def hand_init(seed, in_dim, hidden, out_dim):
    """nn.Linear's default init drawn by hand: U(±1/√fan_in) for the weight, then the bias, layer by layer."""
    torch.manual_seed(seed)
    layers, width = [], in_dim
    for h in (*hidden, out_dim):
        bound = 1 / math.sqrt(width)
        W = torch.empty(h, width).uniform_(-bound, bound)
        b = torch.empty(h).uniform_(-bound, bound)
        layers.append([W.double(), b.double()])
        width = h
    return layers


def hand_grads(layers, X, y):
    """MSE loss (mean over all entries) and its gradient by explicit backprop through tanh layers."""
    acts, x = [X], X
    for k, (W, b) in enumerate(layers):
        x = x @ W.T + b
        if k < len(layers) - 1:
            x = torch.tanh(x)
        acts.append(x)
    out = acts[-1]
    loss = ((out - y) ** 2).mean().item()
    d = 2 * (out - y) / out.numel()
    grads = [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        W, _ = layers[k]
        grads[k] = [d.T @ acts[k], d.sum(0)]
        if k:
            d = (d @ W) * (1 - acts[k] ** 2)
    return loss, grads


def hand_run(opt, lr, wd, seed, epochs, batch, decay_bias, hidden=(8,), momentum=0.9):
    """The course's data for `seed`, trained with the update rules of torch's docs written out."""
    layers = hand_init(seed, 20, hidden, 1)
    X, y = torch.randn(1000, 20).double(), torch.randn(1000, 1).double()
    state = [[{"m": torch.zeros_like(p), "v": torch.zeros_like(p)} for p in layer] for layer in layers]
    g = torch.Generator().manual_seed(seed)
    t, losses = 0, []
    for _ in range(epochs):
        idx = [torch.arange(1000)] if batch is None else torch.randperm(1000, generator=g).split(batch)
        total = 0.0
        for rows in idx:
            loss, grads = hand_grads(layers, X[rows], y[rows])
            total += loss
            t += 1
            for k, layer in enumerate(layers):
                for j, p in enumerate(layer):
                    lam = wd if (j == 0 or decay_bias) else 0.0
                    gr, st = grads[k][j], state[k][j]
                    if opt == "adamw":
                        p.mul_(1 - lr * lam)
                    else:
                        gr = gr + lam * p
                    if opt == "sgd":
                        st["m"] = gr.clone() if t == 1 else momentum * st["m"] + gr
                        p.sub_(lr * st["m"])
                    else:
                        st["m"] = 0.9 * st["m"] + 0.1 * gr
                        st["v"] = 0.999 * st["v"] + 0.001 * gr * gr
                        m_hat, v_hat = st["m"] / (1 - 0.9 ** t), st["v"] / (1 - 0.999 ** t)
                        p.sub_(lr * m_hat / (v_hat.sqrt() + 1e-8))
        losses.append(total / len(idx))
    return losses, [p for layer in layers for p in layer]


@pytest.mark.parametrize("opt,batch,decay_bias", [("sgd", None, True), ("sgd", 250, False), ("adam", None, True),
                                                  ("adam", 200, True), ("adamw", None, False), ("adamw", 250, True)])
def test_engine_equals_hand_written_math(opt, batch, decay_bias):
    cfg = SweepConfig(preset="tutorial", hidden=(8,), activation="tanh", optimizers=(opt,),
                      momentum=0.9 if opt == "sgd" else 0.0, lrs=(0.02,), epochs=6, batch_size=batch,
                      weight_decays=(0.0, 0.05), seeds=(1, 2), decay_bias=decay_bias, **F64)
    res = run_sweep(cfg, keep_params=True)
    for _, _, wd, seed in cfg.members:
        losses, params = hand_run(opt, 0.02, wd, seed, 6, batch, decay_bias)
        got = member(res.frame, wd, seed).train_loss[1:]
        assert max(abs(a - b) for a, b in zip(got, losses)) < 1e-12
        for p_eng, p_hand in zip(res.params[one(cfg, wd, seed)], params, strict=True):
            assert (p_eng - p_hand).abs().max().item() < 1e-12


# ---- what weight_decay means -------------------------------------------------------------------------------

def penalized_run(optimizer_cls, wd, seed, epochs, **kw):
    """torch.optim with weight_decay=0 on loss + λ/2·Σp² (the course's data and net, float64)."""
    torch.manual_seed(seed)
    model = build_mlp(20, (16,), 1).double()
    X, y = torch.randn(1000, 20).double(), torch.randn(1000, 1).double()
    opt = optimizer_cls(model.parameters(), **kw)
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y) + wd / 2 * sum((p ** 2).sum() for p in model.parameters())
        loss.backward()
        opt.step()
    return list(model.parameters())


def max_param_diff(a, b):
    return max((x.detach() - y.detach()).abs().max().item() for x, y in zip(a, b, strict=True))


def test_sgd_weight_decay_is_l2_on_the_loss_but_adamw_is_not_adam_with_l2():
    wd, seed, epochs = 0.05, 4, 60
    base = dict(preset="tutorial", hidden=(16,), epochs=epochs, weight_decays=(wd,), seeds=(seed,), **F64)
    sgd = run_sweep(SweepConfig(optimizers=("sgd",), lrs=(0.1,), momentum=0.5, **base), keep_params=True).params
    sgd = sgd[Member("sgd", 0.1, wd, seed)]
    both = run_sweep(SweepConfig(optimizers=("adam", "adamw"), lrs=(0.01,), **base), keep_params=True).params
    adam, adamw = both[Member("adam", 0.01, wd, seed)], both[Member("adamw", 0.01, wd, seed)]
    assert max_param_diff(sgd, penalized_run(torch.optim.SGD, wd, seed, epochs, lr=0.1, momentum=0.5)) < 1e-13
    # coupled decay in Adam is also exactly the L2 penalty ...
    assert max_param_diff(adam, penalized_run(torch.optim.Adam, wd, seed, epochs, lr=0.01)) < 1e-13
    # ... while AdamW's decoupled decay trains a different model
    assert max_param_diff(adam, adamw) > 1e-2


@pytest.mark.parametrize("decay_bias", [True, False])
def test_linear_sgd_full_batch_converges_to_closed_form_ridge(decay_bias):
    # torch's coupled decay on the MSE mean: ∇[mean((Xw+b−y)²)] + λ·θ = 0 is the stationary point of
    # mean((Xw+b−y)²) + λ/2·‖θ‖² (θ = w and b, or w only). With A = [X 1]:
    # (2/n)·Aᵀ(Aθ − y) + λ·Dθ = 0  ⇒  θ = (AᵀA + (nλ/2)·D)⁻¹ Aᵀy,  D = diag(1…1, 1 or 0).
    data = DATASETS["highdim-linear"].make(0, None)
    A = torch.cat([data.X_train.double(), torch.ones(len(data.X_train), 1, dtype=torch.float64)], 1)
    y, n = data.y_train.double(), len(A)
    D = torch.eye(A.shape[1], dtype=torch.float64)
    D[-1, -1] = 1.0 if decay_bias else 0.0
    wds = (3.0, 10.0)
    # the loss is quadratic with Hessian H = (2/n)·AᵀA + λD: lr = 1/max eig converges at rate 1 − lr·min eig
    eigs = [torch.linalg.eigvalsh(2 / n * A.T @ A + wd * D) for wd in wds]
    lr = 1 / max(e.max().item() for e in eigs)
    epochs = math.ceil(math.log(1e-13) / math.log(1 - lr * min(e.min().item() for e in eigs)))
    assert epochs <= 6000
    cfg = SweepConfig(preset="highdim-linear", hidden=(), optimizers=("sgd",), lrs=(lr,), epochs=epochs, weight_decays=wds,
                      seeds=(0,), decay_bias=decay_bias, **F64)
    res = run_sweep(cfg, keep_params=True)
    for wd in wds:
        theta = torch.linalg.solve(A.T @ A + n * wd / 2 * D, A.T @ y)
        W, b = res.params[one(cfg, wd, 0)]
        assert (W.T - theta[:-1]).abs().max().item() < 1e-10
        assert abs(b.item() - theta[-1].item()) < 1e-10
        last = member(res.frame, wd, 0).iloc[-1]
        assert abs(last.l2_norm - theta.norm().item()) < 1e-10
    # a larger λ shrinks the solution
    norms = [member(res.frame, wd, 0).l2_norm.iloc[-1] for wd in wds]
    assert norms[0] > norms[1]


# ---- divergence, cancellation, callbacks, determinism -------------------------------------------------------

@pytest.mark.parametrize("batch_size,momentum,bad,seeds,good,dtype", [
    (None, 0.9, 50.0, (0, 1), (0.0, 1e-2), "float64"),
    (100, 0.0, 21.0, (0, 1), (0.0, 1e-2), "float64"),
    (None, 0.9, 50.0, (1,), (1e-2,), "float32"),          # the app's precision; the survivor then trains alone
])
def test_a_diverging_member_is_isolated(batch_size, momentum, bad, seeds, good, dtype):
    # lr·λ > 2: each coupled SGD step multiplies the weights by |1 − lr·λ| > 1 before the loss takes over
    base = dict(preset="tutorial", hidden=(16,), optimizers=("sgd",), momentum=momentum, lrs=(0.1,), epochs=12,
                batch_size=batch_size, seeds=seeds, dtype=dtype)
    with_bad = run_sweep(SweepConfig(weight_decays=(*good, bad), **base), keep_params=True)
    without = run_sweep(SweepConfig(weight_decays=good, **base), keep_params=True)
    assert with_bad.params.keys() == without.params.keys()          # the diverged member has no final weights
    for key, params in without.params.items():
        assert all(torch.equal(a, b) for a, b in zip(with_bad.params[key], params, strict=True))
    others = with_bad.frame[with_bad.frame.weight_decay != bad].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, without.frame, check_exact=True)
    assert with_bad.status == "done" and not without.diverged
    cfg = SweepConfig(weight_decays=(bad,), **base)
    for seed in seeds:
        ref = reference_run(cfg, one(cfg, bad, seed))
        first_bad = 1 + next(i for i, (t, v) in enumerate(zip(ref["train_loss"], ref["val_loss"]))
                             if not (math.isfinite(t) and math.isfinite(v)))
        assert with_bad.diverged[one(cfg, bad, seed)] == first_bad
        rows = member(with_bad.frame, bad, seed)
        assert list(rows.epoch) == list(range(first_bad + 1))          # no rows after the divergence
        assert list(rows.diverged) == [False] * first_bad + [True]
        before = rows.iloc[1:first_bad]
        rel = 1e-9 if dtype == "float64" else 1e-5
        assert max(abs(a - b) for a, b in zip(before.train_loss, ref["train_loss"])) <= rel * max(
            1.0, max(abs(x) for x in before.train_loss))
    assert set(with_bad.diverged) == {one(cfg, bad, s) for s in seeds}


def test_every_member_diverging_ends_the_sweep():
    cfg = SweepConfig(preset="tutorial", hidden=(4,), optimizers=("sgd",), lrs=(0.5,), epochs=200, weight_decays=(20.0,),
                      seeds=(0,))
    res = run_sweep(cfg)
    epoch = res.diverged[one(cfg, 20.0, 0)]
    assert res.epochs_done == epoch < 200 and res.frame.epoch.max() == epoch


def test_listener_receives_each_epochs_new_rows_and_they_make_the_frame():
    seen = []
    cfg = SweepConfig(preset="moons", hidden=(8,), epochs=5, batch_size=64, weight_decays=(0.0, 0.1), seeds=(0, 1))
    res = run_sweep(cfg, on_epoch=lambda e, rows: seen.append((e, rows)))
    assert [e for e, _ in seen] == list(range(6))
    for e, rows in seen:   # plain Python columns: what an out-of-process worker can send as it is
        assert list(rows) == list(res.frame.columns) and set(rows["epoch"]) == {e}
        assert all(isinstance(v, list) and len(v) == 4 for v in rows.values())
    built = pd.concat([pd.DataFrame(r) for _, r in seen], ignore_index=True).astype(res.frame.dtypes.to_dict())
    pd.testing.assert_frame_equal(built, res.frame, check_exact=True)


def test_a_frame_builder_fed_by_the_listener_shows_whole_epochs_to_another_thread():
    cfg = SweepConfig(preset="moons", hidden=(8,), epochs=300, batch_size=64, weight_decays=(0.0, 0.1),
                      seeds=(0, 1))
    box, at_epoch, samples, done = {}, {}, [], threading.Event()

    def on_epoch(epoch, rows):  # what jobs.Job does: collect rows, build frames when someone looks
        if "b" not in box:
            box["b"] = FrameBuilder(list(rows))
        box["b"].add(rows)
        if epoch in (0, 7):
            at_epoch[epoch] = box["b"].frame()

    def reader():  # a live view's thread, reading while the sweep adds rows
        while not done.is_set() and len(samples) < 50:
            if "b" in box:
                try:
                    samples.append(box["b"].frame())
                except Exception as e:  # columns of different lengths: half an epoch seen
                    samples.append(e)
            time.sleep(0.002)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        res = run_sweep(cfg, on_epoch=on_epoch)
    finally:
        done.set()
        thread.join(30)
    for epoch, frame in at_epoch.items():
        pd.testing.assert_frame_equal(frame, res.frame[res.frame.epoch <= epoch], check_exact=True)
    assert len(samples) > 3
    assert not [f for f in samples if isinstance(f, Exception)]
    for frame in samples:  # never half an epoch: every member has every epoch up to the last one seen
        assert len(frame) == 4 * (frame.epoch.max() + 1)
        pd.testing.assert_frame_equal(frame, res.frame.iloc[:len(frame)], check_exact=True)


@pytest.mark.parametrize("k", [0, 3])
def test_cancel_from_the_callback_stops_within_one_epoch(k):
    cancel = threading.Event()

    def on_epoch(epoch, _rows):
        if epoch == k:
            cancel.set()

    cfg = SweepConfig(preset="tutorial", hidden=(8,), epochs=50, batch_size=100, weight_decays=(0.0, 1e-3),
                      seeds=(0,))
    res = run_sweep(cfg, on_epoch=on_epoch, cancel=cancel)
    assert res.status == "cancelled"
    assert k <= res.frame.epoch.max() <= k + 1 and res.epochs_done == res.frame.epoch.max()
    full = run_sweep(cfg.replace(epochs=k + 2)).frame   # what was reported is a prefix of an uncancelled run
    pd.testing.assert_frame_equal(res.frame, full[full.epoch <= res.epochs_done], check_exact=True)


def test_cancel_from_another_thread():
    cancel, reached, go_on = threading.Event(), threading.Event(), threading.Event()
    out = {}

    def on_epoch(epoch, _rows):
        if epoch == 2:
            reached.set()
            go_on.wait(10)

    cfg = SweepConfig(preset="tutorial", hidden=(8,), epochs=500, weight_decays=(0.0,), seeds=(0,))
    worker = threading.Thread(target=lambda: out.setdefault("r", run_sweep(cfg, on_epoch=on_epoch, cancel=cancel)))
    worker.start()
    assert reached.wait(30)
    cancel.set()
    go_on.set()
    worker.join(30)
    assert not worker.is_alive()
    assert out["r"].status == "cancelled" and out["r"].frame.epoch.max() <= 3


def test_runs_are_deterministic_also_in_parallel_threads():
    # the tutorial data is drawn from the global RNG: concurrent sweeps must not interleave their draws
    cfgs = [SweepConfig(preset="tutorial", hidden=(8,), epochs=3, weight_decays=(0.0, 0.1), seeds=(s, s + 7))
            for s in range(4)]
    alone = [run_sweep(c).frame for c in cfgs]
    together = [None] * len(cfgs)
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, run_sweep(cfgs[i]).frame))
               for i in range(len(cfgs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("base", [
    dict(preset="digits", hidden=(16,), epochs=3, batch_size=256, optimizers=("adamw",)),
    dict(preset="tutorial", hidden=(64,), epochs=3, optimizers=("adam",), activation="relu"),
    dict(preset="moons", hidden=(32, 8), epochs=2, batch_size=50, optimizers=("sgd",), momentum=0.9, lrs=(0.1,)),
])
def test_a_members_numbers_do_not_depend_on_its_sweep_mates(base):
    # float32, exact: batched kernels must round a member the same way whoever shares the batch
    big = run_sweep(SweepConfig(weight_decays=(0.0, 1e-3, 1e-1), seeds=(0, 1, 2), **base)).frame
    alone = run_sweep(SweepConfig(weight_decays=(1e-3,), seeds=(1,), **base)).frame
    pd.testing.assert_frame_equal(member(big, 1e-3, 1), member(alone, 1e-3, 1), check_exact=True)


@pytest.mark.parametrize("norm", ["none", "layernorm"])
def test_a_lone_member_trains_alone_and_still_rounds_as_in_any_stack(norm):
    # a stack of one member is one member wide (no twin), equals torch.optim in float64, and in float32 is bit for
    # bit the member of a larger sweep: a 1-wide output layer and a last batch of one row (1,000 rows, batch 111)
    # are the products MKL takes another kernel for in a batch of one
    from wdlab.engine.stack import Stack
    from wdlab.engine.sweep import prepare
    base = dict(preset="tutorial", hidden=(16,), epochs=2, batch_size=111, optimizers=("adam",), norm=norm)
    alone = SweepConfig(weight_decays=(1e-3,), seeds=(1,), **base)
    assert Stack(alone, prepare(alone), range(1)).net.M == 1
    big = run_sweep(SweepConfig(weight_decays=(0.0, 1e-3), seeds=(0, 1), **base)).frame
    pd.testing.assert_frame_equal(member(big, 1e-3, 1), member(run_sweep(alone).frame, 1e-3, 1), check_exact=True)
    for optimizer, momentum in (("sgd", 0.9), ("adamw", 0.0), ("rmsprop", 0.0)):
        cfg = alone.replace(optimizers=(optimizer,), momentum=momentum, **F64)
        assert_matches_reference(cfg, run_sweep(cfg, keep_params=True))


# ---- metrics ------------------------------------------------------------------------------------------------

def test_classification_metrics_and_norms_follow_their_definitions():
    cfg = SweepConfig(preset="spirals", hidden=(16, 8), optimizers=("adam",), lrs=(0.02,), epochs=4, batch_size=60,
                      weight_decays=(0.0, 0.01), seeds=(0, 1), **F64)
    data = DATASETS["spirals"].make(0, None)
    res = run_sweep(cfg, keep_params=True)
    df = res.frame
    assert list(df.columns) == ["optimizer", "lr", "weight_decay", "seed", "epoch", "train_loss", "train_eval_loss",
                                "val_loss", "l2_norm", "train_acc", "train_eval_acc", "val_acc", "l2_weight1",
                                "l2_bias1", "l2_weight2", "l2_bias2", "l2_weight3", "l2_bias3", "max_abs_w",
                                "diverged"]
    assert len(df) == len(cfg.members) * (cfg.epochs + 1) and not df.diverged.any()
    for m in cfg.members:
        ref = reference_run(cfg, m)
        model = ref["model"]
        last = member(df, m.weight_decay, m.seed).iloc[-1]
        with torch.no_grad():
            pred = model(data.X_val.double()).argmax(1)
            train_pred = model(data.X_train.double()).argmax(1)
        assert last.val_acc == (pred == data.y_val).double().mean().item()
        assert last.train_eval_acc == (train_pred == data.y_train).double().mean().item()
        params = list(model.parameters())
        for k in range(3):
            assert abs(last[f"l2_weight{k + 1}"] - params[2 * k].detach().norm().item()) < 1e-12
            assert abs(last[f"l2_bias{k + 1}"] - params[2 * k + 1].detach().norm().item()) < 1e-12
        assert abs(last.l2_norm ** 2 - sum(last[f"l2_{kind}{k}"] ** 2 for k in (1, 2, 3)
                                           for kind in ("weight", "bias"))) < 1e-12
        # train_acc: rows classified correctly by the weights each minibatch was evaluated with, over the epoch
        torch.manual_seed(m.seed)
        net = build_mlp(2, (16, 8), 2).double()
        first = member(df, m.weight_decay, m.seed).iloc[0]
        with torch.no_grad():
            out = net(data.X_train.double())
        assert first.train_acc == first.train_eval_acc == (out.argmax(1) == data.y_train).double().mean().item()
        assert abs(first.train_loss - nn.functional.cross_entropy(out, data.y_train).item()) < 1e-12
        assert first.train_loss == first.train_eval_loss
        assert 0.0 <= last.train_acc <= 1.0


def test_full_batch_train_loss_is_before_the_step_and_train_eval_loss_after_it():
    cfg = SweepConfig(preset="tutorial", hidden=(16,), epochs=6, weight_decays=(0.0, 0.1), seeds=(0, 1), **F64)
    df = run_sweep(cfg).frame
    for _, _, wd, seed in cfg.members:
        rows = member(df, wd, seed)
        # full batch: an epoch's train_loss is the loss of the weights the previous epoch ended with
        assert max(abs(a - b) for a, b in zip(rows.train_loss[1:], rows.train_eval_loss[:-1])) < 1e-14
        assert (rows.train_loss[1:].to_numpy() != rows.train_eval_loss[1:].to_numpy()).all()
