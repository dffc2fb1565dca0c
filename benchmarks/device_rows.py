"""The GPU rows of the benchmarks (issue #25): the same members on `--device` (cuda where present) and on the
CPU, the time of each and their float64 max |diff| (rounding only: the engine draws every model and batch order
on the CPU). Where no such device is, one line says the rows are skipped and why."""
from __future__ import annotations

import time

import torch

from wdlab.engine.sweep import device_problem, run_sweep
from wdlab.settings.config import SweepConfig

WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
ROWS = {   # a small net (launch-bound) and a wide one (compute-bound); 24 members = 8 λ × 3 seeds each
    "course net 20-64-1, full batch, 200 ep": SweepConfig(
        preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=200, weight_decays=WDS,
        seeds=(0, 1, 2)),
    "course net width 1024, full batch, 30 ep": SweepConfig(
        preset="tutorial", hidden=(1024,), optimizers=("adam",), lrs=(0.001,), epochs=30, weight_decays=WDS,
        seeds=(0, 1, 2)),
}
COLUMNS = ("train_loss", "train_eval_loss", "val_loss", "l2_norm")


def chosen(device: str | None) -> tuple[str | None, str]:
    """(the device the GPU rows use, or None; why not). Default: cuda where torch sees one."""
    device = device or ("cuda" if torch.cuda.is_available() else None)
    if device is None:
        return None, device_problem("cuda") or "no CUDA device"
    if torch.device(device).type == "cpu":
        return None, "--device cpu asks for none"
    problem = device_problem(device)
    return (None, problem) if problem else (device, "")


def frame(cfg: SweepConfig, device: str):
    df = run_sweep(cfg, device=device).frame   # its rows come back to the CPU: the time includes the sync
    return df.sort_values(["optimizer", "lr", "weight_decay", "seed", "epoch"]).reset_index(drop=True)


def seconds(cfg: SweepConfig, device: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        frame(cfg, device)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def print_rows(device: str | None, repeats: int = 3, only: str | None = None) -> None:
    use, why = chosen(device)
    if use is None:
        print(f"GPU rows skipped: {why}")
        return
    name_of = torch.cuda.get_device_name(use) if torch.device(use).type == "cuda" else use
    print(f"GPU rows on {use} ({name_of}), median of {repeats}; CPU at {torch.get_num_threads()} thread(s):")
    for name, cfg in ROWS.items():
        if only and only not in name:
            continue
        frame(cfg, use)   # warm: kernels load on first use
        cpu, gpu = seconds(cfg, "cpu", repeats), seconds(cfg, use, repeats)
        f64 = cfg.replace(dtype="float64")
        a, b = frame(f64, "cpu"), frame(f64, use)
        diff = max(float((a[c] - b[c]).abs().max()) for c in COLUMNS)
        print(f"  {name:42s} CPU {cpu:7.2f} s  {use} {gpu:7.2f} s  {cpu / gpu:5.1f}x   float64 max|diff| {diff:.1e}",
              flush=True)
