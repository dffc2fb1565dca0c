"""Prints wdlab.engine.budget's estimates against measurements: peak memory and time of sweeps of many shapes.

Each shape runs in a fresh subprocess on one torch thread: after imports, its data and a warm-up, the peak-RSS
mark is reset (/proc/self/clear_refs) and the baseline RSS read; the sweep then runs and its peak is VmHWM minus
that baseline. The table prints estimate / measured for both (targets: memory within 1.5×, time within 2×).
--fit measures a separate calibration set and prints the least-squares COST constants for wdlab/budget.py.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from wdlab.engine.budget import (COST, PAGE_SECONDS, Shape, activation_cost, estimate, peak_bytes, seconds, shape_of,
                                 work_units)
from wdlab.settings.config import SweepConfig

WD8 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0)
# (label, SweepConfig keywords, CSV (rows, features, task) or None, knobs: None = one chunk, "plan:MB" = as
# budget.estimate plans it for that per-sweep budget)
TABLE = [
    ("tutorial default, full batch", dict(preset="tutorial", epochs=100), None, None),
    ("tutorial 256,1,256 gelu f64 val 0.5", dict(preset="tutorial", hidden=(256, 1, 256), activation="gelu",
     dtype="float64", val_fraction=0.5, epochs=20, weight_decays=WD8, seeds=(0, 1, 2)), None, None),
    ("digits 256×3 f64 full batch", dict(preset="digits", hidden=(256, 256, 256), dtype="float64", epochs=5,
     weight_decays=WD8, seeds=(0, 1, 2)), None, None),
    ("digits 256×3 f64, planned for 150 MB", dict(preset="digits", hidden=(256, 256, 256), dtype="float64",
     epochs=5, weight_decays=WD8, seeds=(0, 1, 2)), None, "plan:150"),
    ("digits 128, batch 64", dict(preset="digits", hidden=(128,), batch_size=64, epochs=5,
     weight_decays=WD8[:4], seeds=(0, 1, 2)), None, None),
    ("moons 64,64 adamw batch 32", dict(preset="moons", hidden=(64, 64), optimizers=("adamw",), batch_size=32,
     epochs=20, weight_decays=WD8[:4], seeds=(0, 1, 2)), None, None),
    ("spirals 256,256 tanh full", dict(preset="spirals", hidden=(256, 256), activation="tanh", epochs=50,
     weight_decays=WD8, seeds=(0, 1, 2)), None, None),
    ("highdim linear, 24 members", dict(preset="highdim-linear", hidden=(), epochs=200, weight_decays=WD8,
     seeds=(0, 1, 2)), None, None),
    ("breast-cancer 32 sgd+momentum b16", dict(preset="breast-cancer", hidden=(32,), optimizers=("sgd",),
     momentum=0.9, lrs=(0.01,), batch_size=16, epochs=10, weight_decays=WD8[:4], seeds=(0, 1)), None, None),
    ("diabetes 128,128 f64 full", dict(preset="diabetes", hidden=(128, 128), dtype="float64", epochs=100,
     weight_decays=WD8), None, None),
    ("wide CSV 2000×620, hidden 16", dict(preset="csv", hidden=(16,), epochs=10, weight_decays=WD8,
     seeds=(0, 1, 2)), (2000, 620, "regression"), None),
    ("tall CSV 100k×4, 256, batch 1000", dict(preset="csv", hidden=(256,), batch_size=1000, epochs=1,
     weight_decays=WD8, seeds=(0, 1, 2)), (100_000, 4, "regression"), None),
    ("tall CSV 100k×4, planned for 150 MB", dict(preset="csv", hidden=(256,), batch_size=1000, epochs=1,
     weight_decays=WD8, seeds=(0, 1, 2)), (100_000, 4, "regression"), "plan:150"),
    ("CSV 20k×10 classes, 64 full", dict(preset="csv", hidden=(64,), epochs=5, weight_decays=WD8[:4],
     seeds=(0, 1)), (20_000, 10, "classification"), None),
]
CALIBRATION = [
    (f"cal {i}", kw, csv, None) for i, (kw, csv) in enumerate([
        (dict(preset="tutorial", hidden=(64,), epochs=200, weight_decays=WD8[:2]), None),
        (dict(preset="tutorial", hidden=(256, 256), epochs=20, weight_decays=WD8, seeds=(0, 1)), None),
        (dict(preset="tutorial", hidden=(256, 256), epochs=20, weight_decays=WD8, dtype="float64"), None),
        (dict(preset="tutorial", hidden=(128,), activation="gelu", epochs=30, weight_decays=WD8), None),
        (dict(preset="tutorial", hidden=(128,), activation="gelu", epochs=30, weight_decays=WD8,
              dtype="float64"), None),
        (dict(preset="tutorial", hidden=(128, 128), activation="tanh", epochs=30, weight_decays=WD8), None),
        (dict(preset="tutorial", hidden=(128, 128), activation="tanh", epochs=20, weight_decays=WD8,
              dtype="float64"), None),
        (dict(preset="tutorial", hidden=(32,), batch_size=10, epochs=3, weight_decays=WD8[:4]), None),
        (dict(preset="tutorial", hidden=(32,), batch_size=10, epochs=3, weight_decays=WD8[:4], optimizers=("sgd",),
              dtype="float64"), None),
        (dict(preset="digits", hidden=(256,), batch_size=128, epochs=3, weight_decays=WD8), None),
        (dict(preset="digits", hidden=(256,), batch_size=128, epochs=3, weight_decays=WD8, dtype="float64"), None),
        (dict(preset="moons", hidden=(16,), batch_size=8, epochs=10, weight_decays=WD8[:2]), None),
        (dict(preset="moons", hidden=(512, 512), epochs=30, weight_decays=WD8[:4], optimizers=("adamw",)), None),
        (dict(preset="highdim-linear", hidden=(1024,), epochs=100, weight_decays=WD8), None),
        (dict(preset="csv", hidden=(64,), epochs=5, weight_decays=WD8), (20_000, 30, "regression")),
        (dict(preset="csv", hidden=(64,), epochs=5, weight_decays=WD8, dtype="float64"), (20_000, 30, "regression")),
        (dict(preset="csv", hidden=(8,), epochs=20, weight_decays=WD8, activation="gelu"), (2000, 500, "regression")),
        (dict(preset="csv", hidden=(128,), batch_size=500, epochs=2, weight_decays=WD8[:4],
              activation="tanh"), (20_000, 10, "classification")),
    ])]


def _status(key: str) -> int:
    return int(re.search(key + r":\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024


def make_data(rows: int, features: int, task: str, val_fraction: float | None = None):
    """A CSV-sized Data without a file (its load is the caller's memory, not the sweep's)."""
    import torch
    from wdlab.registry.datasets import Data
    g = torch.Generator().manual_seed(0)
    n_val = max(1, round(rows * (0.2 if val_fraction is None else val_fraction)))
    X = torch.randn(rows, features, generator=g)
    if task == "classification":
        y = torch.randint(0, 3, (rows,), generator=g)
        return Data(X[n_val:], y[n_val:], X[:n_val], y[:n_val], task, 3)
    y = torch.randn(rows, 1, generator=g)
    return Data(X[n_val:], y[n_val:], X[:n_val], y[:n_val], task)


def knobs(cfg: SweepConfig, data, plan) -> tuple[int | None, int | None]:
    if plan is None:
        return None, None
    est = estimate(cfg, data, budget_bytes=float(plan.split(":")[1]) * 1e6)
    return est.max_chunk_members, est.val_block_rows


def measured(cfg: SweepConfig, data=None, **knobs) -> dict:
    """In this (fresh) process: train cfg with run_sweep's `knobs`, after a warm-up; its wall and CPU seconds,
    its peak memory above the baseline and its status."""
    import torch
    torch.set_num_threads(1)
    from wdlab.registry.datasets import DATASETS
    from wdlab.heap import give_back
    from wdlab.engine.sweep import run_sweep
    if data is None:
        DATASETS[cfg.preset].make(0, cfg.val_fraction)  # loads sklearn etc. before the baseline
    run_sweep(cfg.replace(epochs=1, weight_decays=(0.0,), seeds=(0,), hidden=(2,)), data=data)  # warm-up
    give_back()  # the free heap glibc keeps for reuse (memory.TRIM_THRESHOLD) is no part of the baseline
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    base = _status("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_sweep(cfg, data=data, **knobs)   # run_sweep validates nothing: the knobs are the caller's
    return {"wall": time.perf_counter() - t0, "seconds": time.process_time() - c0, "peak": _status("VmHWM") - base,
            "status": result.status}


def run_one(spec: dict) -> dict:
    """One row of the table: the sweep measured with the row's own knobs (the table neither refuses nor plans)."""
    cfg = SweepConfig(**spec["cfg"])
    chunk, block = spec["knobs"]
    return measured(cfg, make_data(*spec["csv"]) if spec["csv"] else None, max_chunk_members=chunk,
                    val_block_rows=block)


