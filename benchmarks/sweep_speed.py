"""The plain loop (one model + one torch.optim optimizer per member) against the engine, and the engine against
the machine: prints, in one run, each workload's times, ratio, and the engine's GFLOP/s as a fraction of a
one-thread sgemm measured in the same run; then a 4 lr × 6 λ grid as one stacked sweep against 4 sweeps.

Both sides train the same members and compute the same numbers each epoch (train loss, train-eval loss,
val loss, ‖w‖). The yardstick, "the plain loop", is `wdlab.reference.course_run`: the course's loop and nothing
more (no per-step rotation, no LambdaLR at a constant lr). `--faithful` also times `reference_run`, the tests'
plain loop with the laws' per-step measurements (the loop every ratio used before 6 December), and prints the
ratios against it in brackets. FLOPs ≈ 6 · params · samples seen · members (forward + backward), the count the targets use;
"+eval of" also counts the forward passes over the training and held-out sets each epoch. One torch thread.
`--check` adds an untimed float64 run of both sides and prints their max |diff| (rounding only).
Then two sections of their own modules: whole processes (`benchmarks/process_speed.py`: `wdlab run` against the
plain loop as fresh processes) and the two-core mode (`benchmarks/two_core.py`: 2 worker processes against one
core, idle and beside a CPU-bound hog); `--no-process` and `--no-two-core` skip them. Last, the GPU rows
(`benchmarks/device_rows.py`: members on `--device`, cuda where present, against the CPU, with a float64 check);
without a GPU one line says they are skipped and why.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from wdlab.engine.budget import count_params
from wdlab.settings.config import SweepConfig
from wdlab.registry.datasets import DATASETS, Data
from wdlab.reference import course_run, reference_run
from wdlab.engine.sweep import run_sweep

WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)   # 8 λ × 3 seeds = 24 members
SEEDS = (0, 1, 2)


def grokking_sized() -> Data:
    """194 inputs, 97 classes, 3,000 training rows (the size of a modular-arithmetic grokking task)."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(3600, 194, generator=g), torch.randint(0, 97, (3600,), generator=g)
    return Data(X[:3000], y[:3000], X[3000:], y[3000:], "classification", 97)


def regressor_data() -> Data:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1250, 20, generator=g)
    y = X[:, :1] * 0.5 + torch.randn(1250, 1, generator=g)
    return Data(X[:1000], y[:1000], X[1000:], y[1000:], "regression")


WORKLOADS = {
    "course net 20-64-1, full batch, 200 ep": (SweepConfig(
        preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=200, weight_decays=WDS, seeds=SEEDS),
        None),
    "tutorial, batch 50, 100 ep": (SweepConfig(
        preset="tutorial", hidden=(64,), optimizers=("sgd",), momentum=0.9, lrs=(0.01,), epochs=100, batch_size=50,
        weight_decays=WDS, seeds=SEEDS), None),
    "digits 64-128-10, batch 64, 40 ep": (SweepConfig(
        preset="digits", hidden=(128,), optimizers=("adamw",), lrs=(0.001,), epochs=40, batch_size=64,
        weight_decays=WDS, seeds=SEEDS), None),
    "regressor 20-256-256-1, batch 64, 10 ep": (SweepConfig(
        preset="csv", hidden=(256, 256), optimizers=("adam",), lrs=(0.001,), epochs=10, batch_size=64,
        weight_decays=WDS, seeds=SEEDS), regressor_data),
    "classifier 194-256-97, 3000 rows full, 30 ep": (SweepConfig(
        preset="csv", hidden=(256,), optimizers=("adamw",), lrs=(0.001,), epochs=30, weight_decays=WDS, seeds=SEEDS),
        grokking_sized),
    "course net width 1024, full batch, 30 ep": (SweepConfig(
        preset="tutorial", hidden=(1024,), optimizers=("adam",), lrs=(0.001,), epochs=30, weight_decays=WDS, seeds=SEEDS),
        None),
}


# Issue #12's targets per workload: (kind, value) — "ratio": ≥ value × the plain loop; "sgemm": ≥ value of the
# one-thread sgemm rate. Every workload also has "never slower than the plain loop" (ratio ≥ 1).
TARGETS = {
    "course net 20-64-1, full batch, 200 ep": ("ratio", 5.0),
    "tutorial, batch 50, 100 ep": ("ratio", 5.0),
    "digits 64-128-10, batch 64, 40 ep": ("ratio", 5.0),
    "regressor 20-256-256-1, batch 64, 10 ep": ("sgemm", 0.5),
    "classifier 194-256-97, 3000 rows full, 30 ep": ("sgemm", 0.5),
    "course net width 1024, full batch, 30 ep": ("ratio", 1.0),
}


