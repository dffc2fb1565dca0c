"""What measuring the laws (rot{k} every step, max_abs_w and eff_lr{k} every epoch) costs a sweep, two ways, torch on
one thread: CPU seconds with and without the measurements (interleaved runs, median), and the share of each run's
time spent inside them (timed in the sweep itself: on a shared machine a with/without difference of a few % is within
the noise between identical runs, while the share is measured within each run). `python -m benchmarks.laws_cost`
(also a section of `benchmarks/sweep_speed.py`). Target (issue #28): < 10 % of the sweep's time."""
from __future__ import annotations

import os
import statistics
import time

import torch

from wdlab.engine import stack
from wdlab.engine.sweep import run_sweep
from wdlab.settings.config import SweepConfig

TARGET = 0.10
WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
SWEEPS = {
    "course 20-64-64-1 LayerNorm, AdamW, batch 32, 5 λ, 10 ep": SweepConfig(
        preset="tutorial", hidden=(64, 64), norm="layernorm", optimizers=("adamw",), lrs=(0.01,), batch_size=32, epochs=10),
    "course 20-64-1 LayerNorm, AdamW, full batch, 24 members, 100 ep": SweepConfig(
        preset="tutorial", hidden=(64,), norm="layernorm", optimizers=("adamw",), lrs=(0.01,), epochs=100,
        weight_decays=WDS, seeds=(0, 1, 2)),
    "tutorial preset (20-64-1, Adam, full batch, 5 λ, 100 ep)": SweepConfig(preset="tutorial"),
    "moons preset (2-64-64-2, Adam, full batch, 5 λ, 300 ep)": SweepConfig(
        preset="moons", hidden=(64, 64), optimizers=("adam",), epochs=300, weight_decays=(0.0, 1e-4, 1e-3, 1e-2, 0.1)),
}


class Off(stack.Rotation):
    """The rotation measured nowhere: no copy, no difference, no Gram products."""

    def before(self):
        pass

    def after(self):
        pass


ON = (stack.Rotation, stack.Stack._law_columns, stack.Stack._law_stats)
OFF = (Off, lambda self: [], lambda self, sq: {})


def _use(parts) -> None:
    stack.Rotation, stack.Stack._law_columns, stack.Stack._law_stats = parts


def cpu(cfg: SweepConfig) -> float:
    t = time.process_time()
    run_sweep(cfg)
    return time.process_time() - t


def share(cfg: SweepConfig) -> float:
    """The fraction of one sweep's time spent in the measurements (Rotation.before/after/epoch_means, _law_stats)."""
    inside = [0.0]

    def timed(f):
        def g(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                inside[0] += time.perf_counter() - t
        return g

    rot = type("Timed", (stack.Rotation,), {n: timed(getattr(stack.Rotation, n))
                                             for n in ("before", "after", "epoch_means")})
    _use((rot, ON[1], timed(ON[2])))
    try:
        t = time.perf_counter()
        run_sweep(cfg)
        return inside[0] / (time.perf_counter() - t)
    finally:
        _use(ON)


def measure(repeats: int = 3, only: str | None = None) -> list[tuple[str, float, float, float]]:
    """Per sweep: (name, median CPU s without, with, median share inside the measurements); runs interleaved."""
    rows = []
    for name, cfg in SWEEPS.items():
        if only and only not in name:
            continue
        cpu(cfg)  # warm up
        times = {"with": [], "without": []}
        shares = []
        try:
            for _ in range(repeats):
                for label, parts in (("without", OFF), ("with", ON)):
                    _use(parts)
                    times[label].append(cpu(cfg))
                _use(ON)
                shares.append(share(cfg))
        finally:
            _use(ON)
        rows.append((name, statistics.median(times["without"]), statistics.median(times["with"]),
                     statistics.median(shares)))
    return rows


def print_rows(rows) -> None:
    for name, wo, w, s in rows:
        met = "met" if s < TARGET and w / wo - 1 < TARGET else ("met by the share" if s < TARGET else "NOT met")
        print(f"  {name:66s} without {wo:6.3f} s, with {w:6.3f} s: {100 * (w / wo - 1):+5.1f} %; inside the "
              f"measurements {100 * s:4.1f} % of the run (< {TARGET:.0%}: {met})", flush=True)


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"laws measurements (CPU s, median of {args.repeats}, interleaved; load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}):")
    print_rows(measure(args.repeats, args.only))


if __name__ == "__main__":
    main()
