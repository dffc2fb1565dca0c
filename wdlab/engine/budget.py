"""What a sweep may ask for: its size checked against the limits before any training. Imports no torch."""
from __future__ import annotations

import math
from dataclasses import dataclass

from wdlab.errors import ConfigError
from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.datasets import DATASETS, Data
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import DEFAULT_LIMITS, Limits, SweepConfig


def count_params(in_dim: int, hidden: tuple[int, ...], out_dim: int, norm: str = "none") -> int:
    """Parameters of the MLP in_dim → hidden… → out_dim (weights and biases, and the normalization's, e.g.
    LayerNorm's gain and bias)."""
    dims = (in_dim, *hidden, out_dim)
    return sum((a + 1) * b for a, b in zip(dims, dims[1:])) + NORMS[norm].count(tuple(hidden))


def validate(cfg: SweepConfig, limits: Limits = DEFAULT_LIMITS, data: Data | None = None) -> "Estimate":
    """Raise ConfigError if cfg (on its dataset, or on `data`) asks for more than `limits` allow: its size, then
    its estimated peak memory and time. Returns the estimate, with the memory knobs to train it by (plan)."""
    shape = shape_of(cfg, data)
    check_limits(cfg, limits, shape.n_train, count_params(shape.in_dim, cfg.hidden, shape.out_dim, cfg.norm))
    est = plan(cfg, limits, shape)
    if est.bytes > limits.max_sweep_mb * MB and limits.machine:
        raise ConfigError(f"too large for this machine: about {_mb(est.bytes)} of memory at its peak even trained "
                          f"{est.max_chunk_members or len(cfg.members)} members at a time with all their rows, and "
                          f"{limits.max_sweep_mb:.0f} MB are available to it; use fewer hidden units, members, epochs "
                          "or rows, or a smaller batch", "hidden")
    if est.bytes > limits.max_sweep_mb * MB:
        raise ConfigError(f"too large: about {_mb(est.bytes)} of memory at its peak even trained a few members at a "
                          f"time (at most {limits.max_sweep_mb:g} MB per sweep on this server); use fewer hidden "
                          "units, members or rows, or a smaller batch", "hidden")
    if est.seconds > limits.max_seconds:
        raise ConfigError(f"too long: about {est.seconds:.0f} s of training (at most {limits.max_seconds:g} s per "
                          "sweep on this server); use fewer epochs, members or hidden units, or a larger batch",
                          "epochs")
    return est


def check_limits(cfg: SweepConfig, limits: Limits, n_train: int, n_params: int) -> None:
    """Raise ConfigError when cfg asks for more than `limits` allow (n_train/n_params of its dataset)."""
    bad = []
    if len(cfg.weight_decays) > limits.max_wd_values:
        bad.append(("weight_decays", f"{len(cfg.weight_decays)} weight_decay values (at most {limits.max_wd_values})"))
    if len(cfg.lrs) > limits.max_lr_values:
        bad.append(("lrs", f"{len(cfg.lrs)} learning rates (at most {limits.max_lr_values})"))
    if len(cfg.seeds) > limits.max_seeds:
        bad.append(("seeds", f"{len(cfg.seeds)} seeds (at most {limits.max_seeds})"))
    members = len(cfg.members)
    if members > limits.max_members:
        bad.append(("weight_decays", f"{members} members = optimizers × lrs × weight_decays × seeds "
                                     f"(at most {limits.max_members})"))
    if cfg.epochs > limits.max_epochs:
        bad.append(("epochs", f"{cfg.epochs} epochs (at most {limits.max_epochs})"))
    if len(cfg.hidden) > limits.max_layers:
        bad.append(("hidden", f"{len(cfg.hidden)} hidden layers (at most {limits.max_layers})"))
    if cfg.hidden and max(cfg.hidden) > limits.max_width:
        bad.append(("hidden", f"width {max(cfg.hidden)} (at most {limits.max_width})"))
    batch = min(cfg.batch_size or n_train, n_train)
    steps = cfg.epochs * math.ceil(n_train / batch)
    if steps > limits.max_steps:
        bad.append(("epochs", f"{steps} optimizer steps = epochs × batches per epoch (at most {limits.max_steps}); "
                              "use fewer epochs or a larger batch"))
    work = 6.0 * n_params * n_train * cfg.epochs * members
    if not bad and work > limits.max_work:
        bad.append(("epochs", f"about {work:.2g} multiply-adds (at most {limits.max_work:.2g}); "
                              "use fewer epochs, members or hidden units"))
    if bad:
        raise ConfigError("too large: " + "; ".join(b for _, b in bad), bad[0][0])


