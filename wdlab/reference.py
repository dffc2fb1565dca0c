"""The plain way: one nn.Module and one torch.optim optimizer per member, as the course's code trains.

The yardstick the engine is tested and benchmarked against; it shares nothing with the engine but the
dataset registry, the activation and normalization registries' modules and the optimizer registry's `reference`
builder (torch.optim with weight_decay=λ, as a plain loop builds it). Its model is written out here (plain_model)
rather than taken from wdlab.engine.models, which the engine builds its members from: a change there must show up
as a difference.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.datasets import DATASETS, Data
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import Member, SweepConfig


def plain_model(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str, norm: str) -> nn.Sequential:
    """Linear → [normalization →] activation per hidden width, then the output Linear, built in that order."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if NORMS[norm].module is not None:
            layers.append(NORMS[norm].module(h))
        layers.append(ACTIVATIONS[activation].module())
        width = h
    return nn.Sequential(*layers, nn.Linear(width, out_dim))


def make_reference_optimizer(cfg: SweepConfig, model: nn.Module, member: Member) -> torch.optim.Optimizer:
    if cfg.decay_bias:
        groups = [{"params": list(model.parameters())}]
    else:  # nanoGPT's groups: only ≥ 2-D weights decay, biases and LayerNorm gains/biases don't
        groups = [{"params": [p for p in model.parameters() if p.dim() >= 2]},
                  {"params": [p for p in model.parameters() if p.dim() < 2], "weight_decay": 0.0}]
    return OPTIMIZERS[member.optimizer].reference(groups, member.lr, member.weight_decay, cfg)


def lr_lambda(cfg: SweepConfig, n_train: int):
    """f(t) for LambdaLR, written out here (not the schedule registry's): t the 0-based step, T the total steps,
    W the warmup steps; warmup (t+1)/W, then constant 1, cosine ½(1 + cos(π(t − W)/(T − W))), or step decay
    γ^⌊epoch/period⌋ with epochs counted from the start."""
    batch = min(cfg.batch_size or n_train, n_train)
    per_epoch = math.ceil(n_train / batch)
    T, W = cfg.epochs * per_epoch, cfg.warmup_epochs * per_epoch

    def f(t: int) -> float:
        if t < W:
            return (t + 1) / W
        if cfg.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W)))
        if cfg.schedule == "step":
            return cfg.step_gamma ** ((t // per_epoch) // cfg.step_period)
        assert cfg.schedule == "constant", cfg.schedule
        return 1.0
    return f


def setup(cfg: SweepConfig, member: Member, data: Data | None = None) -> tuple:
    """One member's model (seeded by the member), its data in the config's dtype, loss and torch.optim optimizer:
    (model, X, y, Xv, yv, criterion, optimizer)."""
    spec = DATASETS[cfg.preset]
    dtype = getattr(torch, cfg.dtype)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(member.seed)
        if data is None and not spec.per_seed:
            data = spec.make(0, cfg.val_fraction)
        in_dim, out_dim = (data.in_dim, data.out_dim) if data is not None else (spec.in_dim, spec.out_dim)
        model = plain_model(in_dim, cfg.hidden, out_dim, cfg.activation, cfg.norm).to(dtype)
        if data is None:
            data = spec.make(member.seed, cfg.val_fraction)
    cast = (lambda t: t.to(dtype) if t.is_floating_point() else t)
    X, y, Xv, yv = (cast(t) for t in (data.X_train, data.y_train, data.X_val, data.y_val))
    criterion = nn.MSELoss() if data.task == "regression" else nn.CrossEntropyLoss()
    return model, X, y, Xv, yv, criterion, make_reference_optimizer(cfg, model, member)


def reference_run(cfg: SweepConfig, member: Member, data: Data | None = None, epochs: int | None = None,
                  keep_at: tuple[int, ...] = ()) -> dict:
    """Train one member the plain way (its lr scheduled by LambdaLR, stepped after every step). Returns per-epoch
    lists (train_loss, train_eval_loss, val_loss, l2_norm, and the laws' measures: rot1…rotL, max_abs_w,
    eff_lr1…eff_lrL with a normalization, eff_lr with the lr of the epoch's last step),
    the model, and under "params" {epoch: copies of model.parameters()} for each epoch in keep_at (0 = initial)."""
    model, X, y, Xv, yv, criterion, optimizer = setup(cfg, member, data)
    n = len(X)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, n))
    batch = min(cfg.batch_size or n, n)
    g = torch.Generator().manual_seed(member.seed)
    history = {"train_loss": [], "train_eval_loss": [], "val_loss": [], "l2_norm": [], "params": {}}
    hidden = [m for m in model if isinstance(m, nn.Linear)][:-1]
    normed = NORMS[cfg.norm].module is not None
    decayed = [p for p in model.parameters() if cfg.decay_bias or p.dim() >= 2]

    def snapshot(epoch):
        if epoch in keep_at:
            history["params"][epoch] = [p.detach().clone() for p in model.parameters()]

    snapshot(0)
    for epoch in range(1, (cfg.epochs if epochs is None else epochs) + 1):
        if batch >= n:
            batches = [torch.arange(n)]
        else:
            perm = torch.randperm(n, generator=g)
            batches = [perm[i:i + batch] for i in range(0, n, batch)]
        running = 0.0
        turned = [0.0] * len(hidden)
        for idx in batches:
            xb, yb = (X, y) if batch >= n else (X[idx], y[idx])
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            before = [layer_vector(layer) for layer in hidden]
            optimizer.step()
            for k, layer in enumerate(hidden):
                turned[k] += angle(before[k], layer_vector(layer))
            last_lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            running += loss.item()
        for k, layer in enumerate(hidden):
            history.setdefault(f"rot{k + 1}", []).append(turned[k] / len(batches))
            if normed:
                history.setdefault(f"eff_lr{k + 1}", []).append(last_lr / layer_vector(layer).pow(2).sum().item())
        history.setdefault("max_abs_w", []).append(max(p.detach().abs().max().item() for p in decayed))
        history["train_loss"].append(running / len(batches))
        with torch.no_grad():
            history["train_eval_loss"].append(criterion(model(X), y).item())
            history["val_loss"].append(criterion(model(Xv), yv).item())
            history["l2_norm"].append(torch.cat([p.detach().double().flatten() for p in model.parameters()]).norm().item())
        snapshot(epoch)
    history["model"] = model
    return history


