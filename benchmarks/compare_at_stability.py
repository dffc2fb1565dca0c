"""Which reading makes the presets' verdicts stable? Each preset's own sweep on seeds 0-2, read at the final epoch,
the best epoch (lowest validation loss) and the mean of the last 10 % of epochs, as if training had ended at
E-20, E-15, ..., E (E its epochs): 15 (seed, end epoch) pairs per reading. For each pair the verdict is what the
summary's star says — the λ of lowest validation loss — and whether decay helps (some λ > 0 below λ = 0).

    python benchmarks/compare_at_stability.py [--presets sine moons] [--seeds 0 1 2]

Prints one line per preset and reading: the best λ over the pairs (λ: count), "decay helps" n/15, and how many
distinct orders of all λ by validation loss the pairs gave. docs/ENGINE.md holds the measured table."""
from __future__ import annotations

import argparse
import collections
import time

import torch

from wdlab.engine.sweep import run_sweep
from wdlab.frame.schema import compared_rows
from wdlab.settings.config import preset_config
from wdlab.settings.reading import COMPARED_AT

PRESETS = ("tutorial", "highdim-linear", "sine", "moons", "spirals", "digits", "diabetes", "breast-cancer",
           "modular-addition", "modular-addition-p23")   # about 5 min on one thread, 3.5 of them modular-addition


def verdicts(frame, at: str, seeds, ends):
    """Per (seed, end epoch): the best λ, whether decay helps, the order of all λ by validation loss."""
    out = []
    for end in ends:
        rows = compared_rows(frame[frame.epoch <= end], at)
        for seed in seeds:
            val = rows[(rows.seed == seed) & ~rows.diverged].set_index("weight_decay")["val_loss"].sort_values()
            helps = 0.0 in val.index and (val.drop(0.0) < val[0.0]).any()
            out.append((float(val.index[0]), bool(helps), tuple(val.index)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("| preset | E | reading | best λ over the pairs | decay helps | orders |")
    print("|---|---|---|---|---|---|")
    for preset in args.presets:
        cfg = preset_config(preset).replace(seeds=tuple(args.seeds))
        start = time.perf_counter()
        frame = run_sweep(cfg).frame
        ends = range(cfg.epochs - 20, cfg.epochs + 1, 5)
        for at in COMPARED_AT:
            got = verdicts(frame, at, args.seeds, ends)
            best = collections.Counter(b for b, _, _ in got)
            spread = ", ".join(f"{w:g}: {n}" for w, n in sorted(best.items()))
            print(f"| {preset} | {cfg.epochs} | {at} | {spread} | {sum(h for _, h, _ in got)}/{len(got)} "
                  f"| {len({o for _, _, o in got})} |", flush=True)
        print(f"<!-- {preset}: {time.perf_counter() - start:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
