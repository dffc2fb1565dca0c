"""What a sweep may ask for: its size checked against the limits before any training. Imports no torch."""
from __future__ import annotations

import math

from .config import DEFAULT_LIMITS, Limits, SweepConfig
from .data import DATASETS, Data
from .errors import ConfigError


def count_params(in_dim: int, hidden: tuple[int, ...], out_dim: int, norm: str = "none") -> int:
    """Parameters of the MLP in_dim → hidden… → out_dim (weights and biases, and LayerNorm's gain and bias)."""
    dims = (in_dim, *hidden, out_dim)
    return sum((a + 1) * b for a, b in zip(dims, dims[1:])) + (2 * sum(hidden) if norm == "layernorm" else 0)


def validate(cfg: SweepConfig, limits: Limits = DEFAULT_LIMITS, data: Data | None = None) -> None:
    """Raise ConfigError if cfg (on its dataset, or on `data`) asks for more than `limits` allow."""
    if data is not None:
        n_train, in_dim, out_dim = len(data.X_train), data.in_dim, data.out_dim
    else:
        spec = DATASETS[cfg.preset]
        n_train, _ = spec.sizes(cfg.val_fraction)
        in_dim, out_dim = spec.in_dim, spec.out_dim
    check_limits(cfg, limits, n_train, count_params(in_dim, cfg.hidden, out_dim, cfg.norm))


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
