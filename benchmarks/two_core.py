"""Two-core mode against one core: the same 24-member sweep trained in this process (one torch thread) and split
across 2 worker processes (one thread each), on the machine as it is and while a CPU-bound hog process runs.

Prints, in one run, each side's median wall time, the ratio (targets: ≥ 1.7× on an idle machine, ≥ 1.0× beside
the hog) and /proc/loadavg before each phase. `--workers 2` (run.workers.Workers) measures the CPUs other work keeps busy
and may choose one worker (the count printed); beside the hog, exactly 2 workers are timed too (the machine is
shared: "idle" is whatever it is at the time).
The ceiling line is what two free cores could give at best, from CPU times (immune to the load). The warm
figures start the workers from a fork server already running (as a second sweep in the app or a
benchmark would); the cold line adds that server's start (one `import torch`), as one `wdlab run --workers 2`
process pays it, and compares whole `wdlab run` processes.
    PYTHONPATH=. python benchmarks/two_core.py [--repeats 3] [--only course] [--no-hog] [--no-cli]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

WDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)   # 8 λ × 3 seeds = 24 members
SEEDS = (0, 1, 2)


def workloads():
    """name -> (config, `wdlab run` flags or None, data or None): two small nets (per-step costs dominate: each
    worker repeats them) and two of sweep_speed.py's compute-bound ones (its data; no CLI run)."""
    from wdlab.settings.config import SweepConfig
    try:
        import sweep_speed
    except ImportError:
        from benchmarks import sweep_speed
    big = {name: (cfg, None, make()) for name, (cfg, make) in sweep_speed.WORKLOADS.items()
           if name.startswith(("regressor", "classifier"))}
    return {
        "course net 20-64-1, batch 50, 100 ep, adam": (SweepConfig(
            preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=100, batch_size=50,
            weight_decays=WDS, seeds=SEEDS), ["--preset", "tutorial", "--hidden", "64", "--optimizer", "adam",
                                              "--lr", "0.01", "--epochs", "100", "--batch-size", "50"], None),
        "digits 64-128-10, batch 64, 40 ep, adamw": (SweepConfig(
            preset="digits", hidden=(128,), optimizers=("adamw",), lrs=(0.001,), epochs=40, batch_size=64,
            weight_decays=WDS, seeds=SEEDS), ["--preset", "digits", "--hidden", "128", "--optimizer", "adamw",
                                              "--lr", "0.001", "--epochs", "40", "--batch-size", "64"], None),
        **big,
    }


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def compare(cfg, repeats: int, data=None, forced: bool = False):
    """(median s in process on one thread, median s of `--workers 2` (Workers(adapt=True): measures the busy
    CPUs and may choose 1 worker), the workers it chose, and with forced: median s of exactly 2 workers), runs
    interleaved so load changes hit every side."""
    from wdlab.run.train import train
    from wdlab.run.workers import Workers
    one, two, exact, used = [], [], [], []

    def adaptive():
        r = train([cfg], backend=Workers(2, adapt=True), data=data)
        used.append(1 if r.note.startswith("1 worker") else 2)
    for _ in range(repeats):
        one.append(timed(lambda: train([cfg], data=data)))
        two.append(timed(adaptive))
        if forced:
            exact.append(timed(lambda: train([cfg], backend=Workers(2), data=data)))
    return (statistics.median(one), statistics.median(two), "/".join(map(str, used)),
            statistics.median(exact) if forced else None)


def ceiling(cfg, data=None) -> float:
    """What 2 free cores could give: the whole sweep's CPU seconds over the costlier worker share's, each trained
    here on one thread (the shares repeat every step's fixed overhead, so this is below 2)."""
    from wdlab.engine.sweep import run_sweep
    from wdlab.run.workers import member_costs, split

    def cpu(**kw):
        t = time.process_time()
        run_sweep(cfg, data=data, **kw)
        return time.process_time() - t
    shares = [share[0].members for share in split([member_costs(cfg, data)], 2)]
    return cpu() / max(cpu(members=m) for m in shares)


def cli_times(flags: list[str]) -> tuple[float, float]:
    """Whole `wdlab run` processes (imports, fork server and all): one core, then --workers 2."""
    from support import ROOT
    base = [sys.executable, "-m", "wdlab", "run", *flags, "--wd", *map(str, WDS), "--seeds", *map(str, SEEDS),
            "--quiet"]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for extra in ([], ["--workers", "2"]):
            argv = base + extra + ["--out", os.path.join(tmp, "sweep.csv")]
            out.append(timed(lambda: subprocess.run(argv, cwd=ROOT, check=True,
                                                    env=dict(os.environ, OMP_NUM_THREADS="1"))))
    return out[0], out[1]


def run(repeats: int = 3, only: str | None = None, hog: bool = True, cli: bool = True) -> None:
    import torch

    from wdlab.engine.sweep import run_sweep
    from wdlab.run.train import train
    from wdlab.run.workers import Workers, cpus, prestart
    torch.set_num_threads(1)
    print(f"two-core mode: {cpus()} CPUs, one torch thread per process, median of {repeats}")
    cold_cfg = next(iter(workloads().values()))[0].replace(epochs=1)
    prestart()
    cold = timed(lambda: train([cold_cfg], backend=Workers(2)))   # starts the fork server: paid once per process
    run_sweep(cold_cfg)                                         # this process warm too
    print(f"  fork server start + first 2 workers (1-epoch sweep): {cold:.2f} s; later starts reuse the server")
    for name, (cfg, flags, data) in workloads().items():
        if only and only not in name:
            continue
        print(f"{name} (24 members = 8 λ × 3 seeds)")
        before = loadavg()
        one, two, used, _ = compare(cfg, repeats, data)
        print(f"  machine as it is (load {before}):   1 core {one:6.2f} s   --workers 2 {two:6.2f} s "
              f"(chose {used})   {one / two:4.2f}×  (target ≥ 1.7× idle)", flush=True)
        print("  ceiling on 2 free cores (CPU-s of the whole sweep / of the costlier half): "
              f"{ceiling(cfg, data):4.2f}×",
              flush=True)
        if hog:
            from support import busy_loop
            with busy_loop():   # one CPU-bound process beside the sweep
                time.sleep(1)   # let the scheduler see it
                before = loadavg()
                one, two, used, exact = compare(cfg, repeats, data, forced=True)
            print(f"  beside a busy-loop hog (load {before}): 1 core {one:6.2f} s   --workers 2 {two:6.2f} s "
                  f"(chose {used})   {one / two:4.2f}×  (target ≥ 1.0×);   exactly 2 workers {exact:6.2f} s   "
                  f"{one / exact:4.2f}×", flush=True)
        if cli and flags:
            before = loadavg()
            one, two = cli_times(flags)
            print(f"  whole processes, cold (load {before}): wdlab run {one:6.2f} s   --workers 2 {two:6.2f} s   "
                  f"{one / two:4.2f}×", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", help="run only workloads whose name contains this text")
    ap.add_argument("--no-hog", action="store_true", help="skip the runs beside a busy-loop process")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process runs")
    args = ap.parse_args()
    run(args.repeats, args.only, not args.no_hog, not args.no_cli)


if __name__ == "__main__":
    main()
