"""A 1,008-member grid (4 optimizers × 6 lrs × 14 λ × 3 seeds, moons, hidden 32, 50 epochs, batch 50) trained by
`wdlab run` in process, with 2 workers and on a local Ray of 2 CPUs: wall time and peak memory (the largest RSS
of the process and the children it waited for, from GNU time), and whether the three CSVs are equal. Where a GPU
is (`--device`, default cuda where present) the grid also trains in process on it, with its max |diff| from the
CPU's CSV (float32 rounding); without one a line says that row is skipped and why.
    python -m benchmarks.thousand [--device cuda]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

GRID = ["run", "--preset", "moons", "--hidden", "32", "--optimizer", "sgd", "adam", "adamw", "rmsprop",
        "--lr", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "--wd", *[f"{0.01 * i:g}" for i in range(14)],
        "--seeds", "0", "1", "2", "--epochs", "50", "--batch-size", "50", "--quiet"]
MODES = {"in process": [], "2 workers": ["--workers", "2"], "Ray, 2 CPUs": ["--backend", "ray", "--ray-cpus", "2"]}


def train(name: str, extra: list[str], folder: str) -> bytes:
    out = os.path.join(folder, name.replace(" ", "_").replace(",", "").replace(":", "") + ".csv")
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "wdlab", *GRID, *extra,
                        "--out", out], capture_output=True, text=True)
    wall, kb = r.stderr.strip().splitlines()[-1].split()
    print(f"{name:12s} exit {r.returncode}  wall {float(wall):6.1f} s  peak {int(kb) / 1000:6.0f} MB", flush=True)
    return open(out, "rb").read() if r.returncode == 0 else b""


def max_diff(a: bytes, b: bytes) -> float:
    import io

    import pandas as pd  # defer: only for the GPU row
    x, y = pd.read_csv(io.BytesIO(a)), pd.read_csv(io.BytesIO(b))
    numbers = [c for c in x.columns if x[c].dtype.kind == "f"]
    return float((x[numbers] - y[numbers]).abs().max().max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", help="the GPU row's device (cuda, cuda:N, mps; default cuda where present)")
    args = ap.parse_args()
    from benchmarks.device_rows import chosen  # defer: torch, only once the grid's own processes are timed
    folder = tempfile.mkdtemp()
    print(f"load average before: {os.getloadavg()[0]:.1f}; CPUs: {os.cpu_count()}")
    outs = {name: train(name, extra, folder) for name, extra in MODES.items()}
    print("the three CSVs are", "byte-identical" if len(set(outs.values())) == 1 else "DIFFERENT")
    device, why = chosen(args.device)
    if device is None:
        print(f"GPU row skipped: {why}")
        return
    gpu = train(f"in process on {device}", ["--device", device], folder)
    if gpu and outs["in process"]:
        print(f"on {device} against the CPU: max |diff| {max_diff(outs['in process'], gpu):.1e} (float32 rounding)")


if __name__ == "__main__":
    main()
