"""Trains every (weight_decay, seed) member of a sweep at once, faithful to torch.optim; callbacks; cancel."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch

from . import eager, memory
from .budget import validate
from .config import DEFAULT_LIMITS, Limits, SweepConfig
from .data import DATASETS, Data
from .metrics import FrameBuilder, member_correct, member_losses, member_losses_and_grad
from .models import StackedMLP, build_mlp

# torch.manual_seed sets one process-wide generator: sweeps running in other threads must not interleave
# their seeded init and data draws.
_RNG_LOCK = threading.Lock()
memory.steady()  # peaks as wdlab.budget estimates them, also for sweeps trained in member groups
EpochCallback = Callable[[int, pd.DataFrame], None]
# (epoch, frame_so_far): frame_so_far() builds the DataFrame of every row reported so far, from any thread
ProgressCallback = Callable[[int, Callable[[], pd.DataFrame]], None]


@dataclass
class SweepResult:
    config: SweepConfig
    frame: pd.DataFrame
    status: str                                   # "done" | "cancelled"
    diverged: dict[tuple[float, int], int] = field(default_factory=dict)  # (λ, seed) -> epoch
    seconds: float = 0.0
    epochs_done: int = 0
    # (λ, seed) -> final parameters in nn.Sequential order (weight, bias per layer); only with keep_params=True,
    # and only for members that did not diverge
    params: dict[tuple[float, int], list[torch.Tensor]] = field(default_factory=dict)


def prepare(cfg: SweepConfig, data: Data | None = None):
    """Per-seed initial models and data, drawn exactly as a standalone run under torch.manual_seed(seed)."""
    spec = DATASETS[cfg.preset]
    vf = cfg.val_fraction
    models, datas = [], []
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        shared = data if data is not None else (None if spec.per_seed else spec.make(0, vf))
        for seed in cfg.seeds:
            torch.manual_seed(seed)
            d = shared
            in_dim, out_dim = (d.in_dim, d.out_dim) if d is not None else (spec.in_dim, spec.out_dim)
            models.append(build_mlp(in_dim, cfg.hidden, out_dim, cfg.activation))
            if d is None:
                d = spec.make(seed, vf)  # the course's order: model first, then its data
            datas.append(d)
    return models, datas, shared is not None


def make_optimizer(cfg: SweepConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """torch.optim itself with weight_decay=0: the engine applies each member's λ where torch would."""
    eager.allow()  # constructed and stepped without importing torch._dynamo (wdlab/eager.py)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=cfg.lr)  # AdamW with weight_decay=0 is exactly Adam


