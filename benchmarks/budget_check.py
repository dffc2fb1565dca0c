"""Do the demo's budgets hold? Each accepted link of benchmarks/budget_links.txt trained the way the app trains it,
its real CPU time and peak memory against wdlab.engine.budget's estimate (target: within 1.5× both ways).

    python -m benchmarks.budget_check              # measure every link, print the table and the worst factors
    python -m benchmarks.budget_check --list       # the links and their estimates, nothing trained
    python -m benchmarks.budget_check --only digits --save /tmp/m.json   # links whose label holds "digits"
    python -m benchmarks.budget_check --load /tmp/m.json                 # re-read saved measurements (a refit)

Each link runs in a fresh process on one torch thread through the app's job path (run.jobs.JobManager: prepare,
the memory plan and parameter snapshots, train on a worker thread, the frame). An upload is a generated CSV of the
link's shape read by the upload path (data.tables.load_csv) before the measurement: the visitor's table is its
session's memory (budget.SESSION_MB), not the sweep's.
Time: the process's CPU seconds from submit to done (user + system of every thread: what the sweep costs a core,
which load changes less than wall time). Memory: the growth of the process's resident set (VmHWM after the job
minus VmRSS before it, the high-water mark reset after a warm-up job): what the server's memory plan
(budget.memory_plan, Limits.max_sweep_mb) protects. Its estimate is the sweep's (budget.plan) plus the snapshots
the job plans within the same budget.
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
LINKS = Path(__file__).with_name("budget_links.txt")
TARGET = 1.5
FIT_SLACK = 1.03   # --fit: how far above the smallest worst factor the costs may stay nearer today's


def links(path: Path = LINKS) -> list[dict]:
    """The data file's links: label, query (a dict as the app reads it) and upload (rows, columns, task) or None."""
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, query, upload = (part.strip() for part in line.split("|"))
        up = None
        if upload:
            shape, task = upload.split(",")
            rows, cols = (int(v) for v in shape.split("x"))
            up = (rows, cols, task)
        out.append({"label": label, "query": query, "upload": up})
    return out


def csv_bytes(rows: int, cols: int, task: str) -> bytes:
    """A table of `rows` × `cols` (cols - 1 standard-normal features, the target last) as a visitor uploads it."""
    import numpy as np
    g = np.random.default_rng(0)
    X = g.standard_normal((rows, cols - 1)).round(3)
    if task == "classification":
        y = (X[:, :1].sum(1) > 0).astype(int) + (X[:, -1] > 1).astype(int)
        ycol = y.astype(str)
    else:
        ycol = np.char.mod("%.3f", X.sum(1) + g.standard_normal(rows))
    header = ",".join([f"x{i}" for i in range(cols - 1)] + ["y"])
    body = "\n".join(",".join(r) for r in np.column_stack([np.char.mod("%.3f", X), ycol]))
    return (header + "\n" + body + "\n").encode()


def accepted(link: dict, check: bool = True):
    """(cfg, data or None, limits) as the app accepts the link, or raise SystemExit naming what refuses it
    (check=False: the link's sweep as measured, whether today's model accepts it or not)."""
    from urllib.parse import parse_qs
    from wdlab.data.tables import load_csv
    from wdlab.engine.budget import validate
    from wdlab.settings.config import DEMO_LIMITS
    from wdlab.settings.params import from_query
    lim = DEMO_LIMITS
    query = {k: v for k, v in parse_qs(link["query"]).items()}
    cfg, warnings = from_query(query, check=(lambda c: validate(c, lim)) if check else None)
    if warnings:
        raise SystemExit(f"{link['label']}: the demo does not accept the link as given: {warnings}")
    data = None
    if link["upload"]:
        raw = csv_bytes(*link["upload"])
        if len(raw) > lim.max_upload_bytes:
            raise SystemExit(f"{link['label']}: {len(raw)} bytes is over the demo's upload limit")
        data = load_csv(raw, "y", link["upload"][2], val_fraction=cfg.val_fraction or 0.2, limits=lim)
        if check:
            validate(cfg, lim, data)   # the explorer's check on the table's sizes
    return cfg, data, lim


def estimated(cfg, data, lim) -> dict:
    from wdlab.engine import snapshots
    from wdlab.engine.budget import plan
    est = plan(cfg, lim, data)
    snaps = snapshots.for_sweep(cfg, lim.max_sweep_mb, est.bytes, data)
    return {"sweep_bytes": est.bytes, "snap_bytes": snaps.nbytes() if snaps is not None else 0,
            "seconds": est.seconds, "chunk": est.max_chunk_members, "block": est.val_block_rows}


