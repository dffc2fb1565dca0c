"""The λ × learning-rate landscape: one value per (optimizer, lr, λ) cell, the best λ per lr, and how far it moves.

Pure functions of a sweep's tidy frame (columns optimizer, lr, weight_decay, seed, epoch and a metric):
the Landscape page, the CLI's --summary and benchmarks/landscape.py all read their numbers from here.
"""
from __future__ import annotations

import math

import pandas as pd

from wdlab.settings.reading import DEFAULT_AT, LAST_SHARE, check_at, describe_at

LOWER_IS_BETTER = {"val_loss": True, "train_loss": True, "train_eval_loss": True, "val_acc": False,
                   "train_acc": False}
RULE = ("Each cell is the mean over seeds of the {metric} of that (optimizer, lr, λ); a member that "
        "diverged counts as the worst value. The best λ at an lr is the cell with the {best} value in that "
        "row (the white line); every value is read {what}. “grew ×k” compares the best λ at the largest lr with "
        "the best at the smallest (λ = 0 is named, not multiplied); the same for lr·λ, the fraction torch's AdamW "
        "takes off every weight per step.")


def cells(frame: pd.DataFrame, metric: str = "val_loss", which: str = DEFAULT_AT) -> pd.DataFrame:
    """(optimizer, lr, weight_decay) -> value: each member's metric read `which` (frame.schema.compared_rows'
    readings: at its best epoch — lowest validation loss —, the final one, or the mean of its last 10 %), averaged
    over seeds. A diverged member (non-finite metric, or stopped early) is scored as the worst value of the map."""
    check_at(which)
    low = LOWER_IS_BETTER[metric]
    keys = ["optimizer", "lr", "weight_decay", "seed"]
    f = frame[keys + list(dict.fromkeys(["epoch", metric, "val_loss"]))].copy()
    finite = f[metric].map(lambda v: math.isfinite(v) if isinstance(v, float) else True) & f["val_loss"].notna()
    members = f.groupby(keys, sort=True)
    last_epoch = int(frame["epoch"].max())
    if which == "best":   # the epoch of lowest validation loss, the metric read there (min val_loss itself)
        ok = f[finite & (f["epoch"] > 0)] if (f["epoch"] > 0).any() else f[finite]
        per = ok.loc[ok.groupby(keys)["val_loss"].idxmin()].set_index(keys)[metric]
    elif which == "last":
        k = max(1, math.ceil(LAST_SHARE * last_epoch))
        ok = f[finite & (f["epoch"] > last_epoch - k)]
        per = ok.groupby(keys)[metric].mean()
    else:
        last = f[finite].sort_values("epoch").groupby(keys).tail(1).set_index(keys)
        per = last[metric].where(last["epoch"] == last_epoch)   # stopped early (diverged): no final value
    per = per.reindex(members.size().index)
    diverged = frame.groupby(keys)["diverged"].any().reindex(per.index) if "diverged" in frame else None
    if diverged is not None and which != "best":
        per = per.where(~diverged)
    worst = per.max() if low else per.min()
    per = per.fillna(worst)
    out = per.groupby(level=["optimizer", "lr", "weight_decay"]).agg(["mean", "size"]).reset_index()
    out.columns = ["optimizer", "lr", "weight_decay", "value", "seeds"]
    out["lr_wd"] = out["lr"] * out["weight_decay"]
    return out


def with_tau(c: pd.DataFrame, steps_per_epoch: int) -> pd.DataFrame:
    """cells() with tau_epochs: τ = 1/(lr·λ) steps over the steps per epoch — AdamW's timescale (its weights
    average their updates over about τ; Wang & Aitchison 2024); inf at λ = 0 (nothing decays)."""
    out = c.copy()
    out["tau_epochs"] = [1 / (v * steps_per_epoch) if v > 0 else math.inf for v in out["lr_wd"]]
    return out


def best_per_lr(c: pd.DataFrame, metric: str = "val_loss") -> pd.DataFrame:
    """For every (optimizer, lr): the λ of the best cell (ties: the smallest λ), its value and lr·λ."""
    low = LOWER_IS_BETTER[metric]
    ordered = c.sort_values(["optimizer", "lr", "value", "weight_decay"], ascending=[True, True, low, True])
    best = ordered.groupby(["optimizer", "lr"], sort=True).head(1).reset_index(drop=True)
    return best[["optimizer", "lr", "weight_decay", "lr_wd", "value"] + (["tau_epochs"] if "tau_epochs" in c else [])]


def top_cells(c: pd.DataFrame, metric: str = "val_loss", share: float = 0.10) -> pd.DataFrame:
    """The best `share` of each optimizer's cells (at least one)."""
    low = LOWER_IS_BETTER[metric]
    parts = []
    for _, g in c.groupby("optimizer", sort=True):
        n = max(1, math.ceil(share * len(g)))
        parts.append(g.sort_values("value", ascending=low).head(n))
    return pd.concat(parts) if parts else c.iloc[:0]


