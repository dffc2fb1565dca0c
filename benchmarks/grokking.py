"""Trains a modular-addition preset's default sweep and prints, per λ, when it memorised and when it grokked.

The sweep is the one `python -m wdlab run --preset modular-addition` runs (the preset's own defaults), on one
torch thread. Printed per member: the step training accuracy first passed 99 %, the step validation accuracy
first reached 90 % (the grok step), the delay between them, the best validation accuracy, ‖w‖₂ when training
accuracy first hit 100 % and at the end; then the sweep's wall time and CPU time (the machine is shared: CPU
time is what the sweep itself costs, wall time what a user waited), and whether the grokking criteria hold
(every λ > 0 groks ≥ --min-delay steps after memorising; λ = 0 stays < 50 %).
"""
from __future__ import annotations

import argparse
import sys
import time

import pandas as pd
import torch

from wdlab.settings.config import SweepConfig, preset_defaults
from wdlab.frame.grokking import criteria, events
from wdlab.engine.sweep import run_sweep


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="modular-addition")
    parser.add_argument("--seeds", type=int, nargs="*", help="override the preset's seeds (robustness check)")
    parser.add_argument("--min-delay", type=int, default=300, help="'several hundred steps' (default 300)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    defaults = preset_defaults(args.preset)
    if not defaults:
        parser.error(f"preset {args.preset!r} has no grokking defaults")
    cfg = SweepConfig(preset=args.preset, **defaults)
    if args.seeds:
        cfg = cfg.replace(seeds=tuple(args.seeds))
    start, cpu = time.perf_counter(), time.process_time()
    result = run_sweep(cfg)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    ev = events(result.frame)
    print(f"{args.preset}: hidden {cfg.hidden} {cfg.activation}, {cfg.optimizer} lr {cfg.lr:g}, {cfg.epochs} "
          f"full-batch steps, {len(cfg.members)} members")
    print(f"{'λ':>6} {'seed':>4} {'train≥99%':>9} {'val≥90%':>8} {'delay':>6} {'best val':>8} "
          f"{'‖w‖ fitted':>10} {'‖w‖ end':>8}")
    for r in ev.itertuples():
        fmt = lambda v: "never" if pd.isna(v) else str(int(v))  # noqa: E731
        print(f"{r.weight_decay:>6g} {r.seed:>4} {fmt(r.memorised):>9} {fmt(r.grokked):>8} {fmt(r.delay):>6} "
              f"{r.val_acc_max:>8.3f} {r.norm_fitted:>10.2f} {r.norm_final:>8.2f}")
    print(f"engine {result.seconds:.1f} s wall, {cpu:.1f} s CPU ({cpu / cfg.epochs * 1000:.1f} ms CPU per step for "
          f"all {len(cfg.members)} members; wall > CPU: other processes shared the cores)")
    problems = criteria(ev, args.min_delay)
    print("criteria met" if not problems else "criteria NOT met:\n  " + "\n  ".join(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
