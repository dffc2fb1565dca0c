"""A 1,008-member grid (4 optimizers × 6 lrs × 14 λ × 3 seeds, moons, hidden 32, 50 epochs, batch 50) trained by
`wdlab run` in process, with 2 workers and on a local Ray of 2 CPUs: wall time and peak memory (the largest RSS
of the process and the children it waited for, from GNU time), and whether the three CSVs are equal.
    python -m benchmarks.thousand
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

GRID = ["run", "--preset", "moons", "--hidden", "32", "--optimizer", "sgd", "adam", "adamw", "rmsprop",
        "--lr", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "--wd", *[f"{0.01 * i:g}" for i in range(14)],
        "--seeds", "0", "1", "2", "--epochs", "50", "--batch-size", "50", "--quiet"]
MODES = {"in process": [], "2 workers": ["--workers", "2"], "Ray, 2 CPUs": ["--backend", "ray", "--ray-cpus", "2"]}


def main() -> None:
    folder = tempfile.mkdtemp()
    outs = {}
    print(f"load average before: {os.getloadavg()[0]:.1f}; CPUs: {os.cpu_count()}")
    for name, extra in MODES.items():
        out = os.path.join(folder, name.replace(" ", "_").replace(",", "") + ".csv")
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "wdlab", *GRID, *extra,
                            "--out", out], capture_output=True, text=True)
        wall, kb = r.stderr.strip().splitlines()[-1].split()
        outs[name] = open(out, "rb").read() if r.returncode == 0 else b""
        print(f"{name:12s} exit {r.returncode}  wall {float(wall):6.1f} s  peak {int(kb) / 1000:6.0f} MB")
    same = len(set(outs.values())) == 1
    print("the three CSVs are", "byte-identical" if same else "DIFFERENT")


if __name__ == "__main__":
    main()
