"""Trains every member of a sweep (optimizer × lr × weight_decay × seed) at once, faithful to torch.optim."""
from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch

from wdlab import heap
from wdlab.engine import budget, optim_step
from wdlab.engine.models import build_mlp
from wdlab.engine.snapshots import Snapshots
from wdlab.engine.stack import Stack
from wdlab.frame import schema as metrics
from wdlab.registry.datasets import DATASETS, Data
from wdlab.settings.config import Member, SweepConfig

# torch.manual_seed sets one process-wide generator: sweeps running in other threads must not interleave
# their seeded init and data draws.
_RNG_LOCK = threading.Lock()
heap.steady()  # peaks as wdlab.engine.budget estimates them, also for sweeps trained in chunks
# on_epoch(epoch, rows): rows = {column: [value per member]} of that epoch's new rows, plain Python values
EpochListener = Callable[[int, dict], None]


@dataclass
class SweepResult:
    config: SweepConfig
    frame: pd.DataFrame
    status: str                                   # "done" | "cancelled"
    diverged: dict[Member, int] = field(default_factory=dict)  # member -> the epoch it diverged at
    seconds: float = 0.0
    epochs_done: int = 0
    # member -> final parameters in nn.Sequential order; only with keep_params=True, for members that did not
    # diverge
    params: dict[Member, list[torch.Tensor]] = field(default_factory=dict)
    snapshots: Snapshots | None = None            # what run_sweep(snapshots=) was given, filled in


@dataclass
class Setup:
    """What every stack shares: the per-seed initial models and the data stacked per seed (or once, shared)."""

    models: list            # per seed: nn.Sequential built under torch.manual_seed(seed)
    X: torch.Tensor         # [S or 1, n, in] training inputs
    y: torch.Tensor
    Xv: torch.Tensor
    yv: torch.Tensor
    task: str

    @property
    def n_train(self) -> int:
        return self.X.shape[1]


def prepare(cfg: SweepConfig, data: Data | None = None) -> Setup:
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
            models.append(build_mlp(in_dim, cfg.hidden, out_dim, cfg.activation, cfg.norm))
            if d is None:
                d = spec.make(seed, vf)  # the course's order: model first, then its data
            datas.append(d)
    dtype = getattr(torch, cfg.dtype)
    stacked = [torch.stack([getattr(d, name) for d in (datas[:1] if shared is not None else datas)])
               for name in ("X_train", "y_train", "X_val", "y_val")]
    X, y, Xv, yv = (t.to(dtype) if t.is_floating_point() else t for t in stacked)
    return Setup(models, X, y, Xv, yv, datas[0].task)


def plan_stacks(cfg: SweepConfig, setup: Setup, max_chunk_members: int | None = None,
                members: range | None = None) -> list[range]:
    """Consecutive ranges of `members` (default: all), one per stack: at most max_chunk_members each, and few
    enough members that one layer's activations (members × batch × width) stay within the cache
    (budget.stack_sizes, which the estimate counts too); as equal in size as possible."""
    members = range(len(cfg.members)) if members is None else members
    M = len(members)
    batch = min(cfg.batch_size or setup.n_train, setup.n_train)
    width = max((*cfg.hidden, setup.X.shape[2]))
    sizes = budget.stack_sizes(M, batch, width, setup.X.element_size(), max_chunk_members)
    starts = [members.start + sum(sizes[:i]) for i in range(len(sizes))]
    return [range(a, a + size) for a, size in zip(starts, sizes)]


