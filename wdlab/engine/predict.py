"""What a snapshot's network computes: its predictions on any inputs, and the points to draw them over."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from wdlab.engine.models import build_mlp
from wdlab.registry.datasets import DATASETS, Data
from wdlab.settings.config import SweepConfig


def model_data(cfg: SweepConfig, data: Data | None = None) -> Data:
    """The points the pictures draw: an uploaded table's, or the preset's (seed 0's for per-seed data, drawn
    as the sweep draws it, so the points are those the first seed's models saw)."""
    if data is not None:
        return data
    import torch  # deferred: the quiz and the pages import this module before anything trains
    spec = DATASETS[cfg.preset]
    with torch.random.fork_rng(devices=[]):
        if spec.per_seed:  # the course's order: the model is built first, then its data drawn
            torch.manual_seed(cfg.seeds[0])
            build_mlp(spec.in_dim, cfg.hidden, spec.out_dim, cfg.activation, cfg.norm)
            return spec.make(cfg.seeds[0], cfg.val_fraction)
        return spec.make(0, cfg.val_fraction)


def network(cfg: SweepConfig, in_dim: int, out_dim: int, params: Sequence[np.ndarray]):
    """The plain nn.Sequential (wdlab.engine.models.build_mlp) holding these parameters, in their dtype."""
    import torch  # deferred, as in model_data
    with torch.random.fork_rng(devices=[]):   # its own init is overwritten: it must not move anyone's RNG
        model = build_mlp(in_dim, cfg.hidden, out_dim, cfg.activation, cfg.norm)
    dtype = torch.float64 if np.asarray(params[0]).dtype == np.float64 else torch.float32
    model = model.to(dtype)
    with torch.no_grad():
        own = list(model.parameters())
        if len(own) != len(params):
            raise ValueError(f"{len(params)} parameter arrays for a network with {len(own)}")
        for p, v in zip(own, params):
            p.copy_(torch.as_tensor(np.asarray(v)).reshape(p.shape))
    return model.eval()


def predict(cfg: SweepConfig, in_dim: int, out_dim: int, params: Sequence[np.ndarray], X: np.ndarray,
            task: str | None = None) -> np.ndarray:
    """The network with these parameters on X [n, in_dim]: class probabilities [n, C] for classification (the
    softmax of its outputs, as nn.CrossEntropyLoss reads them), its outputs [n, out_dim] for regression."""
    import torch  # deferred, as in model_data
    task = task or DATASETS[cfg.preset].task
    model = network(cfg, in_dim, out_dim, params)
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        out = model(torch.as_tensor(np.asarray(X), dtype=dtype))
        if task == "classification":
            out = out.softmax(-1)
    return out.numpy()


MAX_HELD = 2000   # held-out rows a picture predicts on: bounds the memory and time of a view of the model's outputs


def held_out_targets(data: Data, cap: int = MAX_HELD) -> np.ndarray:
    """The first `cap` held-out targets: class indices [n] (int64), or a regression's target [n] (float64) in its
    own units (Data.target_scale's standardization undone)."""
    y = data.y_val[:cap].numpy()
    if data.task == "classification":
        return y.astype(np.int64)
    y = y.reshape(len(y), -1)[:, 0].astype(np.float64)
    mean, std = data.target_scale or (0.0, 1.0)
    return y * std + mean


def held_out_outputs(cfg: SweepConfig, data: Data, params: Sequence[np.ndarray], cap: int = MAX_HELD) -> np.ndarray:
    """What the network with these parameters outputs on the first `cap` held-out rows: the most likely class [n]
    (classification), or its prediction [n] in the target's own units (regression: as held_out_targets)."""
    X = data.X_val[:cap].numpy()
    out = predict(cfg, data.in_dim, data.out_dim, params, X, data.task)
    if data.task == "classification":
        return out.argmax(1).astype(np.int64)
    mean, std = data.target_scale or (0.0, 1.0)
    return out[:, 0].astype(np.float64) * std + mean
