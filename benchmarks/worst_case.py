"""Finds the largest sweeps the demo accepts (by wdlab.engine.budget's estimate), then trains them and prints their time.

Searches presets and table shapes × hidden layouts × activation × precision × batch × validation split, each at
the most epochs the demo's limits allow, for the longest and the most memory-hungry sweep; `--run` trains each
in a fresh subprocess on one torch thread (as the app does: through run_sweep with the demo limits, in chunks if
planned) and prints wall and CPU seconds and peak memory. The target: the worst finishes within 15 s.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from wdlab.engine.budget import Shape, plan, shape_of, validate
from wdlab.settings.config import DEMO_LIMITS, SweepConfig
from wdlab.errors import ConfigError

WD8 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0)
HIDDEN = [(), (64,), (256,), (256, 256), (256, 256, 256), (256, 1, 256), (1, 256, 256), (256, 256, 1), (128, 128)]
# (rows, features, task) of tables within the demo's upload limits (2 MB, 500,000 cells)
TABLES = [(100_000, 4, "regression"), (50_000, 10, "regression"), (2_000, 250, "regression"),
          (10_000, 50, "classification")]


def table_shape(rows: int, features: int, task: str, vf: float | None) -> Shape:
    n_val = max(1, round(rows * (0.2 if vf is None else vf)))
    return Shape(rows - n_val, n_val, features, 3 if task == "classification" else 1, task, False, 0)


def most_epochs(cfg: SweepConfig, shape) -> SweepConfig | None:
    """cfg at the most epochs (≤ the demo's) that the demo accepts, or None."""
    lo, hi = 0, DEMO_LIMITS.max_epochs
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            validate(cfg.replace(epochs=mid), DEMO_LIMITS, shape)
            lo = mid
        except ConfigError:
            hi = mid - 1
    return cfg.replace(epochs=lo) if lo else None


def candidates(presets_only: bool = False):
    for preset, hidden, act, dtype, batch, vf, opt in itertools.product(
            ["tutorial", "highdim-linear", "moons", "spirals", "digits", "diabetes", "breast-cancer", "csv"],
            HIDDEN, ("relu", "gelu"), ("float32", "float64"), (None, 1000, 128, 32), (None, 0.5), ("adam", "sgd")):
        if presets_only and preset == "csv":
            continue
        cfg = SweepConfig(preset=preset, hidden=hidden, activation=act, dtype=dtype, batch_size=batch,
                          val_fraction=vf, optimizers=(opt,), weight_decays=WD8, seeds=(0, 1, 2))
        for table in (TABLES if preset == "csv" else [None]):
            shape = table_shape(*table, vf) if table else shape_of(cfg)
            yield cfg, shape, table


def search(presets_only: bool = False):
    """(longest, most memory): each (config at its most epochs, table or None, estimate)."""
    worst_t = worst_m = None
    for cfg, shape, table in candidates(presets_only):
        try:
            validate(cfg.replace(epochs=1), DEMO_LIMITS, shape)
        except ConfigError:
            continue
        best = most_epochs(cfg, shape)
        if best is None:
            continue
        est = plan(best, DEMO_LIMITS, shape)
        if worst_t is None or est.seconds > worst_t[2].seconds:
            worst_t = (best, table, est)
        if worst_m is None or est.bytes > worst_m[2].bytes:
            worst_m = (best, table, est)
    return worst_t, worst_m


def run(cfg: SweepConfig, table) -> dict:
    spec = json.dumps({"cfg": {**cfg.__dict__}, "table": table})
    proc = subprocess.run([sys.executable, "-m", "benchmarks.worst_case", "--one", spec], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=600)
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one(spec: dict) -> dict:
    """In this (fresh) process: the sweep trained as the app trains it — in chunks near the budget, with the
    snapshots its jobs keep — its time and peak memory."""
    from benchmarks.budget_table import make_data, measured
    from wdlab.engine import snapshots
    cfg = SweepConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec["cfg"].items()})
    data = make_data(*spec["table"], cfg.val_fraction) if spec["table"] else None
    est = validate(cfg, DEMO_LIMITS, data)
    out = measured(cfg, data, **est.knobs(), snapshots=snapshots.for_sweep(cfg, DEMO_LIMITS.max_sweep_mb, est.bytes,
                                                                           data))
    out["cpu"] = out.pop("seconds")
    return out


def link(cfg: SweepConfig) -> str:
    from wdlab.settings.params import to_query
    return "?" + "&".join(f"{k}={v}" for k, v in to_query(cfg).items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--run", action="store_true", help="train the worst sweeps found and print their time")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    worst_t, worst_m = search()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores; demo limits: "
          f"{DEMO_LIMITS.max_sweep_mb:g} MB and {DEMO_LIMITS.max_seconds:g} s per sweep (estimated)")
    for what, (cfg, table, est) in (("longest", worst_t), ("most memory", worst_m)):
        on = f"a {table[0]:,} × {table[1]} {table[2]} table" if table else cfg.preset
        print(f"\n{what}: {on}, {link(cfg)}\n  estimate: {est.describe()} ({est.mb:.0f} MB, {est.seconds:.1f} s; "
              f"groups of {est.max_chunk_members or 'all'}, validation blocks of {est.val_block_rows or 'all'} rows)")
        if args.run:
            got = run(cfg, table)
            print(f"  measured: {got['wall']:.1f} s wall ({got['cpu']:.1f} s CPU), peak {got['peak'] / 1e6:.0f} MB "
                  f"above the process; {got['status']}; target: within 15 s")


if __name__ == "__main__":
    main()
