"""Each law's prediction for each member of a sweep, from its settings and its data (closed forms, numpy float64)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from wdlab.laws.catalog import ADAM_BETA1, LAWS, Law, tau_number
from wdlab.registry.datasets import DATASETS, Data
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.registry.schedules import scheduled
from wdlab.settings.config import Member, SweepConfig

FULL_BATCH = "full batch — the law assumes noisy gradients"
SETTLE = 2   # equilibrium laws are measured from SETTLE × 1/(2·lr·λ) steps on (within e⁻² of equilibrium)


@dataclass(frozen=True)
class Prediction:
    """One law's prediction for one member (and one hidden layer, for the per-layer laws).

    applies: the law speaks to this member; else value is None and `why` says why not. column: the frame column
    it predicts (norm{k} = √(l2_weight{k}² + l2_bias{k}²)). bound: value is an upper bound (the box), not a
    value. from_epoch: equilibrium laws are measured as the mean over epochs ≥ from_epoch, the others at the last
    epoch. assumption: where this run breaks an assumption of the law (a verdict that fails names it).
    weights: the ridge solution, in nn.Sequential order (the weight matrix row by row, then the bias).
    detail: further numbers (the timescale: tau_steps, tau_epochs, epochs)."""

    law: str
    member: Member
    applies: bool
    value: float | None = None
    column: str | None = None
    layer: int | None = None
    bound: bool = False
    from_epoch: int = 0
    assumption: str = ""
    why: str = ""
    weights: tuple[float, ...] = ()
    detail: dict = field(default_factory=dict)

    @property
    def info(self) -> Law:
        return LAWS[self.law]


def steps_per_epoch(cfg: SweepConfig, n_train: int) -> int:
    batch = min(cfg.batch_size or n_train, n_train)
    return -(-n_train // batch)


def training_sets(cfg: SweepConfig, data) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """seed -> (X, y) float64 as the sweep trains on them (None where the data is drawn per seed and was not
    given). data: a Data shared by every seed, {seed: Data or (X, y)}, or None (the preset's own)."""
    spec = DATASETS[cfg.preset]
    if data is None and spec.per_seed:
        return None
    if data is None:
        data = spec.make(0, cfg.val_fraction)
    per_seed = data if isinstance(data, Mapping) else {s: data for s in cfg.seeds}
    out = {}
    for s in cfg.seeds:
        d = per_seed[s]
        X, y = (d.X_train, d.y_train) if isinstance(d, Data) else d
        out[s] = (np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return out


def ridge(X: np.ndarray, y: np.ndarray, weight_decay: float, decay_bias: bool) -> tuple[np.ndarray, float]:
    """The minimizer of mean((Xw + b − y)²) + (λ/2)·‖(w, b)‖² (b out of the penalty unless decay_bias) for y
    [n, o]: θ [in + 1, o] (w then b), and its training loss."""
    n, o = len(X), (y.shape[1] if y.ndim > 1 else 1)
    y = y.reshape(n, o)
    Xb = np.hstack([X, np.ones((n, 1))])
    penalty = np.ones(X.shape[1] + 1)
    penalty[-1] = 1.0 if decay_bias else 0.0
    theta = np.linalg.solve(2 / (n * o) * Xb.T @ Xb + weight_decay * np.diag(penalty), 2 / (n * o) * Xb.T @ y)
    return theta, float(np.mean((Xb @ theta - y) ** 2))


def predictions(cfg: SweepConfig, data: "Data | Mapping | None" = None) -> list[Prediction]:
    """Every law's prediction for every member of cfg (one per hidden layer for rotation and norm), applying or
    not. data: the training set as the sweep trains on it (see training_sets); needed for ridge where the
    dataset is drawn per seed (the course's tutorial)."""
    spec = DATASETS[cfg.preset]
    one = next(iter(data.values())) if isinstance(data, Mapping) else data
    if isinstance(one, Data):
        n, in_dim, task = len(one.X_train), one.in_dim, one.task
    elif one is not None:                                   # (X, y) arrays: regression
        n, in_dim, task = len(one[0]), np.shape(one[0])[1], "regression"
    else:
        n, in_dim, task = spec.sizes(cfg.val_fraction)[0], spec.in_dim, spec.task
    sets = training_sets(cfg, data) if not cfg.hidden and task == "regression" else None
    steps = steps_per_epoch(cfg, n)
    full = steps == 1
    out: list[Prediction] = []
    for m in cfg.members:
        out += _ridge(cfg, m, sets, full, task)
        out.append(_box(cfg, m, steps))
        for k in range(1, len(cfg.hidden) + 1):
            out += _equilibrium(cfg, m, k, steps, full, in_dim)
        out.append(_timescale(cfg, m, steps))
    return out


def _ridge(cfg, m, sets, full, task) -> list[Prediction]:
    spec = OPTIMIZERS[m.optimizer]
    why = ("a hidden layer: the loss is not quadratic, no closed form" if cfg.hidden else
           "classification: cross-entropy has no closed-form minimizer" if task != "regression" else
           f"{spec.label} decays decoupled: it does not minimise L + (λ/2)·‖w‖² (see the box)" if not spec.coupled
           else "the data is drawn per seed: pass it (data=)" if sets is None else "")
    if not why and m.weight_decay == 0 and np.linalg.matrix_rank(sets[m.seed][0]) < sets[m.seed][0].shape[1]:
        why = "λ = 0 with fewer independent rows than features: many minimizers, the one reached depends on the init"
    if why:
        return [Prediction(law, m, False, why=why) for law in ("ridge", "ridge_loss")]
    X, y = sets[m.seed]
    theta, loss = ridge(X, y, m.weight_decay, cfg.decay_bias)
    weights = tuple(theta[:-1].T.reshape(-1)) + tuple(theta[-1])
    note = "" if full else "minibatches: SGD-type steps jitter around the solution (a smaller lr settles closer)"
    return [Prediction("ridge", m, True, float(np.linalg.norm(theta)), "l2_norm", assumption=note, weights=weights),
            Prediction("ridge_loss", m, True, loss, "train_eval_loss", assumption=note, weights=weights)]


def _box(cfg, m, steps) -> Prediction:
    spec = OPTIMIZERS[m.optimizer]
    if spec.coupled:
        return Prediction("box", m, False, why=f"{spec.label} decays coupled (L2): its weights end near the "
                                               "minimizer of L + (λ/2)·‖w‖², not in a box")
    if m.weight_decay == 0:
        return Prediction("box", m, False, why="λ = 0: no box")
    tau = 1 / (m.lr * m.weight_decay)
    late = tau > cfg.epochs * steps
    return Prediction("box", m, True, 1 / m.weight_decay, "max_abs_w", bound=True,
                      assumption=f"the run ({cfg.epochs * steps} steps) is shorter than τ = {tau_number(tau, 3)} "
                                 "steps: the weights may not have reached the box" if late else "")


def _equilibrium(cfg, m, k, steps, full, in_dim) -> list[Prediction]:
    """The rotation and the norm of hidden layer k at equilibrium."""
    spec, lr, wd = OPTIMIZERS[m.optimizer], m.lr, m.weight_decay
    why = ""
    if NORMS[cfg.norm].identity:
        why = f"layer {k} has no normalization after it: it is not scale-invariant"
    elif wd == 0:
        why = "λ = 0: no equilibrium — the norm grows and the rotation slows without bound"
    elif m.optimizer not in ("adamw", "sgd"):
        why = f"{spec.label} has no fixed rate: the decay is rescaled per weight by the adaptive denominator"
    if why:
        return [Prediction("rotation", m, False, layer=k, why=why), Prediction("norm", m, False, layer=k, why=why)]
    if m.optimizer == "adamw":
        rate = math.sqrt(2 * lr * wd * (1 - ADAM_BETA1) / (1 + ADAM_BETA1))
    else:
        rate = math.sqrt(2 * lr * wd / (1 + cfg.momentum))
    settle = 1 / (2 * lr * wd)
    from_epoch = max(1, math.ceil(SETTLE * settle / steps))
    notes = [FULL_BATCH] if full else []
    if from_epoch > cfg.epochs:
        notes.append(f"the run ends before equilibrium (~{SETTLE * settle:.0f} steps, {cfg.epochs * steps} run)")
        from_epoch = cfg.epochs
    if not cfg.decay_bias:
        notes.append("the bias does not decay: the law assumes the whole (W, b) decays")
    if scheduled(cfg):
        notes.append("the lr is scheduled: the law is for a constant lr (predicted here at the base lr)")
    note = "; ".join(notes)
    rot = Prediction("rotation", m, True, rate, f"rot{k}", layer=k, from_epoch=from_epoch, assumption=note)
    if m.optimizer != "adamw":
        return [rot, Prediction("norm", m, False, layer=k, why="SGD's equilibrium norm depends on the gradients' "
                                                               "size, not on the settings alone")]
    dims = (in_dim, *cfg.hidden)
    C = (dims[k - 1] + 1) * dims[k]
    return [rot, Prediction("norm", m, True, math.sqrt(lr * C / (2 * wd)), f"norm{k}", layer=k,
                            from_epoch=from_epoch, assumption=note)]


def _timescale(cfg, m, steps) -> Prediction:
    spec = OPTIMIZERS[m.optimizer]
    if spec.coupled or m.weight_decay == 0:
        return Prediction("timescale", m, False, why="λ = 0: no decay" if m.weight_decay == 0 else
                          f"{spec.label} decays coupled: its timescale depends on the curvature")
    tau = 1 / (m.lr * m.weight_decay)
    epochs = tau / steps
    inside = 1 <= epochs <= cfg.epochs
    return Prediction("timescale", m, True, epochs, detail={"tau_steps": tau, "tau_epochs": epochs},
                      assumption="" if inside else f"τ = {tau_number(epochs, 3)} epochs is outside the recommended "
                                                   f"1 … {cfg.epochs} (the run's epochs)")
