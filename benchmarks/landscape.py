"""A fixed small landscape: 5 lrs × 6 λ × 2 optimizers (Adam+L2, AdamW) × 2 seeds on the moons, one stacked sweep.

Prints the best λ per lr for each optimizer and how far it moves across the lrs, in λ and in lr·λ (the
per-step decay torch's AdamW applies), by best-epoch validation loss; and the time taken.
    python benchmarks/landscape.py
"""
from __future__ import annotations

import time

import torch

from wdlab.settings.config import SweepConfig
from wdlab.frame.landscape import summary_lines
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.engine.sweep import run_sweep

CFG = SweepConfig(preset="moons", hidden=(32,), optimizers=("adam", "adamw"), lrs=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
                  weight_decays=(0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0), seeds=(0, 1), epochs=300)


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    result = run_sweep(CFG)
    seconds = time.perf_counter() - start
    labels = {name: spec.label for name, spec in OPTIMIZERS.items()}
    print(f"moons, 32 hidden, {len(CFG.members)} members ({len(CFG.lrs)} lr × {len(CFG.weight_decays)} λ × 2 "
          f"optimizers × 2 seeds), {CFG.epochs} full-batch epochs: {seconds:.1f} s on one thread")
    for line in summary_lines(result.frame, labels):
        print(line)


if __name__ == "__main__":
    main()
