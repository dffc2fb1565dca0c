"""A sweep's words and tables on the page: diverged notes, the summary table as text, the CSV's file name."""
from __future__ import annotations

import hashlib
import urllib.parse

import pandas as pd
import streamlit as st

from wdlab.frame.schema import LOSS_NAMES
from wdlab.plots import curves as plots
from wdlab.settings.reading import DEFAULT_AT
from wdlab.plots.law_lines import tau_number
from wdlab.plots.scale import column_format
from wdlab.settings.config import SweepConfig
from wdlab.settings.params import to_query


def _member(key: tuple) -> tuple:
    """(optimizer, lr, λ, seed) of a diverged member; an old (λ, seed) key has no group."""
    return tuple(key) if len(key) == 4 else (None, None, *key)


def diverged_notes(diverged: dict, cfg: SweepConfig | None = None) -> None:
    """One note for every diverged member: a line per (group,) λ (which seeds, at which epoch) and what to try."""
    if not diverged:
        return
    grid = cfg is not None and len(cfg.optimizers) * len(cfg.lrs) > 1
    by_run: dict[tuple, list[tuple[int, int]]] = {}
    for k, epoch in sorted(diverged.items(), key=lambda kv: tuple(map(str, _member(kv[0])))):
        o, lr, w, s = _member(k)
        by_run.setdefault((o, lr, w), []).append((s, epoch))
    n_seeds = len(cfg.seeds) if cfg is not None else 0
    lines = []
    for (o, lr, w), items in by_run.items():
        seeds = [s for s, _ in items]
        epochs = sorted({e for _, e in items})
        who = (f"seed {seeds[0]}" if len(seeds) == 1 else
               f"all {len(seeds)} seeds" if len(seeds) == n_seeds else "seeds " + ", ".join(map(str, seeds)))
        when = f"epoch {epochs[0]}" if len(epochs) == 1 else f"epochs {epochs[0]}–{epochs[-1]}"
        which = f"{plots.group_label(o, lr)}, " if grid and o is not None else ""
        lines.append(f"- {which}λ = {w:g}: {who} diverged at {when}")
    hint = ""
    if cfg is not None:
        lrs = [lr for (_, lr, _) in by_run if lr is not None] or list(cfg.lrs)
        lr = max(lrs)
        big = list(dict.fromkeys(w for (_, l, w) in by_run if (l if l is not None else lr) * w > 2))
        hint = f"Try a lower learning rate: lr = {lr:g} here; with lr = {lr / 10:g} steps are ten times smaller."
        if big:
            hint += (f" For λ = {', '.join(f'{w:g}' for w in big)} the decay alone overshoots: lr·λ > 2 makes "
                     "w·(1 − lr·λ) flip sign and grow every step, so lower λ or lr.")
    everyone = cfg is not None and len(diverged) >= len(cfg.members)
    st.warning("**Diverged:** the loss became infinite or NaN, so these models stopped there (✕ in the "
               "figure)" + ("." if everyone else "; the others are unaffected.") + "\n" + "\n".join(lines)
               + (f"\n\n{hint}" if hint else ""), icon=":material/warning:")


def download_name(cfg: SweepConfig, tag: str = "", status: str = "done", epochs_done: int | None = None) -> str:
    """A file name that names the sweep and differs between sweeps: a short hash of every setting (and `tag`,
    e.g. a table's fingerprint); a cancelled run says so."""
    query = urllib.parse.urlencode(sorted(to_query(cfg).items()))
    digest = hashlib.sha1(f"{query}|{tag}".encode()).hexdigest()[:8]
    stem = f"wdlab_{cfg.preset}_{'-'.join(cfg.optimizers)}_{cfg.epochs}ep_{digest}"
    return stem + (f"_cancelled-at-epoch-{epochs_done}" if status == "cancelled" else "") + ".csv"


NAMES = {"optimizer": "optimizer", "lr": "lr", "weight_decay": "λ (weight_decay)", "train_loss": "train loss",
         "train_acc": "train acc", "train_eval_loss": "train loss", "val_loss": "val loss",
         "gap": "gap (val − train)",
         "l2_norm": "‖w‖₂", "train_eval_acc": "train acc", "val_acc": "val acc"}