def course_run(cfg: SweepConfig, member: Member, data: Data | None = None) -> dict:
    """One member the way the course's loop trains it, and nothing more: the benchmarks' yardstick for "× the
    plain loop". The same model, data, batches and optimizer as reference_run, and the same per-epoch train loss,
    train-eval loss, val loss and ‖w‖; no per-step rotation, max |w| or effective lr, and a LambdaLR only when
    the config schedules the lr (reference_run steps one always). Returns those four per-epoch lists."""
    model, X, y, Xv, yv, criterion, optimizer = setup(cfg, member, data)
    n = len(X)
    scheduled = cfg.schedule != "constant" or cfg.warmup_epochs > 0
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, n)) if scheduled else None
    batch = min(cfg.batch_size or n, n)
    g = torch.Generator().manual_seed(member.seed)
    history: dict[str, list] = {"train_loss": [], "train_eval_loss": [], "val_loss": [], "l2_norm": []}
    for _ in range(cfg.epochs):
        batches = [None] if batch >= n else torch.randperm(n, generator=g).split(batch)
        running = 0.0
        for idx in batches:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            running += loss.item()
        history["train_loss"].append(running / len(batches))
        with torch.no_grad():
            history["train_eval_loss"].append(criterion(model(X), y).item())
            history["val_loss"].append(criterion(model(Xv), yv).item())
            history["l2_norm"].append(torch.cat([p.detach().double().flatten() for p in model.parameters()]).norm().item())
    return history


def layer_vector(layer: nn.Linear) -> torch.Tensor:
    """A Linear layer's (W, b) as one float64 vector (a copy)."""
    return torch.cat([layer.weight.detach().flatten(), layer.bias.detach().flatten()]).double()


def angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """The angle between vectors a and b in radians, 2·asin(|â − b̂| / 2) (accurate for small angles too)."""
    return 2 * torch.asin((a / a.norm() - b / b.norm()).norm() / 2).item()