# Issue #28: LayerNorm at the engine's speed. Each net with and without LayerNorm (AdamW, the course's data,
# 24 members), CPU seconds: the LayerNorm sweep ≤ 1.3× the same sweep without it, ≥ 8× the plain loop.
LAYERNORM = {
    "20-64-1, batch 50, 40 ep": dict(hidden=(64,), batch_size=50, epochs=40),
    "20-64-64-1, batch 32, 40 ep": dict(hidden=(64, 64), batch_size=32, epochs=40),
    "20-128-1, full batch, 100 ep": dict(hidden=(128,), batch_size=None, epochs=100),
}


def cpu_seconds(fn, *args, **kw) -> float:
    t = time.process_time()
    fn(*args, **kw)
    return time.process_time() - t


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def layernorm_rows(repeats: int, only: str | None, faithful: bool = False) -> None:
    """Engine and plain loop, with and without LayerNorm, in CPU seconds, and the LayerNorm engine without the
    laws' measurements: the five runs of each repeat one after another (a load change hits all five), medians;
    `faithful` adds reference_run's loop with LayerNorm."""
    print(f"LayerNorm (CPU s, median of {repeats}, interleaved; plain loop = course_run; {load()}):")
    for name, kw in LAYERNORM.items():
        if only and only not in name:
            continue
        cfgs = {norm: SweepConfig(preset="tutorial", optimizers=("adamw",), lrs=(0.01,), weight_decays=WDS,
                                  seeds=SEEDS, norm=norm, **kw) for norm in ("none", "layernorm")}
        sides = {"engine": engine, "loop": plain_loop, "bare": bare_engine}
        runs = {(side, norm): [] for side in sides for norm in cfgs if side != "bare" or norm == "layernorm"}
        if faithful:
            runs[("faithful", "layernorm")] = []
            sides["faithful"] = faithful_loop
        for _ in range(repeats):
            for (side, norm), times in runs.items():
                times.append(cpu_seconds(sides[side], cfgs[norm], None))
        (e0, e1, l0, l1) = (statistics.median(runs[k]) for k in
                            (("engine", "none"), ("engine", "layernorm"), ("loop", "none"), ("loop", "layernorm")))
        cost, ratio = e1 / e0, l1 / e1
        bare = statistics.median(runs[("bare", "layernorm")]) / e0
        print(f"  {name:30s} engine {e0:5.2f} → LN {e1:5.2f} s: {cost:4.2f}× (≤1.3×: "
              f"{'met' if cost <= 1.3 else 'NOT met'}; without the laws' rotation {bare:4.2f}×); loop {l0:5.2f} → LN {l1:5.2f} s; LN engine {ratio:4.1f}× "
              f"the loop (≥8×: {'met' if ratio >= 8 else 'NOT met'}); no-LN {l0 / e0:4.1f}×"
              + (f" [faithful loop LN {statistics.median(runs[('faithful', 'layernorm')]):5.2f} s: "
                 f"{statistics.median(runs[('faithful', 'layernorm')]) / e1:4.1f}×]" if faithful else "")
              + f"; {load()}", flush=True)


def target_line(name: str, loop_rate: float, eng_rate: float, peak: float) -> str:
    """The workload's target as a fraction of sgemm, and whether the engine met it (and never-slower)."""
    kind, value = TARGETS.get(name, ("ratio", 1.0))
    need = value * loop_rate if kind == "ratio" else value * peak
    label = f"≥{value:g}× loop" if kind == "ratio" else f"≥{value:.0%} sgemm"
    met = "met" if eng_rate >= need else "NOT met"
    slower = "" if eng_rate >= loop_rate else ", SLOWER than the loop"
    return f"{label} = {need / peak:4.0%} of sgemm: {met}{slower}"


