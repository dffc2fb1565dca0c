"""Whole processes, as a user meets them: `wdlab run` of a 24-member sweep against the same sweep written as the
plain per-model loop (one nn.Sequential and one torch.optim optimizer per member, run one after another:
wdlab.reference.course_run, the course's loop without the laws' per-step measurements).

Both are fresh Python processes on one torch thread and pay their own imports; both compute the same numbers
per epoch (train loss, val loss, ‖w‖). Prints each side's median wall time and the ratio.
    python benchmarks/process_speed.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent   # the checkout (tests/support.py's ROOT: not on a benchmark's path)

WDS = ("0", "1e-4", "3e-4", "1e-3", "3e-3", "1e-2", "3e-2", "1e-1")   # 8 λ × 3 seeds = 24 members
FLAGS = ["--preset", "tutorial", "--batch-size", "50", "--epochs", "50", "--optimizer", "adam", "--lr", "0.01",
         "--wd", *WDS, "--seeds", "0", "1", "2"]
PLAIN = f"""
import torch
torch.set_num_threads(1)
from wdlab.settings.config import SweepConfig
from wdlab.reference import course_run
cfg = SweepConfig(preset="tutorial", batch_size=50, epochs=50, optimizers=("adam",), lrs=(0.01,),
                  weight_decays=({', '.join(WDS)},), seeds=(0, 1, 2))
for m in cfg.members:
    course_run(cfg, m)
"""


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, OMP_NUM_THREADS="1"))
    return time.perf_counter() - start


def measure(repeat: int = 5) -> tuple[float, float]:
    """(median s of the plain loop's process, median s of `wdlab run`'s), alternating runs."""
    plain, cli = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sweep.csv")
        for _ in range(repeat):
            plain.append(timed([sys.executable, "-c", PLAIN]))
            cli.append(timed([sys.executable, "-m", "wdlab", "run", *FLAGS, "--quiet", "--out", out]))
    return statistics.median(plain), statistics.median(cli)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plain, cli = measure(args.repeat)
    print("whole process, 24 members (tutorial, batch 50, 50 epochs, Adam, 8 λ × 3 seeds), one thread:")
    print(f"  plain per-model loop {plain:6.2f} s   wdlab run {cli:6.2f} s   ratio {plain / cli:4.1f}×  (target ≥ 4×)")


if __name__ == "__main__":
    main()