def run_sweep(cfg: SweepConfig, *, data: Data | None = None, on_epoch: EpochListener | None = None,
              cancel: threading.Event | None = None, keep_params: bool = False,
              max_chunk_members: int | None = None, val_block_rows: int | None = None,
              snapshots: Snapshots | None = None, members: range | None = None, gather: bool = True,
              device: str = "cpu") -> SweepResult:
    """Train every member (or only `members`: consecutive indices of cfg.members, a worker's share); call
    on_epoch(epoch, rows) after each epoch (epoch 0 = the initial weights; trained in chunks, `epoch` is
    the sweep's share done, counted in epochs, and rows are the chunk's).

    Member (optimizer, lr, λ, s) equals a standalone nn.Sequential + torch.optim run built under
    torch.manual_seed(s), seeing batches in the order of torch.randperm(n, generator=Generator().manual_seed(s)).
    Members train in stacks of at most max_chunk_members (fewer if one layer's activations would outgrow the
    cache); the held-out and training sets are evaluated in blocks of at most val_block_rows rows. A member
    whose loss turns NaN/inf is reported diverged at that epoch and frozen; the others go on.
    `snapshots` (wdlab.engine.snapshots.plan) receives the parameters of the members it keeps at the epochs it wants,
    as each epoch ends, before on_epoch hears of it. The caller validates cfg against its limits first (wdlab.engine.budget).
    gather=False: the rows go to on_epoch only (the caller gathers them: wdlab.run.train) and result.frame is None.
    device ("cpu", "cuda", "cuda:1", "mps"): where the members train; models and data are drawn on the CPU as a
    standalone run draws them, then moved, so a member's numbers differ from the CPU's by its kernels only.
    """
    start = time.perf_counter()
    members = range(len(cfg.members)) if members is None else members
    if not members or members.step != 1 or members.start < 0 or members.stop > len(cfg.members):
        raise ValueError(f"members must be a non-empty run of 0..{len(cfg.members) - 1}, got {members}")
    setup = to_device(prepare(cfg, data), device)
    M = len(members)
    size = max(1, max_chunk_members or M)
    builder, result = None, SweepResult(cfg, None, "done", snapshots=snapshots)
    firsts = range(members.start, members.stop, size)
    for g, first in enumerate(firsts):  # chunks one after another: only one chunk's buffers at a time
        listen = on_epoch if on_epoch is None or len(firsts) == 1 else \
            (lambda e, rows, g=g: on_epoch((g * cfg.epochs + e) // len(firsts), rows))  # the share done, in epochs
        # every tensor the engine makes from here on, on the device (a torch function mode: none on the CPU, where
        # its per-call cost would be pure overhead)
        with contextlib.nullcontext() if torch.device(device).type == "cpu" else torch.device(device):
            builder = _train_chunk(cfg, setup, range(first, min(first + size, members.stop)), builder, result,
                                   listen, cancel, keep_params, val_block_rows, gather)
        if result.status == "cancelled":
            break
    result.seconds = time.perf_counter() - start
    if not gather:
        return result
    result.frame = builder.frame()
    if size < M:  # chunks' rows in the engine's order: epoch by epoch, members in sweep order
        result.frame = result.frame.sort_values("epoch", kind="stable", ignore_index=True)
    return result


def _train_chunk(cfg: SweepConfig, setup: Setup, chunk: range, builder, result: SweepResult, on_epoch, cancel,
                 keep_params: bool, val_block_rows: int | None, gather: bool = True):
    """Train the members `chunk` (consecutive indices of cfg.members) in cache-sized stacks, every epoch; add
    their rows to `builder` (made here for the first chunk; none when not `gather`) and their outcome to `result`."""
    members = cfg.members
    stacks = [Stack(cfg, setup, rows) for rows in plan_stacks(cfg, setup, members=chunk)]
    cols = metrics.columns(stacks[0].layer_columns, setup.task == "classification")
    builder = builder or (metrics.FrameBuilder(cols) if gather else None)
    alive = set(chunk)
    gens = [torch.Generator().manual_seed(s) for s in cfg.seeds]
    for epoch in range(cfg.epochs + 1):
        if epoch:  # epoch 0 reports the initial weights
            order = setup_order(cfg, setup, gens)
            if not all(st.train_epoch(order, cancel) for st in stacks):
                result.status = "cancelled"
                break
        local = merge([p.evaluate(epoch, val_block_rows) for p in stacks])
        stats = {c: dict(zip(chunk, v)) for c, v in local.items()}   # member index -> value
        newly = {m for m in alive if not all(math.isfinite(stats[c][m])
                                             for c in ("train_loss", "train_eval_loss", "val_loss"))}
        if result.snapshots is not None:
            keep(result.snapshots, epoch, stacks, members, alive - newly, newly)
        rows = metrics.epoch_rows(epoch, members, stats, sorted(alive), newly, cols)
        if builder is not None:
            builder.add(rows)
        if on_epoch is not None:
            on_epoch(epoch, rows)
        result.epochs_done = epoch if result.status != "cancelled" else result.epochs_done
        for m in newly:
            result.diverged[members[m]] = epoch
        alive -= newly
        for p in stacks:
            p.freeze(newly)
        if not alive:
            break
    if keep_params:
        result.params.update({members[m]: p.member_params(m) for p in stacks for m in p.members if m in alive})
    return builder


def keep(snapshots: Snapshots, epoch: int, stacks: list[Stack], members: list[Member], alive: set[int],
         newly: set[int]) -> None:
    """Hand this epoch's parameters of the kept, still finite members to `snapshots` (if it wants the epoch)."""
    for m in newly:
        snapshots.diverged(members[m], epoch)
    if not snapshots.wants(epoch):
        return
    for p in stacks:
        kept = [m for m in p.members if m in alive and snapshots.keeps(members[m])]
        if kept:
            snapshots.put(epoch, [members[m] for m in kept], p.flat_rows(kept))


def setup_order(cfg: SweepConfig, setup: Setup, gens: list[torch.Generator]) -> torch.Tensor | None:
    """This epoch's row order per seed ([S, n], drawn as a plain loop draws it), or None for a full batch."""
    if cfg.batch_size is None or cfg.batch_size >= setup.n_train:
        return None
    order = torch.stack([torch.randperm(setup.n_train, generator=g, device="cpu") for g in gens])   # CPU draws
    return order.to(setup.X.device)


def device_problem(device: str, dtype: str = "float32") -> str | None:
    """Why the members cannot train on `device` here (one line), or None."""
    kind = torch.device(device).type
    if kind == "cuda":
        if not torch.cuda.is_available():
            why = "torch was built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            return f"--device {device}: this machine has no CUDA device torch can use ({why}); use --device cpu"
        index = torch.device(device).index
        if index is not None and index >= torch.cuda.device_count():
            return f"--device {device}: there are {torch.cuda.device_count()} CUDA devices (cuda:0 …)"
    if kind == "mps":
        if not torch.backends.mps.is_available():
            return f"--device mps: this machine has no Apple GPU torch can use (MPS); use --device cpu"
        if dtype == "float64":
            return "--device mps does not compute in float64; use --dtype float32 or --device cpu"
    return None


def to_device(setup: Setup, device: str) -> Setup:
    """The setup's models and data on `device` (the same values: drawn on the CPU)."""
    if torch.device(device).type == "cpu":
        return setup
    return Setup([m.to(device) for m in setup.models], *(t.to(device) for t in (setup.X, setup.y, setup.Xv,
                                                                                 setup.yv)), setup.task)


def merge(parts: list[dict[str, list]]) -> dict[str, list]:
    """Per-stack stats (column -> values of its members, in member order) joined in member order."""
    return {c: [v for part in parts for v in part[c]] for c in parts[0]}


def warm_up() -> None:
    """Import torch and torch.optim once, before any worker needs them (wdlab/engine/optim_step.py: no torch._dynamo)."""
    optim_step.allow()


def set_threads(n: int) -> None:
    """torch's intra-op threads for this process (before the first torch op of the workers)."""
    torch.set_num_threads(n)