# -- peak memory and time of a sweep, before it runs ---------------------------------------------------------------
MB = 1_000_000
FRAME_BYTES = 40      # per float of the per-epoch rows: a Python float in a list (32 B) and its numpy column (8 B)
PAGE_SECONDS = 0.8e-9  # CPU seconds per byte of fresh memory (the kernel's page faults; measured: 3.4 s for 4 GB)
SLACK = 500_000       # what any sweep allocates besides its tensors (optimizer, generators, Python objects)
ROTATION_FLUSH = 64   # steps whose Gram matrices wdlab.engine.rotation keeps before taking their angles
MIN_BLOCK = 256       # validation blocks are never smaller than this many rows (more blocks = more overhead)
CACHE_BYTES = 8 * 2**20   # one layer's activations of one stack stay within this (measured: docs/SPEED.md)


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know of a sweep's data."""

    n_train: int
    n_val: int
    in_dim: int
    out_dim: int
    task: str
    per_seed: bool        # each seed draws its own data (the course's tutorial)
    made_bytes: int       # data the sweep generates itself (presets); an uploaded table is its caller's


def shape_of(cfg: SweepConfig, data: "Data | Shape | None" = None) -> Shape:
    if isinstance(data, Shape):
        return data
    if data is not None:
        return Shape(len(data.X_train), len(data.X_val), data.in_dim, data.out_dim, data.task, False, 0)
    spec = DATASETS[cfg.preset]
    n, nv = spec.sizes(cfg.val_fraction)
    ycols = spec.out_dim if spec.task == "regression" else 2  # int64 labels: two float32s' worth
    made = (n + nv) * (spec.in_dim + ycols) * 4 * (len(cfg.seeds) if spec.per_seed else 1)
    return Shape(n, nv, spec.in_dim, spec.out_dim, spec.task, spec.per_seed, made)


@dataclass(frozen=True)
class Estimate:
    """A sweep's peak memory (bytes above the process it runs in) and time (seconds on one core of this machine),
    with the memory knobs the engine is to use (run_sweep's max_chunk_members, val_block_rows)."""

    bytes: int
    seconds: float
    max_chunk_members: int | None = None
    val_block_rows: int | None = None

    @property
    def mb(self) -> float:
        return self.bytes / MB

    def knobs(self) -> dict:
        """run_sweep's memory keywords for this estimate (none when the sweep trains whole)."""
        return {k: v for k, v in (("max_chunk_members", self.max_chunk_members),
                                  ("val_block_rows", self.val_block_rows)) if v}

    def describe(self) -> str:
        t = f"about {self.seconds:.0f} s" if self.seconds >= 0.5 else "under a second"  # never "about under"
        return f"about {_mb(self.bytes)}, {t}"


def _mb(b: float) -> str:
    return f"{b / MB:.0f} MB" if b >= 2 * MB else f"{b / MB:.1f} MB"


