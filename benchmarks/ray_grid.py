"""A 32-group grid in-process against Ray (1 and 2 local CPUs): wall times and ratios, printed in one run.

Groups: 4 architectures × 2 optimizers × 4 learning rates, each with 4 λ × 2 seeds (the course's data, batch 50,
20 epochs). Ray's times include starting and stopping the local Ray; its start-up alone is printed too.
    python benchmarks/ray_grid.py
"""
from __future__ import annotations

import time

import torch

from wdlab.settings.config import SweepConfig
from wdlab.run.grid import groups
from wdlab.run.ray_backend import LOCAL, Ray
from wdlab.run.train import train

ARCHS = ((16,), (32,), (64,), (32, 32))
GRID = [SweepConfig(preset="tutorial", hidden=h, optimizers=(o,), lrs=(lr,), epochs=20, batch_size=50,
                    weight_decays=(0.0, 1e-3, 1e-2, 1e-1), seeds=(0, 1))
        for h in ARCHS for o in ("adam", "adamw") for lr in (1e-3, 3e-3, 1e-2, 3e-2)]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def startup(cpus: int) -> float:
    import ray
    t, _ = timed(lambda: ray.init(**LOCAL, num_cpus=cpus, logging_level="warning", log_to_driver=False))
    ray.shutdown()
    return t


def main() -> None:
    torch.set_num_threads(1)
    assert len(groups(GRID)) == 32
    here_s, here = timed(lambda: train(GRID))
    print(f"32 groups × 8 members ({len(here.frame)} rows), one thread per process:")
    print(f"  in-process, one after another   {here_s:6.1f} s")
    for cpus in (1, 2):
        up = startup(cpus)
        s, there = timed(lambda: train(GRID, backend=Ray(cpus=cpus)))
        same = there.frame.shape == here.frame.shape
        print(f"  Ray, {cpus} local CPU{'s' if cpus > 1 else ' '}            {s:6.1f} s   "
              f"in-process / Ray {here_s / s:4.2f}×   (Ray start-up alone {up:4.1f} s; same frame shape: {same})")


if __name__ == "__main__":
    main()
