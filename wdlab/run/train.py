"""The one way to train: validate each sweep once, plan its memory knobs once, hand the work to a backend, gather
the rows once.

    result = train(cfgs, backend=Workers(2), data=data, limits=limits, on_progress=bar, cancel=event)

A backend (InProcess here, run.workers.Workers, run.ray_backend.Ray) trains the prepared sweeps and delivers every
part's rows (a sweep, or a worker's or Ray task's share of its members) to the one gatherer, Rows; the frame comes
out in the engine's row order whatever trained it (per architecture: epoch, then member), so the backends' frames
are equal row by row. Imports no torch: the engine is imported where a sweep trains (InProcess.run, a worker
process, a Ray task); nor pandas until rows arrive (the CLI validates through here before it may load either).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from wdlab.engine import snapshots as snapshot_plan
from wdlab.engine.budget import validate
from wdlab.run.grid import GridResult, Outcome, arch_label, status_of
from wdlab.settings.config import DEFAULT_LIMITS, Limits, SweepConfig

# on_progress(epochs done over every sweep, that epoch's rows as plain columns or None): the CLI's Progress fits
Progress = Callable[[int, Any], None]


@dataclass
class Plan:
    """One sweep (one architecture), validated once: the knobs it trains with, or why its limits refuse it."""

    cfg: SweepConfig
    knobs: dict = field(default_factory=dict)   # run_sweep's memory keywords (engine.budget.plan)
    snapshots: Any = None                       # engine.snapshots.Snapshots to fill, when asked for
    refused: Exception | None = None            # its limits' ConfigError: reported with it, the others train
    estimate: Any = None                        # engine.budget.Estimate: its peak memory and time
    parts: list | None = None                   # ranges of cfg.members to train, each saved when done (checkpoint)

    def failed(self) -> Outcome:
        return Outcome(self.cfg, status="failed", error=f"{type(self.refused).__name__}: {self.refused}")


class Rows:
    """Every part's rows, gathered once: one FrameBuilder per part (sweep i from member `first` on), read as one
    frame in the engine's order at any time, from any thread."""

    def __init__(self, cfgs: list[SweepConfig]):
        self.cfgs = cfgs
        self._parts: dict[tuple[int, int], Any] = {}   # (sweep, first member) -> FrameBuilder or a whole frame
        self._lock = threading.Lock()
        self.on_part: Callable | None = None   # on_part(sweep, first, frame) once a part finished (run.checkpoint)

    def finish(self, sweep: int, first: int) -> None:
        """The part of sweep `sweep` from member `first` has all its rows: hand them to on_part."""
        part = self._parts.get((sweep, first))
        if self.on_part is not None and part is not None:
            import pandas as pd  # deferred: rows are here, pandas with them
            self.on_part(sweep, first, part if isinstance(part, pd.DataFrame) else part.frame())

    def add(self, sweep: int, first: int, rows: dict[str, list]) -> None:
        """One epoch's rows (plain columns) of sweep `sweep`'s part that starts at member `first`."""
        part = self._parts.get((sweep, first))
        if part is None:
            from wdlab.frame.schema import FrameBuilder  # deferred: pandas, not before rows arrive
            part = FrameBuilder(list(rows))
            with self._lock:
                self._parts[(sweep, first)] = part
        part.add(rows)   # FrameBuilder.frame() never shows half an epoch to another thread

    def put(self, sweep: int, first: int, frame) -> None:
        """A part's whole frame, gathered where it trained (a Ray task)."""
        with self._lock:
            self._parts[(sweep, first)] = frame

    def frame(self):
        """The rows so far (a DataFrame): an `arch` column first when architectures differ, per architecture epoch
        by epoch, members in sweep order; every column once, in the engine's order, `diverged` last."""
        import pandas as pd  # deferred: not before rows are read
        with self._lock:
            parts = sorted(self._parts.items())
        frames = [(s, p if isinstance(p, pd.DataFrame) else p.frame()) for (s, _), p in parts]
        archs = list(dict.fromkeys(c.hidden for c in self.cfgs))
        if not frames:
            return pd.DataFrame()
        if len(frames) == 1 and len(archs) == 1:   # one part: the engine's frame itself (a chunked one sorted)
            f = frames[0][1]
            return f if f["epoch"].is_monotonic_increasing else f.sort_values("epoch", kind="stable",
                                                                                ignore_index=True)
        tagged = []
        for s, f in frames:
            f = f.assign(_arch=archs.index(self.cfgs[s].hidden))
            if len(archs) > 1:
                f = f.assign(arch=arch_label(self.cfgs[s].hidden))[["arch", *f.columns]]
            tagged.append(f)
        # parts come in member order: a stable sort by (architecture, epoch) gives the engine's own row order
        whole = pd.concat(tagged, ignore_index=True).sort_values(["_arch", "epoch"], kind="stable")
        # the deepest architecture's columns in the engine's order (its layers' columns come before max_abs_w and
        # the rotations), then any only a shallower one has
        widest = max((p.columns for p in tagged), key=len)
        cols = [c for c in dict.fromkeys([*widest, *(c for p in tagged for c in p.columns)])
                if c not in ("_arch", "diverged")]
        return whole[cols + ["diverged"]].reset_index(drop=True)


@dataclass
class Work:
    """What a backend trains: the validated sweeps, their data, and where their rows go."""

    plans: list[Plan]
    data: Any
    rows: Rows

    def check(self) -> None:
        """Raise the first refused sweep's error (for a caller that trains nothing unless all may train)."""
        for plan in self.plans:
            if plan.refused is not None:
                raise plan.refused


