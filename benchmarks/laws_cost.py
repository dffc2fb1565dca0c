"""What measuring the laws (rot{k} every step, max_abs_w and eff_lr{k} every epoch) costs a sweep: CPU seconds with
and without, torch on one thread, 7 runs each, interleaved: the median and the fastest. `python -m benchmarks.laws_cost`"""
from __future__ import annotations

import statistics
import time

import torch

from wdlab.engine import stack
from wdlab.engine.sweep import run_sweep
from wdlab.settings.config import SweepConfig

SWEEPS = {
    "course 20-64-64-1 LayerNorm, AdamW, batch 32, 5 λ, 10 epochs": SweepConfig(
        preset="tutorial", hidden=(64, 64), norm="layernorm", optimizers=("adamw",), lrs=(0.01,), batch_size=32, epochs=10),
    "tutorial preset (20-64-1, Adam, full batch, 5 λ, 100 epochs)": SweepConfig(preset="tutorial"),
    "moons preset (2-64-64-2, Adam, full batch, 5 λ, 300 epochs)": SweepConfig(
        preset="moons", hidden=(64, 64), optimizers=("adam",), epochs=300, weight_decays=(0.0, 1e-4, 1e-3, 1e-2, 0.1)),
}


class Off(stack.Rotation):
    """The rotation measured nowhere: no copy, no difference, no Gram products."""

    def before(self):
        pass

    def after(self):
        pass


def cpu(cfg: SweepConfig) -> float:
    t = time.process_time()
    run_sweep(cfg)
    return time.process_time() - t


def main() -> None:
    torch.set_num_threads(1)
    on = (stack.Rotation, stack.Stack._law_columns, stack.Stack._law_stats)
    off = (Off, lambda self: [], lambda self, sq: {})
    for name, cfg in SWEEPS.items():
        times = {"with": [], "without": []}
        cpu(cfg)  # warm up
        for _ in range(7):
            for label, (rot, cols, stats) in (("without", off), ("with", on)):
                stack.Rotation, stack.Stack._law_columns, stack.Stack._law_stats = rot, cols, stats
                times[label].append(cpu(cfg))
        stack.Rotation, stack.Stack._law_columns, stack.Stack._law_stats = on
        w, wo = statistics.median(times["with"]), statistics.median(times["without"])
        fw, fwo = min(times["with"]), min(times["without"])
        print(f"{name}: median {wo:.3f} s without, {w:.3f} s with: {100 * (w / wo - 1):+.1f} %; fastest {fwo:.3f} "
              f"→ {fw:.3f} s: {100 * (fw / fwo - 1):+.1f} %")


if __name__ == "__main__":
    main()
