"""Times the plain loop (one model + one torch.optim optimizer per member) against the engine; prints ratios.

Both sides train the same 24 members (8 λ × 3 seeds) and compute the same numbers each epoch (train loss,
val loss, ‖w‖). The max |diff| columns compare their results: in float32 (the timed runs; batched and
per-model matmuls round differently and long runs amplify it chaotically) and in float64 (one untimed run
each), where they agree to rounding.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from wdlab.config import SweepConfig
from wdlab.data import DATASETS
from wdlab.reference import reference_run
from wdlab.sweep import run_sweep

WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)   # 8 λ × 3 seeds = 24 members
SEEDS = (0, 1, 2)
WORKLOADS = {
    "tutorial, full batch, 200 epochs": SweepConfig(
        preset="tutorial", hidden=(64,), optimizer="adam", lr=0.01, epochs=200, weight_decays=WDS, seeds=SEEDS),
    "tutorial, batch 50, 100 epochs": SweepConfig(
        preset="tutorial", hidden=(64,), optimizer="sgd", momentum=0.9, lr=0.01, epochs=100, batch_size=50,
        weight_decays=WDS, seeds=SEEDS),
    "digits 64-128-10, batch 64, 40 epochs": SweepConfig(
        preset="digits", hidden=(128,), optimizer="adamw", lr=0.001, epochs=40, batch_size=64,
        weight_decays=WDS, seeds=SEEDS),
}


def plain_loop(cfg: SweepConfig, data) -> dict:
    """The course's way: for each (λ, seed) build a model under manual_seed(seed) and train it with torch.optim."""
    return {(w, s): reference_run(cfg, w, s, data=data) for w, s in cfg.members}


def engine(cfg: SweepConfig, data) -> dict:
    df = run_sweep(cfg, data=data).frame
    df = df[df.epoch > 0].sort_values(["weight_decay", "seed", "epoch"])
    return {key: {c: g[c].tolist() for c in ("train_loss", "val_loss", "l2_norm")}
            for key, g in df.groupby(["weight_decay", "seed"])}


def max_difference(a: dict, b: dict, epochs: int | None = None) -> float:
    worst = 0.0
    for key in a:
        for col in ("train_loss", "val_loss", "l2_norm"):
            # a diverged member would have fewer engine rows; compare the epochs both report
            pairs = list(zip(a[key][col], b[key][col]))[:epochs]
            worst = max([worst] + [abs(x - y) for x, y in pairs])
    return worst


def timed(fn, *args) -> tuple[float, dict]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per side; the median is printed")
    ap.add_argument("--only", help="run only workloads whose name contains this text")
    ap.add_argument("--no-float64", action="store_true", help="skip the untimed float64 agreement check")
    args = ap.parse_args()
    # The first torch.optim constructor imports torch._dynamo (~0.7 s): pay it before timing, as the app does.
    warm = SweepConfig(preset="tutorial", hidden=(8,), epochs=2, weight_decays=(0.0,), seeds=(0,))
    for opt in ("sgd", "adam", "adamw"):
        run_sweep(warm.replace(optimizer=opt))
        reference_run(warm.replace(optimizer=opt), 0.0, 0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"{'workload':40s} {'loop s':>8s} {'engine s':>9s} {'ratio':>7s} {'f32 ep1-5':>10s} {'f32 all':>9s} "
          f"{'f64 all':>9s}   (max |diff| of train_loss, val_loss, l2_norm)")
    for name, cfg in WORKLOADS.items():
        if args.only and args.only not in name:
            continue
        spec = DATASETS[cfg.preset]
        data = None if spec.per_seed else spec.make(0, cfg.val_fraction)
        loop_t, eng_t = [], []
        for _ in range(args.repeats):
            t, loop_out = timed(plain_loop, cfg, data)
            loop_t.append(t)
            t, eng_out = timed(engine, cfg, data)
            eng_t.append(t)
        lt, et = statistics.median(loop_t), statistics.median(eng_t)
        d64 = "-"
        if not args.no_float64:
            cfg64 = cfg.replace(dtype="float64")
            d64 = f"{max_difference(plain_loop(cfg64, data), engine(cfg64, data)):.1e}"
        early, every = max_difference(loop_out, eng_out, 5), max_difference(loop_out, eng_out)
        print(f"{name:40s} {lt:8.2f} {et:9.2f} {lt / et:6.1f}x {early:10.1e} {every:9.1e} {d64:>9s}", flush=True)


if __name__ == "__main__":
    main()
