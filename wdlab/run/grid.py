"""Grids of sweeps: what a grid's parts are and how their outcomes read, whichever backend trained them.

A grid is one sweep per architecture (cfgs, each an optimizer × lr × λ × seed grid). Its groups (`groups`: one
architecture, optimizer and lr each, with all their λ × seed members) are what Ray trains as tasks; in process
and on worker processes each architecture's sweep trains whole or in shares of its members. Every member equals a
standalone run whichever backend trains it and whatever else trains beside it. Imports nothing heavy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig


def arch_label(hidden: tuple[int, ...]) -> str:
    """Hidden widths as the frame's `arch` column shows them: "64", "256-256", "linear"."""
    return "-".join(str(h) for h in hidden) if hidden else "linear"


def groups(cfgs: list[SweepConfig]) -> list[SweepConfig]:
    """Each sweep's groups (one architecture, optimizer and lr each), in order; a group whose optimizer takes no
    momentum gets momentum 0 (a sweep of SGD with momentum beside Adam is valid, an Adam-only group with it not)."""
    out = []
    for cfg in cfgs:
        if len(cfg.optimizers) == 1 and len(cfg.lrs) == 1:
            out.append(cfg)
            continue
        out += [cfg.replace(optimizers=(o,), lrs=(lr,), momentum=cfg.momentum if OPTIMIZERS[o].momentum else 0.0)
                for o in cfg.optimizers for lr in cfg.lrs]
    return out


def first_member(cfg: SweepConfig, group: SweepConfig) -> int:
    """Where a group's members start among its sweep's (cfg.members: ordered by optimizer, lr, λ, seed)."""
    key = (group.optimizers[0], group.lrs[0])
    return next(i for i, m in enumerate(cfg.members) if (m[0], m[1]) == key)


def describe(cfg: SweepConfig) -> str:
    """A sweep or group as a failure names it: its architecture, optimizer and lr."""
    return (f"hidden={arch_label(cfg.hidden)} optimizer={','.join(cfg.optimizers)} "
            f"lr={','.join(f'{lr:g}' for lr in cfg.lrs)}")


@dataclass
class Outcome:
    """How one part of a grid ended (a sweep, or on Ray a group); its rows are in the grid's frame."""

    cfg: SweepConfig
    diverged: dict = field(default_factory=dict)   # member -> the epoch it diverged at
    status: str = "done"              # done | cancelled | failed
    error: str = ""
    epochs_done: int = 0


@dataclass
class GridResult:
    frame: Any                        # every part's rows (a cancelled part's finished epochs too), with `arch`
    outcomes: list[Outcome]           # when the grid has several architectures
    status: str                       # done | cancelled (some parts not finished) | failed (some failed)
    note: str = ""                    # how it was trained, when that was a choice (e.g. the workers used)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def diverged(self) -> list[tuple[SweepConfig, tuple, int]]:
        return [(o.cfg, member, epoch) for o in self.outcomes for member, epoch in sorted(o.diverged.items())]


def status_of(outcomes: list[Outcome]) -> str:
    if any(o.status == "failed" for o in outcomes):
        return "failed"
    return "cancelled" if any(o.status != "done" for o in outcomes) else "done"


def total_epochs(cfgs: list[SweepConfig]) -> int:
    """Epochs over the sweeps run in process (one per architecture); Ray counts per group (groups(cfgs))."""
    return sum(c.epochs for c in cfgs)