def measure(rows: list) -> list[dict]:
    out = []
    for label, kw, csv, plan in rows:
        cfg = SweepConfig(**kw)
        shape = Shape(*_csv_shape(csv)) if csv else shape_of(cfg)
        chunk, block = knobs(cfg, shape, plan)
        spec = {"cfg": {k: v for k, v in kw.items()}, "csv": csv, "knobs": [chunk, block]}
        proc = subprocess.run([sys.executable, "-m", "benchmarks.budget_table", "--one", json.dumps(spec)], capture_output=True, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=ROOT, timeout=900)
        if proc.returncode:
            raise SystemExit(f"{label}: {proc.stderr[-2000:]}")
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        out.append(dict(label=label, cfg=cfg, shape=shape, chunk=chunk, block=block, **got,
                        est_bytes=peak_bytes(cfg, shape, chunk, block), est_s=seconds(cfg, shape, chunk, block)))
        print(f"  measured {label}: {got['peak'] / 1e6:.1f} MB, {got['seconds']:.2f} s CPU, {got['wall']:.2f} s wall",
              file=sys.stderr)
    return out


def _csv_shape(csv):
    rows, features, task = csv
    n_val = max(1, round(rows * 0.2))
    return rows - n_val, n_val, features, 3 if task == "classification" else 1, task, False, 0