def sgemm_gflops(n: int = 1024, reps: int = 20) -> float:
    """One-thread float32 matrix product rate (median of `reps`)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def plain_loop(cfg: SweepConfig, data) -> dict:
    """The course's way, the yardstick: for each member build a model under manual_seed(seed) and train it with
    torch.optim, recording the loss and ‖w‖ per epoch (course_run)."""
    return {m: course_run(cfg, m, data=data) for m in cfg.members}


def _laws_cost():
    """benchmarks/laws_cost.py, however this script was started."""
    try:
        import laws_cost  # run as benchmarks/sweep_speed.py
    except ImportError:
        from benchmarks import laws_cost  # run as python -m benchmarks.sweep_speed
    return laws_cost


def bare_engine(cfg: SweepConfig, data) -> dict:
    """The engine without the laws' measurements (the rotation every step, max |w|): a LayerNorm sweep's cost
    from LayerNorm itself, apart from what measuring the laws on its normalized layers adds."""
    laws_cost = _laws_cost()
    laws_cost._use(laws_cost.OFF)
    try:
        return engine(cfg, data)
    finally:
        laws_cost._use(laws_cost.ON)


def faithful_loop(cfg: SweepConfig, data) -> dict:
    """The tests' plain loop (reference_run): the same training plus the laws' per-step rotation, max |w| and
    effective lr, and a LambdaLR stepped every step."""
    return {m: reference_run(cfg, m, data=data) for m in cfg.members}


def engine(cfg: SweepConfig, data, **kw) -> dict:
    df = run_sweep(cfg, data=data, **kw).frame
    df = df[df.epoch > 0].sort_values(["optimizer", "lr", "weight_decay", "seed", "epoch"])
    cols = ("train_loss", "train_eval_loss", "val_loss", "l2_norm")
    return {tuple(key): {c: g[c].tolist() for c in cols}
            for key, g in df.groupby(["optimizer", "lr", "weight_decay", "seed"])}


def max_difference(a: dict, b: dict) -> float:
    return max(abs(x - y) for key in a for col in ("train_loss", "train_eval_loss", "val_loss", "l2_norm")
               for x, y in zip(a[key][col], b[tuple(key)][col]))


def timed(fn, *args, **kw) -> tuple[float, dict]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def flops(cfg: SweepConfig, data, evaluation: bool = False) -> float:
    """Training FLOPs (the issue's count: 6 · params · samples seen · members); with evaluation, plus the forward
    passes over the whole training and held-out sets each epoch (2 · params · rows) that both sides compute for
    train_eval_loss and val_loss."""
    spec = DATASETS[cfg.preset]
    if data is not None:
        n, nv, d_in, d_out = len(data.X_train), len(data.X_val), data.in_dim, data.out_dim
    else:
        (n, nv), d_in, d_out = spec.sizes(cfg.val_fraction), spec.in_dim, spec.out_dim
    per_epoch = 6.0 * n + (2.0 * (n + nv) if evaluation else 0.0)
    return count_params(d_in, cfg.hidden, d_out, cfg.norm) * per_epoch * cfg.epochs * len(cfg.members)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per side; the median is printed")
    ap.add_argument("--only", help="run only workloads whose name contains this text")
    ap.add_argument("--check", action="store_true", help="also compare both sides in float64 (untimed)")
    ap.add_argument("--faithful", action="store_true",
                    help="also time reference_run's loop (the tests' plain loop, with the laws' per-step measures)")
    ap.add_argument("--no-grid", action="store_true", help="skip the 4 lr × 6 λ grid")
    ap.add_argument("--no-layernorm", action="store_true", help="skip the LayerNorm rows (issue #28)")
    ap.add_argument("--no-laws", action="store_true", help="skip the laws measurements' cost (issue #28)")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process comparison")
    ap.add_argument("--no-two-core", action="store_true", help="skip the two-core mode (2 worker processes)")
    ap.add_argument("--device", help="the GPU rows' device (cuda, cuda:N, mps; default cuda where present; "
                                     "cpu skips them)")
    ap.add_argument("--backward", action="store_true",
                    help="only time the hand-written backward against autograd on the same stacked buffer")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warm = SweepConfig(preset="tutorial", hidden=(8,), epochs=2, weight_decays=(0.0,), seeds=(0,),
                       optimizers=("sgd", "adam", "adamw", "rmsprop"))
    run_sweep(warm)
    plain_loop(warm, None)
    peak = sgemm_gflops()
    print(f"torch {torch.__version__}, 1 thread, median of {args.repeats}; sgemm 1024³ float32: {peak:.0f} GFLOP/s")
    if args.backward:
        return backward_vs_autograd(args)
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; sgemm re-measured beside each workload; "
          "the plain loop (the yardstick) is reference.course_run" + ("; [faithful: reference_run]" if args.faithful else ""))
    print(f"{'workload (24 members = 8 λ × 3 seeds)':46s} {'loop s':>7s} {'engine s':>9s} {'ratio':>6s} "
          f"{'engine GFLOP/s':>15s} {'sgemm':>6s} {'loop of':>8s} {'engine of':>10s} {'+eval of':>9s}  "
          "target (of sgemm)"
          + ("   f64 max|diff|" if args.check else ""))
    for name, (cfg, make) in WORKLOADS.items():
        if args.only and args.only not in name:
            continue
        spec = DATASETS[cfg.preset]
        data = make() if make else (None if spec.per_seed else spec.make(0, cfg.val_fraction))
        loop_t, eng_t, peaks, faith_t = [], [], [], []
        for _ in range(args.repeats):   # interleaved: a load change on the shared machine hits both sides
            loop_t.append(timed(plain_loop, cfg, data)[0])
            if args.faithful:
                faith_t.append(timed(faithful_loop, cfg, data)[0])
            eng_t.append(timed(engine, cfg, data)[0])
            peaks.append(sgemm_gflops())
        lt, et, pk = statistics.median(loop_t), statistics.median(eng_t), statistics.median(peaks)
        rate, loop_rate = flops(cfg, data) / et / 1e9, flops(cfg, data) / lt / 1e9
        line = (f"{name:46s} {lt:7.2f} {et:9.2f} {lt / et:5.1f}x {rate:15.1f} {pk:6.0f} {loop_rate / pk:8.0%} "
                f"{rate / pk:10.0%} {flops(cfg, data, True) / et / 1e9 / pk:9.0%}  "
                f"{target_line(name, loop_rate, rate, pk)}")
        if args.faithful:
            line += f"   [faithful loop {statistics.median(faith_t):.2f} s: {statistics.median(faith_t) / et:.1f}x]"
        if args.check:
            cfg64 = cfg.replace(dtype="float64")
            line += f"   {max_difference(plain_loop(cfg64, data), engine(cfg64, data)):.1e}"
        print(f"{line}   {load()}", flush=True)
    print(f"load average after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.no_layernorm:
        layernorm_rows(args.repeats, args.only, args.faithful)
    if not args.no_laws:
        laws_cost = _laws_cost()
        print(f"laws measurements with and without (CPU s, median of {args.repeats}, interleaved; {load()}):")
        laws_cost.print_rows(laws_cost.measure(args.repeats, args.only))
    if not args.no_grid:
        grid = SweepConfig(preset="tutorial", hidden=(64,), optimizers=("adamw",), lrs=(1e-3, 3e-3, 1e-2, 3e-2),
                           epochs=200, weight_decays=(0.0, 1e-3, 1e-2, 0.1, 0.3, 1.0), seeds=(0,))
        one, many = [], []
        for _ in range(args.repeats):
            one.append(timed(run_sweep, grid)[0])
            many.append(timed(lambda: [run_sweep(grid.replace(lrs=(lr,))) for lr in grid.lrs])[0])
        o, m = statistics.median(one), statistics.median(many)
        print(f"4 lr × 6 λ grid, course net, 200 ep: one stacked sweep {o:.2f} s, 4 sweeps {m:.2f} s: {m / o:.1f}x")
    if not args.no_process:
        try:
            import process_speed  # run as benchmarks/sweep_speed.py
        except ImportError:
            from benchmarks import process_speed  # run as python -m benchmarks.sweep_speed
        plain, cli = process_speed.measure(args.repeats)
        print(f"whole process, 24 members (process_speed.py): plain loop {plain:.2f} s, wdlab run {cli:.2f} s: "
              f"{plain / cli:.1f}x (target ≥ 4x)", flush=True)
    if not args.no_two_core:
        try:
            import two_core
        except ImportError:
            from benchmarks import two_core
        two_core.run(args.repeats, args.only)
    try:
        import device_rows
    except ImportError:
        from benchmarks import device_rows
    device_rows.print_rows(args.device, args.repeats, args.only)


def backward_vs_autograd(args) -> None:
    """The engine with its hand-written backward, and with autograd through the same views of the same buffer."""
    import functools

    import wdlab.engine.stack
    from wdlab.engine.net import StackedNet
    print(f"{'workload':46s} {'hand s':>7s} {'autograd s':>10s} {'hand buys':>9s}")
    for name, (cfg, make) in WORKLOADS.items():
        if args.only and args.only not in name:
            continue
        spec = DATASETS[cfg.preset]
        data = make() if make else (None if spec.per_seed else spec.make(0, cfg.val_fraction))
        hand, auto = [], []
        for _ in range(args.repeats):
            hand.append(timed(run_sweep, cfg, data=data)[0])
            wdlab.engine.stack.StackedNet = functools.partial(StackedNet, autograd=True)
            try:
                auto.append(timed(run_sweep, cfg, data=data)[0])
            finally:
                wdlab.engine.stack.StackedNet = StackedNet
        h, a = statistics.median(hand), statistics.median(auto)
        print(f"{name:46s} {h:7.2f} {a:10.2f} {a / h:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
