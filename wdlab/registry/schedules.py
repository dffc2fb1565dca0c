"""Learning-rate schedules: lr_t = lr·f(t), as torch.optim.lr_scheduler.LambdaLR(optimizer, f) stepped after every
optimizer step gives it. t is the 0-based step index, T the total steps, W = warmup_epochs × batches per epoch.

Warmup applies to every schedule: f(t) = (t+1)/W for t < W, then the schedule's own factor. Step decay counts
epochs from the start of training (warmup included), as torch's StepLR does: f(t) = γ^⌊epoch(t)/period⌋.
AdamW's decoupled shrink w *= 1 − lr_t·λ follows lr_t (torch reads the group's lr); coupled λ is not scheduled.
Adding a schedule is one ScheduleSpec here (factor and code)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Steps:
    """The step counts a schedule's factor reads."""

    total: int        # T: epochs × batches per epoch
    warmup: int       # W: warmup_epochs × batches per epoch
    per_epoch: int    # batches per epoch (the last one may be partial)


@dataclass(frozen=True)
class ScheduleSpec:
    """factor(t, steps, cfg) for t ≥ W (warmup is applied around it); code: the body of the exported script's
    `lr_factor(t)` after its warmup line, as lines reading T, W, steps_per_epoch (and the cfg's values)."""

    name: str
    label: str
    help: str
    factor: Callable[[int, Steps, Any], float]
    code: Callable[[Any], list[str]]


def _constant(t, steps, cfg):
    return 1.0


def _cosine(t, steps, cfg):
    return 0.5 * (1 + math.cos(math.pi * (t - steps.warmup) / (steps.total - steps.warmup)))


def _step(t, steps, cfg):
    return cfg.step_gamma ** (t // steps.per_epoch // cfg.step_period)


SCHEDULES: dict[str, ScheduleSpec] = {s.name: s for s in (
    ScheduleSpec("constant", "constant", "lr throughout (after any warmup)", _constant,
                 lambda cfg: ["    return 1.0"]),
    ScheduleSpec("cosine", "cosine", "lr·½(1 + cos(π·(t − W)/(T − W))) after the warmup: from lr down "
                 "towards 0", _cosine, lambda cfg: ["    return 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W)))"]),
    ScheduleSpec("step", "step decay", "lr·γ^⌊epoch/period⌋: multiplied by step-gamma every step-period epochs",
                 _step, lambda cfg: [f"    return {cfg.step_gamma!r} ** (t // steps_per_epoch // {cfg.step_period})"]),
)}


def register(spec: ScheduleSpec) -> ScheduleSpec:
    SCHEDULES[spec.name] = spec
    return spec


def steps_of(cfg, n_train: int) -> Steps:
    """The step counts of cfg on n_train training rows."""
    batch = min(cfg.batch_size or n_train, n_train)
    per_epoch = -(-n_train // batch)
    return Steps(cfg.epochs * per_epoch, cfg.warmup_epochs * per_epoch, per_epoch)


def factor(cfg, t: int, steps: Steps) -> float:
    """f(t) of cfg's schedule, warmup included."""
    if t < steps.warmup:
        return (t + 1) / steps.warmup
    return SCHEDULES[cfg.schedule].factor(t, steps, cfg)


def scheduled(cfg) -> bool:
    """Whether lr changes during training (a constant schedule without warmup does not)."""
    return cfg.schedule != "constant" or cfg.warmup_epochs > 0


def under(cfg) -> str:
    """How cfg's lr moves, for a page's or the CLI's text: "under cosine after 10 warmup epochs"; "" when it is
    constant (the one place that words a config's schedule beside a result)."""
    if not scheduled(cfg):
        return ""
    text = describe(cfg)
    return "under " + ("a constant lr" + text[len("constant"):] if cfg.schedule == "constant" else text)


def describe(cfg) -> str:
    """The schedule in words, e.g. "cosine after 5 warmup epochs"."""
    text = SCHEDULES[cfg.schedule].label
    if cfg.schedule == "step":
        text += f" (×{cfg.step_gamma:g} every {cfg.step_period} epochs)"
    if cfg.warmup_epochs:
        text += f" after {cfg.warmup_epochs} warmup epoch{'s' if cfg.warmup_epochs != 1 else ''}"
    return text