def movement(best: pd.DataFrame, column: str = "weight_decay") -> dict[str, dict]:
    """Per optimizer: how far the best λ (or lr·λ) moves across the lrs: factor = largest / smallest (None when
    a best value is 0 or only one lr), with where each extreme is."""
    out = {}
    for opt, g in best.groupby("optimizer", sort=True):
        g = g.sort_values("lr")
        values = g[column].tolist()
        lo_row, hi_row = g.loc[g[column].idxmin()], g.loc[g[column].idxmax()]
        factor = None
        if len(values) > 1 and min(values) > 0:
            factor = max(values) / min(values)
        out[opt] = {"factor": factor, "zero_at": [lr for lr, v in zip(g["lr"], values) if v == 0],
                    "lo": (float(lo_row["lr"]), float(lo_row[column])), "hi": (float(hi_row["lr"]),
                                                                                float(hi_row[column])),
                    "by_lr": dict(zip(g["lr"].tolist(), values))}
    return out


def times(factor: float) -> str:
    """×30, ×1.2, ×10000: whole numbers from ×10 up."""
    return f"×{factor:.0f}" if factor >= 10 else f"×{factor:.2g}"


def sentence(opt_label: str, move: dict, unit: str = "λ") -> str:
    """One optimizer's movement in words, e.g. "for Adam+L2 the best λ moved ×30 (0.0001 at lr 0.001 → 0.003 at
    lr 0.03)"."""
    by_lr = move["by_lr"]
    lrs = sorted(by_lr)
    if len(lrs) < 2:
        return f"for {opt_label} one lr only: the best {unit} is {by_lr[lrs[0]]:g}"
    path = " → ".join(f"{by_lr[lr]:g} at lr {lr:g}" for lr in (lrs[0], lrs[-1]))
    if move["factor"] is None:
        zeros = ", ".join(f"{lr:g}" for lr in move["zero_at"])
        return f"for {opt_label} the best {unit} is 0 (no decay) at lr {zeros}; from the smallest to the largest lr: {path}"
    if move["factor"] < 1.5:
        return f"for {opt_label} the best {unit} barely moved ({times(move['factor'])}; {path})"
    return f"for {opt_label} the best {unit} moved {times(move['factor'])} ({path})"


def summary_lines(frame: pd.DataFrame, labels: dict[str, str], metric: str = "val_loss",
                  which: str = DEFAULT_AT, schedule: str = "") -> list[str]:
    """The best λ per (optimizer, lr) as text lines, then how far it moved per optimizer, in λ and in lr·λ.
    schedule: how lr moved (registry.schedules.under), named in the first line when it did."""
    c = cells(frame, metric, which)
    best = best_per_lr(c, metric)
    trained = f", trained {schedule}" if schedule else ""
    lines = [f"best λ by {metric} read {describe_at(which)} (mean over seeds){trained}:"]
    for _, r in best.iterrows():
        lines.append(f"  {labels.get(r.optimizer, r.optimizer):<14} lr {r.lr:<8g} best λ {r.weight_decay:<8g} "
                     f"lr·λ {r.lr_wd:<10.3g} {metric} {r.value:.4g}")
    for unit, column in (("λ", "weight_decay"), ("lr·λ", "lr_wd")):
        moves = movement(best, column)
        lines.append(f"in {unit}: " + "; ".join(sentence(labels.get(o, o), m, unit) for o, m in moves.items()))
    return lines


def _lrs(lrs: list[float]) -> str:
    return "lr " + (" and ".join(f"{lr:g}" for lr in lrs) if len(lrs) <= 2 else
                    ", ".join(f"{lr:g}" for lr in lrs[:-1]) + f" and {lrs[-1]:g}")


def trend(values: list[float]) -> str:
    """How a best value changes from the smallest lr to the largest, as a verb phrase: "grew ×30", "fell to 0",
    "barely moved (×1.2)", "stayed the same"."""
    first, last = values[0], values[-1]
    if len(values) < 2:
        return "had one lr only"
    if all(v == first for v in values):
        return "stayed the same"
    if first == 0 or last == 0:
        return "grew from 0" if first == 0 and last > 0 else "fell to 0" if last == 0 and first > 0 else \
            "was 0 at both ends"
    ratio = last / first
    if 1 / 1.5 < ratio < 1.5:
        return f"barely moved ({times(max(ratio, 1 / ratio))})"
    return f"grew {times(ratio)}" if ratio > 1 else f"fell {times(1 / ratio)}"


def plain_line(opt_label: str, best: pd.DataFrame) -> str:
    """One optimizer's best λ per lr in plain words (the Landscape's summary): "Adam with L2: best λ 0 at lr 0.001
    and 0.003, then 0.001 at lr 0.01 and 0.03 — it grew from 0 as the lr grew; as lr·λ (0 → 3e-05) it grew
    from 0." `best`: best_per_lr's rows of that optimizer."""
    g = best.sort_values("lr")
    runs: list[tuple[float, list[float]]] = []   # consecutive lrs sharing a best λ
    for lr, w in zip(g["lr"].astype(float), g["weight_decay"].astype(float)):
        if runs and runs[-1][0] == w:
            runs[-1][1].append(lr)
        else:
            runs.append((w, [lr]))
    where = ", then ".join(f"{w:g} at {_lrs(lrs)}" for w, lrs in runs)
    wds, products = g["weight_decay"].tolist(), g["lr_wd"].tolist()
    if len(wds) < 2:
        return f"{opt_label}: best λ {where} (one lr only)."
    return (f"{opt_label}: best λ {where} — it {trend(wds)} as the lr grew; as lr·λ ({products[0]:.3g} → "
            f"{products[-1]:.3g}) it {trend(products)}.")