def run_sweep(cfg: SweepConfig, *, limits: Limits = DEFAULT_LIMITS, data: Data | None = None,
              on_epoch: EpochCallback | None = None, cancel: threading.Event | None = None,
              keep_params: bool = False, on_progress: ProgressCallback | None = None,
              max_chunk_members: int | None = None, val_block_rows: int | None = None) -> SweepResult:
    """Train all members; call on_epoch(epoch, new_rows) after each epoch (epoch 0 = initial state).

    on_progress(epoch, frame_so_far) is the cheap listener: no DataFrame is built unless frame_so_far() is
    called (a live view asks a few times a second; a DataFrame per epoch cost 30 % of a small sweep's time).

    Member (λ, s) equals a standalone nn.Linear model + torch.optim run built under torch.manual_seed(s),
    seeing batches in the order of torch.randperm(n, generator=torch.Generator().manual_seed(s)) per epoch.
    A member whose loss turns NaN/inf is reported diverged at that epoch and frozen; the others go on.
    keep_params=True also returns every surviving member's final parameters (SweepResult.params).

    Memory knobs (by default those of wdlab.budget.plan for `limits`; each member's numbers stay those of its
    standalone run):
    max_chunk_members trains the members in groups of at most that many, one group after another (on_progress
    then reports the sweep's share done as its epoch, and on_epoch each group's epochs in turn);
    val_block_rows evaluates the validation set (and a minibatch run's initial full pass) in row blocks.
    """
    start = time.perf_counter()
    est = validate(cfg, limits, data)
    if max_chunk_members is None and val_block_rows is None:  # near the memory budget: in pieces (budget.plan)
        max_chunk_members, val_block_rows = est.max_chunk_members, est.val_block_rows
    size = max(1, max_chunk_members) if max_chunk_members else len(cfg.members)
    groups = [cfg.members[i:i + size] for i in range(0, len(cfg.members), size)]
    if len(groups) == 1:
        frame, status, diverged, done, params = _train(cfg, cfg.members, data, on_epoch, cancel, keep_params,
                                                       on_progress, val_block_rows)
        return SweepResult(cfg, frame, status, diverged, time.perf_counter() - start, done, params)
    frames: list[pd.DataFrame] = []
    diverged, params, status, done = {}, {}, "done", 0
    for g, group in enumerate(groups):
        def progress(epoch, frame_so_far, g=g):  # the sweep's share done, in epochs; every group's rows so far
            on_progress((g * cfg.epochs + epoch) // len(groups), lambda: _merge([*frames, frame_so_far()]))
        frame, status, div, group_done, par = _train(cfg, group, data, on_epoch, cancel, keep_params,
                                                     progress if on_progress else None, val_block_rows)
        frames.append(frame)
        diverged.update(div)
        params.update(par)
        done = group_done if status == "cancelled" else max(done, group_done)
        if status == "cancelled":
            break
    return SweepResult(cfg, _merge(frames), status, diverged, time.perf_counter() - start, done, params)


def _merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Member groups' frames as one: epoch by epoch, members in sweep order (the groups are contiguous)."""
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values("epoch", kind="stable", ignore_index=True)


def _train(cfg: SweepConfig, real: list[tuple[float, int]], data, on_epoch, cancel, keep_params, on_progress,
           val_block_rows):
    """Train the members `real` (a slice of cfg.members); (frame, status, diverged, epochs_done, params)."""
    dtype = getattr(torch, cfg.dtype)
    models, datas, shared = prepare(cfg, data)
    task = datas[0].task
    # A lone member trains beside an identical copy whose rows are dropped: for a batch of one, torch's bmm
    # takes another kernel (gemv for a 1-wide output) that rounds differently in float32, and a member's
    # numbers must not depend on how many members share its sweep.
    members = list(real) * 2 if len(real) == 1 else list(real)
    n_real = len(real)
    M, S = len(members), len(cfg.seeds)
    sidx = torch.tensor([cfg.seeds.index(s) for _, s in members])
    didx = torch.zeros(S, dtype=torch.long) if shared else torch.arange(S)

    def stack(name):
        ts = [getattr(d, name) for d in (datas[:1] if shared else datas)]
        t = torch.stack(ts)
        return t.to(dtype) if t.is_floating_point() else t

    X, y, Xv, yv = stack("X_train"), stack("y_train"), stack("X_val"), stack("y_val")
    n_train = X.shape[1]
    net = StackedMLP([models[cfg.seeds.index(s)] for _, s in members], cfg.activation,
                     [w for w, _ in members], cfg.decay_bias, dtype)
    opt = make_optimizer(cfg, [net.flat])
    coupled = cfg.optimizer in ("sgd", "adam")
    if not coupled:  # AdamW: w *= 1 − lr·λ, the factor computed as torch does (in Python floats)
        factors = torch.tensor([1 - cfg.lr * w for w, _ in members], dtype=torch.float64)
        shrink = torch.cat([factors.repeat_interleave(n // M) if dec else torch.ones(n, dtype=torch.float64)
                            for (off, n), dec in zip(net.segments, _decayed(net, cfg))]).to(dtype)
    batch = min(cfg.batch_size or n_train, n_train)
    full = batch >= n_train
    gens = [torch.Generator().manual_seed(s) for s in cfg.seeds]

    def per_member(t):  # [S or 1, ...] seed-indexed -> [M, ...] member-indexed (a view when possible)
        if t.shape[0] == 1:
            return t.expand(M, *t.shape[1:])
        return t[sidx]

    def seeded(t):  # data stacked per seed (or once, when shared) -> [M, ...] per member
        return per_member(t if shared else t[didx])

    X_val_m, y_val_m = seeded(Xv), seeded(yv)
    X_all, y_all = seeded(X), seeded(y)

    builder = FrameBuilder(len(net.shapes), task == "classification")
    active = torch.ones(M, dtype=torch.bool)
    diverged: dict[tuple[float, int], int] = {}
    n_val = Xv.shape[1]

    def evaluate(x, t, keep=True, blocks=True):
        with torch.no_grad():
            n = x.shape[1]
            if not blocks or not val_block_rows or n <= val_block_rows:
                out = net(x, keep)
                return member_losses(out, t, task).double(), (member_correct(out, t) if classify else None)
            # in row blocks: the mean loss from per-block sums (exact to rounding), buffers of one block
            loss, correct = torch.zeros(M, dtype=torch.float64), torch.zeros(M, dtype=torch.long)
            for i in range(0, n, val_block_rows):
                xb, tb = x[:, i:i + val_block_rows], t[:, i:i + val_block_rows]
                out = net(xb, keep and xb.shape[1] == val_block_rows)
                loss += member_losses(out, tb, task).double() * xb.shape[1]
                if classify:
                    correct += member_correct(out, tb)
            return loss / n, (correct if classify else None)

    def emit(epoch, train_loss, train_correct):
        """Report the epoch's rows; return the members that diverged in it (non-finite train or val loss)."""
        val_loss, val_correct = evaluate(X_val_m, y_val_m)
        bad = active & ~(torch.isfinite(train_loss) & torch.isfinite(val_loss))
        newly = set(torch.nonzero(bad).flatten().tolist())
        sq = net.layer_sq_norms()
        rows = {"weight_decay": [], "seed": [], "epoch": [], "train_loss": [], "val_loss": [], "l2_norm": [],
                "diverged": []}
        norm = sq.sum(1).sqrt().tolist()
        layers = sq.sqrt().tolist()
        tl, vl = train_loss.tolist(), val_loss.tolist()
        keep = [m for m in range(n_real) if active[m] or m in newly]
        for k in range(len(net.shapes)):
            rows[f"l2_layer{k + 1}"] = [layers[m][k] for m in keep]
        if task == "classification":
            rows["train_acc"] = (train_correct[keep].double() / n_train).tolist()
            rows["val_acc"] = (val_correct[keep].double() / n_val).tolist()
        for m in keep:
            w, s = members[m]
            rows["weight_decay"].append(w); rows["seed"].append(s); rows["epoch"].append(epoch)
            rows["train_loss"].append(tl[m]); rows["val_loss"].append(vl[m]); rows["l2_norm"].append(norm[m])
            rows["diverged"].append(m in newly)
        builder.add(rows)
        if on_epoch is not None:  # a DataFrame per epoch costs ~0.2 ms: build it only for a listener
            on_epoch(epoch, builder.rows_frame(rows))
        if on_progress is not None:
            on_progress(epoch, builder.frame)
        return newly

    classify = task == "classification"
    loss0, correct0 = evaluate(X_all, y_all, keep=full, blocks=not full)  # full batch: the training buffers
    emit(0, loss0, correct0)

    status, epochs_done = "done", 0
    frozen: list[int] = []
    for epoch in range(1, cfg.epochs + 1):
        loss_sum = torch.zeros(M, dtype=torch.float64)
        correct = torch.zeros(M, dtype=torch.long)
        n_batches = 0
        if full:
            batches = [(X_all, y_all)]
        else:
            perm = torch.stack([torch.randperm(n_train, generator=g) for g in gens])  # [S, n]
            # one gather per epoch; the minibatches are then views
            Xp, yp = per_member(X[didx[:, None], perm]), per_member(y[didx[:, None], perm])
            batches = ((Xp[:, i:i + batch], yp[:, i:i + batch]) for i in range(0, n_train, batch))
        for xb, yb in batches:
            if cancel is not None and cancel.is_set():
                status = "cancelled"
                break
            out = net(xb)
            losses, grad_out = member_losses_and_grad(out, yb, task)
            net.backward(grad_out)                                # overwrites flat.grad
            if frozen:  # keep diverged members at zero: no gradient, so no decay or optimizer step moves them
                net.zero_members(frozen)
            with torch.no_grad():
                if coupled:
                    net.flat.grad.addcmul_(net.flat, net.decay)   # torch: grad = grad.add(param, alpha=λ)
                else:
                    net.flat.mul_(shrink)                         # torch: param.mul_(1 - lr·λ)
            eager.step(opt)
            loss_sum += losses.double()
            if task == "classification":
                correct += member_correct(out, yb)
            n_batches += 1
        if status == "cancelled":
            break
        train_loss = loss_sum / n_batches
        newly = emit(epoch, train_loss, correct)
        epochs_done = epoch
        if newly:
            rows = sorted(newly)
            for m in rows:
                diverged[members[m]] = epoch
            active[rows] = False
            frozen = sorted(frozen + rows)
            state = [v for v in opt.state[net.flat].values() if torch.is_tensor(v) and v.shape == net.flat.shape]
            net.zero_members(rows, *state)
            if not active.any():
                break
    params = {members[m]: net.member_params(m) for m in range(n_real) if active[m]} if keep_params else {}
    return builder.frame(), status, diverged, epochs_done, params


def _decayed(net: StackedMLP, cfg: SweepConfig) -> list[bool]:
    """Per segment of net.flat: does weight_decay apply? (weights always; biases if cfg.decay_bias)."""
    return [k % 2 == 0 or cfg.decay_bias for k in range(len(net.segments))]