def table(results: list[dict]) -> None:
    print("| shape | members | knobs (groups of, val block) | memory est. / measured | ratio | time est. / CPU"
          " | ratio | wall |")
    print("|---|---|---|---|---|---|---|---|")
    worst_m = worst_t = 1.0
    for r in results:
        mr, tr = r["est_bytes"] / max(r["peak"], 1), r["est_s"] / r["seconds"]
        worst_m, worst_t = max(worst_m, mr, 1 / mr), max(worst_t, tr, 1 / tr)
        kn = f"{r['chunk'] or 'all'}, {r['block'] or 'none'}"
        print(f"| {r['label']} | {len(r['cfg'].members)} | {kn} | {r['est_bytes'] / 1e6:.1f} / "
              f"{r['peak'] / 1e6:.1f} MB | {mr:.2f} | {r['est_s']:.2f} / {r['seconds']:.2f} s | {tr:.2f} | "
              f"{r['wall']:.2f} s |")
    print(f"\nworst factor: memory {worst_m:.2f}× (target ≤ 1.5×), time {worst_t:.2f}× (target ≤ 2×); time is the "
          "sweep's CPU seconds on its one thread (its wall time on a free core); wall time is as measured under "
          f"the load below. Load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def fit(results: list[dict]) -> None:
    """Least squares (relative error, non-negative) of the op, mac, elem and opt costs per precision; the
    activations' and a row's costs are held at COST's micro-benchmarked values and subtracted first (fitted
    too, 18 sweeps cannot tell an activation from an elementwise pass: they came out 0 or 70× off)."""
    import numpy as np
    from scipy.optimize import nnls
    rows, ts = [], []
    for r in results:
        u = work_units(r["cfg"], r["shape"], r["chunk"], r["block"])
        dt, act = r["cfg"].dtype, r["cfg"].activation
        known = u["act"] * activation_cost(act, dt) + u["row"] * COST["row"] + u["loss"] * COST["loss"] + \
            u["step"] * COST["step"] + u["epoch"] * COST["epoch"] + \
            peak_bytes(r["cfg"], r["shape"], r["chunk"], r["block"]) * PAGE_SECONDS
        rows.append({"op": u["op"], f"mac.{dt}": u["mac"], f"elem.{dt}": u["elem"], f"opt.{dt}": u["opt"]})
        ts.append((r["seconds"], max(r["seconds"] - known, 0.0)))
    names = sorted({k for f in rows for k in f})
    A = np.array([[f.get(k, 0.0) / t for k in names] for f, (t, _) in zip(rows, ts)])  # relative error
    x, _ = nnls(A, np.array([rest / t for t, rest in ts]))
    for k, v in zip(names, x):
        print(f"{k}: {v:.3g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--fit", action="store_true", help="measure the calibration set and print COST constants")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    load = os.getloadavg()
    print(f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores; "
          f"one torch thread; COST op {COST['op']:.2g}")
    if args.fit:
        fit(measure(CALIBRATION))
        return
    table(measure(TABLE))


if __name__ == "__main__":
    main()
