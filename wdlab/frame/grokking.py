"""Grokking read from a sweep's frame: when each member memorised (train acc) and when it generalized (val acc)."""
from __future__ import annotations

import math

import pandas as pd

MEMORISED = 0.99   # training accuracy that counts as "memorised the training set"
GROKKED = 0.9      # validation accuracy that counts as "generalized"
DEFINITION = (f"Memorised: the first step at which training accuracy is ≥ {MEMORISED:.0%}; grokked: the first "
              f"step at which validation accuracy is ≥ {GROKKED:.0%}; delay: grokked − memorised. A step is an "
              "epoch here (full batch: one optimizer step per epoch); the training accuracy of step t is measured "
              "with the weights before its update, as a training loop logs it, the validation accuracy after it.")


def first_epoch(g: pd.DataFrame, column: str, threshold: float) -> int | None:
    """The first epoch ≥ 1 at which `column` ≥ threshold, or None."""
    hit = g.loc[(g["epoch"] >= 1) & (g[column] >= threshold), "epoch"]
    return int(hit.min()) if len(hit) else None


def norm_at(g: pd.DataFrame, epoch: int | None) -> float:
    rows = g.loc[g["epoch"] == epoch, "l2_norm"] if epoch is not None else ()
    return float(rows.iloc[0]) if len(rows) else math.nan


def events(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (weight_decay, seed): memorised, grokked, delay (epochs, None if it did not happen),
    fitted (first epoch with training accuracy 100 %), the norm then and at the end, the final and best val acc.
    A frame with no rows yet (a job queued or starting has no columns either) has no events."""
    rows = []
    groups = frame.groupby(["weight_decay", "seed"], sort=True) if len(frame) else ()
    for (w, s), g in groups:
        g = g.sort_values("epoch")
        mem, grok = first_epoch(g, "train_acc", MEMORISED), first_epoch(g, "val_acc", GROKKED)
        fitted = first_epoch(g, "train_acc", 1.0)
        last = g.iloc[-1]
        rows.append({
            "weight_decay": float(w), "seed": int(s), "memorised": mem, "grokked": grok,
            "delay": grok - mem if mem is not None and grok is not None else None,
            "fitted": fitted, "norm_fitted": norm_at(g, fitted), "norm_final": float(last["l2_norm"]),
            "norm_peak": float(g["l2_norm"].max()), "val_acc_final": float(last["val_acc"]),
            "val_acc_max": float(g.loc[g["epoch"] >= 1, "val_acc"].max()) if len(g) > 1 else math.nan,
            "epochs": int(last["epoch"]), "diverged": bool(last["diverged"]),
        })
    cols = ["weight_decay", "seed", "memorised", "grokked", "delay", "fitted", "norm_fitted", "norm_final",
            "norm_peak", "val_acc_final", "val_acc_max", "epochs", "diverged"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("memorised", "grokked", "delay", "fitted"):
        out[c] = out[c].astype("Int64")  # "did not happen" stays missing, the rest whole numbers
    return out


def criteria(ev: pd.DataFrame, min_delay: int) -> list[str]:
    """What keeps a sweep from being a grokking demonstration (empty: every λ > 0 member grokked ≥ min_delay
    steps after it memorised, and every λ = 0 member stayed below 50 % validation accuracy)."""
    problems = []
    for r in ev.itertuples():
        who = f"λ = {r.weight_decay:g}, seed {r.seed}"
        if r.weight_decay == 0:
            if not r.val_acc_max < 0.5:
                problems.append(f"{who}: validation accuracy reached {r.val_acc_max:.3f} (should stay < 0.5)")
        elif pd.isna(r.memorised) or pd.isna(r.grokked):
            problems.append(f"{who}: memorised at {r.memorised}, grokked at {r.grokked}")
        elif r.delay < min_delay:
            problems.append(f"{who}: grokked only {r.delay} steps after memorising (want ≥ {min_delay})")
    return problems