def _status(key: str) -> int:
    return int(re.search(key + r":\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024


def measure_one(link: dict) -> dict:
    """In this fresh process: the link's job trained by a JobManager with the demo's limits on one torch thread."""
    from wdlab.heap import give_back
    from wdlab.registry.datasets import DATASETS
    from wdlab.run.jobs import JobManager
    cfg, data, lim = accepted(link)
    est = estimated(cfg, data, lim)
    jobs = JobManager(lim, torch_threads=1, heartbeat_timeout=1e9)
    if data is None:
        DATASETS[cfg.preset].make(0, cfg.val_fraction)  # loads sklearn etc. before the baseline
    warm = jobs.submit(cfg.replace(epochs=2, weight_decays=(0.0,), seeds=(0,), hidden=(2,)), data, "bench")
    warm.done_event.wait()
    warm = None
    give_back()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the current RSS
    base = _status("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    job = jobs.submit(cfg, data, "bench")
    job.done_event.wait()
    got = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "peak": _status("VmHWM") - base,
           "status": job.status, "error": job.error}
    return {**link, **est, **got}


def run_all(chosen: list[dict]) -> list[dict]:
    out = []
    for link in chosen:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.budget_check", "--one", json.dumps(link)],
                              capture_output=True, text=True, cwd=ROOT, timeout=600,
                              env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT)))
        if proc.returncode:
            raise SystemExit(f"{link['label']}: {proc.stderr[-2000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {r['label']}: {r['peak'] / 1e6:.1f} MB, {r['cpu']:.2f} CPU s, {r['wall']:.2f} s wall, "
              f"{r['status']}; load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        out.append(r)
    return out


def reestimate(results: list[dict]) -> list[dict]:
    """Saved measurements with today's model's estimates (the memory knobs as measured)."""
    from wdlab.engine.budget import peak_bytes, seconds, shape_of
    out = []
    for r in results:
        cfg, data, lim = accepted(r, check=False)
        shape = shape_of(cfg, data)
        out.append({**r, "sweep_bytes": peak_bytes(cfg, shape, r["chunk"], r["block"]),
                    "seconds": seconds(cfg, shape, r["chunk"], r["block"])})
    return out


def factor(est: float, real: float) -> float:
    """How far the estimate is from the truth, either way (≥ 1); its sign in the table says which way."""
    return max(est / real, real / est)


def table(results: list[dict]) -> tuple[float, float]:
    print("| link | knobs | memory est. / real MB | real/est | time est. / CPU s | real/est | wall s | status |")
    print("|---|---|---|---|---|---|---|---|")
    worst = {"memory": (1.0, ""), "time": (1.0, "")}
    for r in results:
        mem_est = r["sweep_bytes"] + r["snap_bytes"]
        fm, ft = r["peak"] / mem_est, r["cpu"] / r["seconds"]
        for what, f in (("memory", fm), ("time", ft)):
            if factor(f, 1) > worst[what][0]:
                worst[what] = (factor(f, 1), f"{r['label']} ({'under' if f > 1 else 'over'}-estimated)")
        kn = f"{r['chunk'] or 'all'}, {r['block'] or '-'}"
        print(f"| {r['label']} | {kn} | {mem_est / 1e6:.1f} / {r['peak'] / 1e6:.1f} | {fm:.2f} | "
              f"{r['seconds']:.2f} / {r['cpu']:.2f} | {ft:.2f} | {r['wall']:.2f} | {r['status']} |")
    print()
    for what, (f, who) in worst.items():
        print(f"worst {what} factor: {f:.2f}× — {who}; target ≤ {TARGET}×: {'met' if f <= TARGET else 'NOT met'}")
    return worst["memory"][0], worst["time"][0]


def fit(results: list[dict]) -> None:
    """The time costs (budget.COST's op, mac, elem, opt per precision, row, epoch, loss, step) that make the worst factor over
    `results` smallest: bisection on the factor F, each step a linear feasibility problem (every link's estimate
    within [real / F, real · F], costs ≥ 0). The activations' and the page faults' costs stay as measured."""
    import numpy as np
    from scipy.optimize import linprog
    from wdlab.engine.budget import COST, PAGE_SECONDS, activation_cost, peak_bytes, shape_of, work_units
    names, rows, known, real = [], [], [], []
    for r in results:
        cfg, data, _ = accepted(r, check=False)
        shape = shape_of(cfg, data)
        u = work_units(cfg, shape, r["chunk"], r["block"])
        dt = cfg.dtype
        terms = {"op": u["op"], f"mac.{dt}": u["mac"], f"elem.{dt}": u["elem"], f"opt.{dt}": u["opt"],
                 "row": u["row"], "epoch": u["epoch"], "loss": u["loss"], "step": u["step"]}
        names += [k for k in terms if k not in names]
        rows.append(terms)
        known.append(u["act"] * activation_cost(cfg.activation, dt) +
                     peak_bytes(cfg, shape, r["chunk"], r["block"]) * PAGE_SECONDS)
        real.append(r["cpu"])
    A = np.array([[t.get(k, 0.0) for k in names] for t in rows])
    known, real = np.array(known), np.array(real)
    scale = A.max(0)
    scale[scale == 0] = 1
    An = A / scale

    # float64 costs no less than float32 per unit (twice the bytes through the same kernels)
    order = np.zeros((0, len(names)))
    for k in names:
        if k.endswith(".float64") and k.replace("64", "32") in names:
            row = np.zeros(len(names))
            row[names.index(k)], row[names.index(k.replace("64", "32"))] = -1 / scale[names.index(k)], \
                1 / scale[names.index(k.replace("64", "32"))]
            order = np.vstack([order, row / np.abs(row).max()])   # a unit row: the solver's tolerances

    def feasible(F):
        # known + A·c ≤ F·real and known + A·c ≥ real / F
        res = linprog(np.zeros(len(names)), A_ub=np.vstack([An, -An, order]),
                      b_ub=np.concatenate([F * real - known, known - real / F, np.zeros(len(order))]),
                      bounds=(0, None), method="highs")
        return res.x / scale if res.status == 0 else None

    lo, hi = 1.0, 4.0
    best = feasible(hi)
    if best is None:
        raise SystemExit("no costs bring every link within 4×")
    while hi / lo > 1.005:
        mid = (lo * hi) ** 0.5
        x = feasible(mid)
        lo, hi, best = (lo, mid, x) if x is not None else (mid, hi, best)
    # Of the costs within SLACK of that factor, the ones closest to today's (least total relative change): a
    # vertex of the minimax problem puts some costs at 0 and others far off; this keeps what was measured.
    F = hi * FIT_SLACK
    today = np.array([COST[k.partition(".")[0]][k.partition(".")[2]] if "." in k else COST[k] for k in names])
    ref = np.maximum(today, best) * scale          # normalized units
    ref[ref == 0] = 1.0                            # a term neither today nor the fit uses
    n = len(names)
    # variables: normalized costs x (n), then |x - today| / ref (n)
    eye = np.eye(n)
    A_ub = np.vstack([np.hstack([An, np.zeros((len(An), n))]), np.hstack([-An, np.zeros((len(An), n))]),
                      np.hstack([order, np.zeros((len(order), n))]),
                      np.hstack([eye / ref[:, None], -eye]), np.hstack([-eye / ref[:, None], -eye])])
    b_ub = np.concatenate([F * real - known, known - real / F, np.zeros(len(order)), today * scale / ref,
                           -today * scale / ref])
    res = linprog(np.concatenate([np.zeros(n), np.ones(n)]), A_ub=A_ub, b_ub=b_ub, bounds=(0, None),
                  method="highs")
    if res.status == 0:
        best = res.x[:n] / scale
    print(f"smallest worst time factor with these terms: {hi:.3f}×; the costs within {FIT_SLACK}× of it closest "
          "to today's (the table below uses them):")
    for k, v in zip(names, best):
        base, _, dt = k.partition(".")
        now = COST[base][dt] if dt else COST[base]
        print(f"  {k}: {v:.3g} (today {now:.3g})")
        if dt:
            COST[base][dt] = float(v)
        else:
            COST[base] = float(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--list", action="store_true", help="print the links and their estimates; train nothing")
    ap.add_argument("--only", help="the links whose label contains this text (or any of these, comma-separated)")
    ap.add_argument("--save", help="write the measurements to this JSON file")
    ap.add_argument("--load", help="read measurements saved with --save instead of measuring (today's estimates)")
    ap.add_argument("--fit", action="store_true", help="with --load: print the time costs that fit them best")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure_one(json.loads(args.one))))
        return
    chosen = [link for link in links() if not args.only or any(w in link["label"] for w in args.only.split(","))]
    if args.list:
        for link in chosen:
            try:
                e = estimated(*accepted(link))
            except Exception as err:  # noqa: BLE001 — listed, so the data file can be fixed
                print(f"{link['label']}: REFUSED {err}")
                continue
            print(f"{link['label']}: {(e['sweep_bytes'] + e['snap_bytes']) / 1e6:.1f} MB "
                  f"(snapshots {e['snap_bytes'] / 1e6:.1f}), {e['seconds']:.2f} s, knobs {e['chunk']}, {e['block']}")
        return
    if args.load:
        results = reestimate(json.loads(Path(args.load).read_text()))
        if args.fit:
            fit(results)
            results = reestimate(results)
    else:
        print(f"uptime before: {os.popen('uptime').read().strip()}; {os.cpu_count()} cores; one torch thread")
        results = run_all(chosen)
        print(f"uptime after: {os.popen('uptime').read().strip()}")
        if args.save:
            Path(args.save).write_text(json.dumps(results, indent=1))
    table(results)


if __name__ == "__main__":
    main()