READ = {"final": "final {}", "best": "{} at best epoch", "last": "{}, last 10 % mean"}   # a column read `at`
READ_COLUMNS = ("train loss", "val loss")
FIRST_RESULTS = ("val_loss", "l2_norm", "train_eval_loss", "train_loss", "gap")
TAU = "τ (epochs)"   # AdamW's timescale 1/(lr·λ) over the steps per epoch   # named with the reading; the caption above the table says it for all


def table_view(table: pd.DataFrame, n_seeds: int, grid: bool | None = None, at: str = DEFAULT_AT,
               tau: dict | None = None) -> pd.DataFrame:
    """The summary table as display text: readable names (the losses say where they were read: `at`), one number
    format per column, '—' where a value is missing (a λ whose every seed diverged), never 'None' or 'nan'. The
    train loss is the training set's loss with the weights of the epoch read (train_eval_loss); the optimizer and
    lr columns only for a grid. tau: (optimizer, lr, λ) -> AdamW's timescale τ = 1/(lr·λ) in epochs, shown after λ
    when any row has one ('—' for coupled decay and λ = 0)."""
    if grid is None:
        grid = "optimizer" in table and table[["optimizer", "lr"]].drop_duplicates().shape[0] > 1
    # the per-epoch means (train_loss, train_acc) give way to the final weights' values where a table has both
    drop = [c for c in table if c.endswith("_std")
            or (c in ("train_loss", "train_acc") and f"train_eval{c[5:]}" in table)]
    if not grid:
        drop += [c for c in ("optimizer", "lr") if c in table]
    shown_table = table.drop(columns=drop)
    # what the learner reads of each λ right after it (a phone shows val loss and ‖w‖₂ without scrolling
    # sideways); then the accuracies, how many seeds and how many diverged
    first = [c for c in ("optimizer", "lr", "weight_decay") if c in shown_table] + \
        [c for c in FIRST_RESULTS if c in shown_table]
    shown_table = shown_table[first + [c for c in shown_table if c not in first and c not in ("seeds", "diverged")]
                              + [c for c in ("seeds", "diverged") if c in shown_table]]
    if tau and "optimizer" in table:
        keys = zip(table["optimizer"], table["lr"].astype(float), table["weight_decay"].astype(float))
        values = [tau.get(k) for k in keys]
        if any(v is not None for v in values):   # a property of the setting, after what it did
            at_col = list(shown_table.columns).index("seeds")
            shown_table.insert(at_col, TAU, [tau_number(v) if v is not None else "—" for v in values])
    shown_table["diverged"] = [f"{d} of {n}" if d else "—" for d, n in zip(shown_table["diverged"],
                                                                          shown_table["seeds"])]
    if "optimizer" in shown_table:
        shown_table["optimizer"] = [plots.group_label(o, 1.0).rsplit(", lr", 1)[0] for o in shown_table["optimizer"]]
    # read at the final epoch, the two training losses say which they are (frame.schema.LOSS_NAMES)
    shown_table = shown_table.rename(columns={c: LOSS_NAMES[c] if at == "final" and c in LOSS_NAMES else
                                              READ[at].format(n) if n in READ_COLUMNS else n
                                              for c, n in NAMES.items()})
    for c in shown_table.columns:
        if c in ("seeds", "diverged", "optimizer", TAU):
            continue
        spec = "g" if c in ("λ (weight_decay)", "lr") else \
            column_format(shown_table[c], difference=c == NAMES["gap"])
        shown_table[c] = [format(v, spec) if pd.notna(v) and v == v else "—" for v in shown_table[c]]
    return shown_table


def show_table(table: pd.DataFrame, n_seeds: int, key: str, grid: bool | None = None, at: str = DEFAULT_AT,
               tau: dict | None = None) -> None:
    shown_table = table_view(table, n_seeds, grid, at, tau)
    right = {c: st.column_config.TextColumn(alignment="right") for c in shown_table.columns
             if c not in ("seeds", "diverged", "optimizer")}
    st.dataframe(shown_table, hide_index=True, key=key, column_config=right)
    if TAU in shown_table:
        st.caption(f"{TAU}: AdamW's timescale τ = 1/(lr·λ) steps, over the steps per epoch — its weights average "
                   "their recent updates over about that window (Wang & Aitchison 2024 suggest between ~1 and the "
                   "run's epochs); — where the decay is coupled or λ = 0.")