def prepare(cfgs: SweepConfig | list[SweepConfig], *, data=None, limits: Limits = DEFAULT_LIMITS,
            snapshots: bool = False) -> Work:
    """Validate each sweep once against `limits` (on `data`'s sizes when given) and plan its memory knobs; with
    snapshots=True also its parameter snapshots, within the same memory budget. A refused sweep keeps its error."""
    cfgs = [cfgs] if isinstance(cfgs, SweepConfig) else list(cfgs)
    plans = []
    for cfg in cfgs:
        try:
            est = validate(cfg, limits, data)
        except Exception as e:  # noqa: BLE001 — reported with its sweep; the others train
            plans.append(Plan(cfg, refused=e))
            continue
        snaps = snapshot_plan.for_sweep(cfg, limits.max_sweep_mb, est.bytes, data) if snapshots else None
        plans.append(Plan(cfg, est.knobs(), snaps, estimate=est))
    return Work(plans, data, Rows(cfgs))


class Backend:
    """Where prepared sweeps train. run() trains work.plans, delivers every epoch's rows to work.rows and the
    epochs done to on_progress, stops soon after `cancel` is set, and returns one Outcome per part it reports
    on (a refused plan: plan.failed()) and a note on how it trained ("" when there was no choice)."""

    snapshots = False   # fills parameter snapshots (only a backend training in this process can)

    def set_threads(self, n: int) -> None:
        """torch's threads for what trains in this process (none here: it trains elsewhere)."""

    def warm_up(self) -> None:
        """Load what training needs before the first sweep (a server calls it once, at start)."""

    def run(self, work: Work, on_progress: Progress | None, cancel: threading.Event | None
            ) -> tuple[list[Outcome], str]:
        raise NotImplementedError


class InProcess(Backend):
    """Each sweep in this process, one after another (the engine trains its members in chunks); a sweep that
    raises is reported, the others go on. `sweep`: what trains one (run_sweep's signature; default run_sweep)."""

    snapshots = True

    def __init__(self, sweep: Callable | None = None, device: str = "cpu"):
        self.sweep, self.device = sweep, device   # device: where the engine trains (run_sweep's device)

    def set_threads(self, n: int) -> None:
        from wdlab.engine import sweep as engine  # deferred: torch, loaded where sweeps train
        engine.set_threads(n)

    def warm_up(self) -> None:
        from wdlab.engine import sweep as engine  # deferred: torch, loaded where sweeps train
        engine.warm_up()

    def run(self, work, on_progress, cancel):
        sweep = self.sweep
        if sweep is None:
            from wdlab.engine.sweep import run_sweep as sweep  # deferred: torch, where sweeps train
        outcomes, before = [], 0
        for i, plan in enumerate(work.plans):
            if cancel is not None and cancel.is_set():
                outcomes.append(Outcome(plan.cfg, status="cancelled"))
                continue
            if plan.refused is not None:
                outcomes.append(plan.failed())
                before += plan.cfg.epochs
                continue

            parts = plan.parts if plan.parts is not None else [None]
            r, diverged = None, {}
            try:
                for k, part in enumerate(parts):   # one part each (a checkpointed grid: each saved when done)
                    first = part.start if part is not None else 0

                    def listen(epoch, rows, i=i, first=first, done=k * plan.cfg.epochs, n=len(parts), base=before):
                        work.rows.add(i, first, rows)
                        if on_progress is not None:   # the sweep's share done, in epochs
                            on_progress(base + (done + epoch) // n, rows)
                    more = {"members": part} if part is not None else {}
                    if self.device != "cpu":
                        more["device"] = self.device
                    r = sweep(plan.cfg, data=work.data, on_epoch=listen, cancel=cancel, snapshots=plan.snapshots,
                              gather=False, **{**plan.knobs, **more})
                    diverged.update(r.diverged)
                    if r.status != "done":
                        break
                    work.rows.finish(i, first)
                if r is None:   # every part was finished before (a resumed run)
                    outcomes.append(Outcome(plan.cfg, status="done", epochs_done=plan.cfg.epochs))
                else:
                    outcomes.append(Outcome(plan.cfg, diverged, r.status, "", r.epochs_done))
            except Exception as e:  # noqa: BLE001 — one sweep's failure is reported with it; the rest go on
                outcomes.append(Outcome(plan.cfg, status="failed", error=f"{type(e).__name__}: {e}"))
            before += plan.cfg.epochs
        return outcomes, ""


def train(cfgs: SweepConfig | list[SweepConfig] | Work, *, backend: Backend | None = None, data=None,
          limits: Limits = DEFAULT_LIMITS, on_progress: Progress | None = None,
          cancel: threading.Event | None = None, snapshots: bool = False) -> GridResult:
    """Train `cfgs` (one sweep per architecture; or a Work already prepared, whose snapshots a caller watches)
    on `backend` (default: in this process); snapshots=True plans parameter snapshots where the backend keeps
    them. The frame holds every part's rows, a failed or cancelled part's finished epochs too."""
    backend = backend or InProcess()
    work = cfgs if isinstance(cfgs, Work) else \
        prepare(cfgs, data=data, limits=limits, snapshots=snapshots and backend.snapshots)
    outcomes, note = backend.run(work, on_progress, cancel)
    return GridResult(work.rows.frame(), outcomes, status_of(outcomes), note)
