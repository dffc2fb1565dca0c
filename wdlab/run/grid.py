"""Grids of sweeps: several architectures and their groups, run in-process or on Ray, gathered in one frame.

A group is the unit of work handed to a remote backend: one architecture, optimizer and lr, with all its λ × seed
members. In process, each architecture's whole optimizer × lr × λ × seed grid is one sweep (the engine trains
it in one stacked pass). Every member equals a standalone run whichever backend trains it and whatever else
shares its pass, and the gathered frame is in the engine's row order (per architecture: epoch, then member),
so the backends' frames are equal row by row.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from wdlab.settings.config import DEFAULT_LIMITS, Limits, SweepConfig

GridProgress = Callable[[int, Any], None]   # (epochs done over all groups, unused) — the CLI's Progress fits


def arch_label(hidden: tuple[int, ...]) -> str:
    """Hidden widths as the frame's `arch` column shows them: "64", "256-256", "linear"."""
    return "-".join(str(h) for h in hidden) if hidden else "linear"


def groups(cfgs: list[SweepConfig]) -> list[SweepConfig]:
    """Each sweep's groups (one architecture, optimizer and lr each), in order."""
    out = []
    for cfg in cfgs:
        optimizers = getattr(cfg, "optimizers", None) or (cfg.optimizer,)
        lrs = getattr(cfg, "lrs", None) or (cfg.lr,)
        if len(optimizers) == 1 and len(lrs) == 1:
            out.append(cfg)
            continue
        out += [cfg.replace(optimizers=(o,), lrs=(lr,)) for o in optimizers for lr in lrs]
    return out


def describe(cfg: SweepConfig) -> str:
    """A group as a failure names it: its architecture, optimizer and lr."""
    optimizers = getattr(cfg, "optimizers", None) or (cfg.optimizer,)
    lrs = getattr(cfg, "lrs", None) or (cfg.lr,)
    return (f"hidden={arch_label(cfg.hidden)} optimizer={','.join(optimizers)} "
            f"lr={','.join(f'{lr:g}' for lr in lrs)}")


@dataclass
class GroupOutcome:
    cfg: SweepConfig
    frame: Any = None                 # its rows (None when it failed or was cancelled before finishing)
    diverged: dict = field(default_factory=dict)
    status: str = "done"              # done | cancelled | failed
    error: str = ""
    epochs_done: int = 0


@dataclass
class GridResult:
    frame: Any                        # every finished group's rows, with `arch` when the grid has several
    outcomes: list[GroupOutcome]
    status: str                       # done | cancelled (some groups not finished) | failed (some failed)
    note: str = ""                    # how it was trained, when that was a choice (e.g. the workers used)

    @property
    def failures(self) -> list[GroupOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def diverged(self) -> list[tuple[SweepConfig, tuple, int]]:
        return [(o.cfg, member, epoch) for o in self.outcomes for member, epoch in sorted(o.diverged.items())]


def combine(outcomes: list[GroupOutcome]):
    """Every group's rows in one frame (a cancelled group's finished epochs too): an `arch` column first when
    architectures differ, groups in the order listed, each group's rows as its engine gave them."""
    import pandas as pd
    multi = len({o.cfg.hidden for o in outcomes}) > 1
    archs = list(dict.fromkeys(o.cfg.hidden for o in outcomes))
    parts = []
    for o in outcomes:
        if o.frame is None:
            continue
        f = o.frame.assign(_arch=archs.index(o.cfg.hidden))
        if multi:
            f = f.assign(arch=arch_label(o.cfg.hidden))[["arch", *f.columns]]
        parts.append(f)
    if not parts:
        return pd.DataFrame()
    # groups come in member order: a stable sort by (architecture, epoch) gives the engine's own row order
    whole = pd.concat(parts, ignore_index=True).sort_values(["_arch", "epoch"], kind="stable")
    # deeper architectures add layer columns: every column once, in the engine's order, `diverged` last
    cols = [c for c in dict.fromkeys(c for p in parts for c in p.columns) if c not in ("_arch", "diverged")]
    return whole[cols + ["diverged"]].reset_index(drop=True)


def status_of(outcomes: list[GroupOutcome]) -> str:
    if any(o.status == "failed" for o in outcomes):
        return "failed"
    return "cancelled" if any(o.status != "done" for o in outcomes) else "done"


def total_epochs(cfgs: list[SweepConfig]) -> int:
    """Epochs over the sweeps run in process (one per architecture); Ray counts per group (groups(cfgs))."""
    return sum(c.epochs for c in cfgs)


def run_local(cfgs: list[SweepConfig], *, data=None, limits: Limits = DEFAULT_LIMITS,
              on_progress: GridProgress | None = None, cancel: threading.Event | None = None,
              runner: Callable | None = None) -> GridResult:
    """Train each architecture's grid here (one stacked sweep each), one after another; a sweep that raises is
    reported, the others go on."""
    from wdlab.engine.budget import validate
    if runner is None:
        from wdlab.engine.sweep import run_sweep as runner
    parts, done_before = [], 0
    for cfg in cfgs:
        if cancel is not None and cancel.is_set():
            parts.append(GroupOutcome(cfg, status="cancelled"))
            continue
        listen = None if on_progress is None else (lambda e, rows, base=done_before: on_progress(base + e, rows))
        try:
            est = validate(cfg, limits, data)
            r = runner(cfg, data=data, on_epoch=listen, cancel=cancel, **est.knobs())
            parts.append(GroupOutcome(cfg, r.frame, dict(r.diverged), r.status, "", r.epochs_done))
        except Exception as e:  # noqa: BLE001 — one group's failure is reported with the group; the rest go on
            parts.append(GroupOutcome(cfg, status="failed", error=f"{type(e).__name__}: {e}"))
        done_before += cfg.epochs
    return GridResult(combine(parts), parts, status_of(parts))