def stack_sizes(members: int, batch: int, width: int, itemsize: int, most: int | None = None) -> list[int]:
    """How many members each stack holds when `members` train in stacks (wdlab.engine.sweep.plan_stacks: one
    stack after another): at most `most`, and few enough that one layer's activations (members × batch × width
    × itemsize) stay within CACHE_BYTES; as equal in size as possible."""
    limit = max(1, min(members, most or members, CACHE_BYTES // max(1, batch * width * itemsize)))
    n = -(-members // limit)
    bounds = [round(i * members / n) for i in range(n + 1)]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def stacks_of(cfg: SweepConfig, shape: Shape, chunk: int | None = None) -> list[list[int]]:
    """Per chunk of at most `chunk` members (run_sweep's max_chunk_members), its stacks' sizes."""
    members = len(cfg.members)
    size = min(chunk or members, members)
    batch = min(cfg.batch_size or shape.n_train, shape.n_train)
    width = max((*cfg.hidden, shape.in_dim))
    e = 8 if cfg.dtype == "float64" else 4
    return [stack_sizes(min(size, members - first), batch, width, e) for first in range(0, members, size)]


def peak_bytes(cfg: SweepConfig, shape: Shape, chunk: int | None = None, block: int | None = None) -> int:
    """Peak bytes a run of cfg allocates (run_sweep with max_chunk_members=chunk, val_block_rows=block): the
    largest of its construction, its initial full pass and a training step, each counting what is alive then."""
    e = 8 if cfg.dtype == "float64" else 4
    members = len(cfg.members)
    G = max(sum(sizes) for sizes in stacks_of(cfg, shape, chunk))   # the largest chunk's members
    S = len(cfg.seeds)
    n, nv, d, out = shape.n_train, shape.n_val, shape.in_dim, shape.out_dim
    dims = (d, *cfg.hidden, out)
    P = count_params(d, cfg.hidden, out, cfg.norm)
    classify = shape.task == "classification"
    ycols = 8 / e if classify else out               # int64 labels stay int64
    # pre-activations of every layer, activations of hidden ones; a normalization's output, x̂ and its backward's
    # gradient at z (allocated by torch's kernel), and two per-row numbers (LayerNorm's mean and 1/std)
    normed = not NORMS[cfg.norm].identity
    width = 2 * sum(cfg.hidden) + out + (3 * sum(cfg.hidden) + 2 * len(cfg.hidden) if normed else 0)

    def work(b, trained=True):                       # buffers kept per batch size: [G, b, width]
        # a size only evaluated (never a step's) gets no normalization buffers (StackedNet.forward), only 2 numbers
        # per row and layer while it runs
        return G * b * (width if trained or not normed else width - 3 * sum(cfg.hidden)) * e

    def temps(b, train):                             # loss, gradient, accuracy and activation-backward scratch
        t = G * b * ((2 * out * e + 16) if classify else 2 * out * e)
        if train and ACTIVATIONS[cfg.activation].scratch and cfg.hidden:
            t += G * b * max(cfg.hidden) * e
        return t

    # a grid mixes optimizers in one stacked sweep: count the costliest one's state for every member (each
    # optimizer's own: its state tensors and its step's scratch, e.g. Adam's exp_avg, exp_avg_sq and denominator)
    specs = [OPTIMIZERS[o] for o in cfg.optimizers]
    decoupled = any(not s.coupled for s in specs)
    gw = sum(G * i * o * e for i, o in zip(dims, dims[1:]) if o > i)
    state = max(s.state_tensors(cfg) + s.scratch for s in specs) * G * P * e
    params = G * P * e * (3 + decoupled) + gw                         # flat, grad, decay (, decoupled shrink)
    params += rotation_bytes(cfg, G, d, e)
    build = G * P * max(32 if e == 4 else 36, 3 * e + 16 + e if decoupled else 0)
    rows_y = lambda rows: rows * (d + ycols) * e  # noqa: E731
    # the hand-written path trains on a copy of the inputs with a ones column (stack.Stack._inputs)
    ones = 1 if NORMS[cfg.norm].identity or NORMS[cfg.norm].forward is not None else 0
    rows_1 = lambda rows: rows * (d + ones + ycols) * e  # noqa: E731
    stacked = (rows_y(n + nv) + ones * (n + nv) * (d + 1) * e) * (S if shape.per_seed else 1)
    seeded = 0 if not shape.per_seed else rows_1(n + nv) * (G if S > 1 else 1)
    full = (cfg.batch_size or n) >= n
    B = min(cfg.batch_size or n, n)
    # a minibatch epoch gathers its rows in a new order: per seed [S, n], then per member [G, n] when seeds differ,
    # while the last epoch's copy is still alive
    old = 1 if cfg.epochs > 1 else 0
    epoch_copy = 0 if full else rows_1(n) * (((1 + old) * G + S) if S > 1 else 1 + old) + S * n * 8
    # λ, seed, epoch, diverged: a pointer to a shared object and a numpy value; the losses and norms: a float each
    n_floats = 3 + (len(cfg.hidden) + 1) + (2 if classify else 0) + law_columns(cfg)
    frames = (4 * 16 + n_floats * FRAME_BYTES) * members * (cfg.epochs + 1)
    base = SLACK + shape.made_bytes + stacked + seeded + frames
    vb = min(nv, block) if block else nv
    last = n % B if not full else 0
    stepped = {B} | ({last} if last else set())      # the sizes a training step runs
    if full:
        init = work(n) + temps(n, False)
    else:
        ib = min(n, block) if block else n
        init = work(ib, ib in stepped) + temps(ib, False)
    sizes = stepped | {vb}                           # buffers are kept per batch size: equal sizes share them
    segment = G * max(i * o for i, o in zip(dims, dims[1:]))
    norms = max(segment * (8 if e == 8 else 16), G * P * e)   # each epoch's ‖w‖ (a layer's .double().pow(2)), |w|
    train = sum(work(b, b in stepped) for b in sizes) + max(temps(max(B, vb), True), norms) + epoch_copy
    construct = build
    steady = params + state
    peak = base + max(construct, steady + (init if not full else 0), steady + train + (init if full else 0) - (
        work(n) if full else 0))
    return int(peak)


# CPU seconds per unit of work on one core of this machine, float32 / float64: a kernel launch, a multiply-add
# in a batched matrix product, an elementwise pass, an optimizer update of one parameter, a member's epoch of
# reporting (norms, losses, rows), a stack's epoch, a classifier's loss per row and class, the Python around an
# (optimizer, lr) group's step (the loop, the optimizer's own code, the rotation's bookkeeping). Fitted by
# `benchmarks/budget_check.py --fit` on the demo's recorded links (of the costs within 1.03× of the smallest
# worst factor, those nearest the earlier micro-benchmarked ones: docs/BUDGET.md); each activation's own cost
# lives on its registry entry (ActivationSpec.cost).
COST = {
    "op": 6.11e-6,
    "mac": {"float32": 2.04e-11, "float64": 2.26e-11},
    "elem": {"float32": 6.09e-10, "float64": 1.35e-9},
    "opt": {"float32": 5e-9, "float64": 1e-8},
    "row": 5.22e-5,
    "epoch": 2e-4,
    "loss": 1.87e-8,
    "step": 1.2e-4,
}


def hidden_params(cfg: SweepConfig, in_dim: int) -> int:
    """Parameters of the hidden layers (their Linears and normalizations): what rot{k} copies every step."""
    dims = (in_dim, *cfg.hidden)
    return sum((a + 1) * b for a, b in zip(dims, dims[1:])) + NORMS[cfg.norm].count(tuple(cfg.hidden))


def rotation_bytes(cfg: SweepConfig, G: int, in_dim: int, e: int) -> int:
    """wdlab.engine.rotation's buffers: the hidden layers' parameters before a step and the step itself, and
    ROTATION_FLUSH steps' 2×2 Gram matrices per member and parameter (with their float64 copy when taken)."""
    L = len(cfg.hidden) if not NORMS[cfg.norm].identity else 0      # measured on normalized layers only
    return 2 * G * hidden_params(cfg, in_dim) * e + ROTATION_FLUSH * 2 * L * G * 4 * (e + 8) if L else 0


def law_columns(cfg: SweepConfig) -> int:
    """The frame's columns for the laws: max_abs_w, and with a normalization rot1…rotL and eff_lr1…eff_lrL."""
    return 1 + (0 if NORMS[cfg.norm].identity else 2 * len(cfg.hidden))


def activation_cost(activation: str, dtype: str) -> float:
    """CPU seconds per element through `activation` beyond a plain pass; one not measured is priced as tanh."""
    cost = ACTIVATIONS[activation].cost or ACTIVATIONS["tanh"].cost
    return cost[dtype]


def work_units(cfg: SweepConfig, shape: Shape, chunk: int | None = None, block: int | None = None) -> dict:
    """The sweep's work counted in COST's units (what seconds() multiplies)."""
    members = len(cfg.members)
    sizes = [s for chunk_sizes in stacks_of(cfg, shape, chunk) for s in chunk_sizes]
    stacks = len(sizes)
    slots = sum(sizes)                                # every stack's members
    n, nv = shape.n_train, shape.n_val
    dims = (shape.in_dim, *cfg.hidden, shape.out_dim)
    layers = list(zip(dims, dims[1:]))
    B = min(cfg.batch_size or n, n)
    steps = cfg.epochs * -(-n // B)
    rows_seen = cfg.epochs * n                                       # training rows per member
    rows_eval = cfg.epochs * nv + n                                  # validation each epoch, the initial pass
    fwd = sum(i * o for i, o in layers)
    bwd = sum(i * o for i, o in layers) + sum(i * o for i, o in layers[1:])
    hid = sum(cfg.hidden)
    # evaluated in blocks, both the held-out and the training rows go block by block (Stack.evaluate)
    blocks = cfg.epochs * ((-(-nv // block) + -(-n // block)) if block else 1)
    # a normalization (LayerNorm's kernels in wdlab/registry/norms.py): per hidden unit and row 5 elementwise
    # passes forward (mean, centre, norm, scale, gain and shift) and 6 backward, 7 + 5 launches per layer; an
    # evaluation's 5 passes run over one buffer (NormSpec.infer), 20-33 % faster: counted as 4
    norm = 0 if NORMS[cfg.norm].identity else 1
    L = len(cfg.hidden) * norm      # the rotation (wdlab/engine/rotation.py): normalized layers only
    # + the rotation: a copy and a difference of the hidden layers' parameters, a Gram product per parameter;
    # per epoch its angles, each layer's norms for eff_lr and max|w|
    # one optimizer step per kind, one param group per lr: each group its own launches (stack.Stack._optimizers)
    ops_step = 6 + (9 + 12 * norm) * len(layers) + sum(OPTIMIZERS[o].launches for o in cfg.optimizers) * len(
        cfg.lrs) + (2 + 2 * L if L else 0)
    ops_epoch = 12 + ((6 + 7 * norm) * len(layers) + (5 if block else 0)) * (blocks / cfg.epochs) + 6 * len(
        layers) + 12
    P = count_params(shape.in_dim, cfg.hidden, shape.out_dim, cfg.norm)
    return {
        "op": stacks * (steps * ops_step + cfg.epochs * ops_epoch),
        "mac": slots * (rows_seen * (fwd + bwd) + rows_eval * fwd),
        "act": slots * (rows_seen * 2 * hid + rows_eval * hid),
        "elem": slots * ((rows_seen * 4 + rows_eval * 2) * (hid + shape.out_dim)
                              + norm * (rows_seen * 11 + rows_eval * 4) * hid
                              + (0 if B >= n else cfg.epochs * n * (shape.in_dim + 1))
                              + cfg.epochs * 3 * P                    # each epoch's norms: passes over the weights
                              + (steps * 4 * hidden_params(cfg, shape.in_dim) if L else 0)),   # the rotation's
        "opt": slots * P * steps,
        "step": stacks * steps * len(cfg.optimizers) * len(cfg.lrs),   # Python's part of a group's step
        # a classifier's loss: softmax cross-entropy and its gradient over every class of every row
        "loss": slots * (rows_seen + rows_eval) * shape.out_dim if shape.task == "classification" else 0,
        "row": members * (cfg.epochs + 1),
        "epoch": stacks * (cfg.epochs + 1),
    }


def seconds(cfg: SweepConfig, shape: Shape, chunk: int | None = None, block: int | None = None) -> float:
    """Estimated CPU seconds of the sweep on one core (its wall time when it has a core to itself)."""
    u = work_units(cfg, shape, chunk, block)
    dt = cfg.dtype
    return (u["op"] * COST["op"] + u["mac"] * COST["mac"][dt] + u["act"] * activation_cost(cfg.activation, dt)
            + u["elem"] * COST["elem"][dt] + u["opt"] * COST["opt"][dt] + u["row"] * COST["row"]
            + u["epoch"] * COST["epoch"] + u["loss"] * COST["loss"] + u["step"] * COST["step"]
            + peak_bytes(cfg, shape, chunk, block) * PAGE_SECONDS)


NEAR = 0.75  # a sweep estimated above this share of the per-sweep memory budget is trained in chunks


def plan(cfg: SweepConfig, limits: Limits = DEFAULT_LIMITS, data: "Data | Shape | None" = None) -> Estimate:
    """How cfg is to be trained within limits.max_sweep_mb: in one chunk if its estimate stays under NEAR of it,
    else with validation blocks and chunks (see estimate)."""
    return estimate(cfg, data, budget_bytes=NEAR * limits.max_sweep_mb * MB)


# What the server holds besides sweeps, measured with benchmarks/load.py: Python, torch, pandas, plotly and
# Streamlit after the first page (BASELINE_MB); a visitor's session (its page state, figures, an upload's bytes
# in Streamlit's file manager and the parsed table, SESSION_MB + its table's float32 cells).
BASELINE_MB = 420
SESSION_MB = 6


def memory_plan(limits: Limits) -> dict[str, float]:
    """The server's worst case in MB, part by part: every concurrent sweep at its budget, the result cache full,
    max_sessions visitors each holding the largest table allowed. Its total must stay within max_memory_mb."""
    parts = {"server baseline": BASELINE_MB,
             "sweeps training at once": limits.max_concurrent_jobs * limits.max_sweep_mb,
             "finished results kept or shown": limits.max_result_mb,   # run.jobs: every one alive, together
             "visitors' sessions and tables": limits.max_sessions * (
                 SESSION_MB + (2 * limits.max_upload_bytes + 4 * limits.max_table_cells) / MB)}
    parts["total"] = sum(parts.values())
    return parts


def estimate(cfg: SweepConfig, data: "Data | Shape | None" = None, budget_bytes: float | None = None) -> Estimate:
    """Peak memory and time of cfg, trained in one chunk if that fits `budget_bytes`, else with validation
    blocks and then ever smaller chunks (the smallest memory that stays within budget, else the smallest
    there is)."""
    shape = shape_of(cfg, data)
    plans = [(None, None)]
    members = len(cfg.members)
    if budget_bytes is not None:
        block = MIN_BLOCK
        g = members
        while True:  # halving the groups down to one member
            plans.append((g if g < members else None, block))
            if g <= 1:
                break
            g = max(1, g // 2)
    best = None
    for chunk, block in plans:
        b = peak_bytes(cfg, shape, chunk, block if block and block < max(shape.n_val, shape.n_train) else None)
        est = Estimate(b, seconds(cfg, shape, chunk, block), chunk, block)
        if budget_bytes is None or b <= budget_bytes:
            return est
        if best is None or b < best.bytes:
            best = est
    return best
