"""Your own table: CSV bytes -> checked, encoded, standardized Data, or a CsvError saying what to do."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from wdlab.data.reading import MAX_LEVELS, ColumnInfo, CsvError, Table, describe, few, parse, quoted
from wdlab.registry.dataset_spec import DATA_SEED, TASKS, Data, scale_of, standardize
from wdlab.settings.config import DEFAULT_LIMITS, Limits

MAX_FEATURES = 1000    # model inputs after one-hot encoding
AUTO_CLASSES = 10      # a numeric target with at most this many distinct values is taken as class labels
MAX_CLASSES = 50       # classes a classification target may have
MIN_ROWS = 10          # complete rows needed for a training and a validation set
_F32_MAX = float(torch.finfo(torch.float32).max)  # beyond this a value would be inf in the float32 model


@dataclass(frozen=True)
class CsvSummary:
    """What inspect_csv found: enough for a preview and a target picker."""

    n_rows: int
    columns: tuple[ColumnInfo, ...]
    preview: pd.DataFrame          # the first rows as read (text; missing = NaN)
    delimiter: str
    suggested_target: str
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def inspect_csv(raw: bytes, limits: Limits = DEFAULT_LIMITS, preview_rows: int = 10) -> CsvSummary:
    """Parse and describe a table (columns, kinds, first rows, a suggested target) without choosing anything."""
    t = parse(raw, limits)
    infos = tuple(describe(t, c) for c in t.df.columns)
    # a copy of the first rows: a head() view would keep the whole parsed table alive in the visitor's session
    preview = t.df.head(preview_rows).copy(deep=True)
    return CsvSummary(len(t.df), infos, preview, t.sep, _suggest_target(t.df, t.twins), tuple(t.notes))


def load_csv(raw: bytes, target: str, task: str | None = None, *, val_fraction: float = 0.2,
             limits: Limits = DEFAULT_LIMITS, seed: int = DATA_SEED) -> Data:
    """A CSV table -> Data: complete rows, seeded split, features standardized with training statistics.

    task None = auto: classification for text labels or at most AUTO_CLASSES distinct numbers, else regression.
    Regression targets are standardized with training statistics too; class names are listed in notes.
    """
    if task not in (None, "auto", *TASKS):
        raise CsvError("bad_option", f"task {str(task)[:40]!r} is not allowed; choose regression or classification")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0.05 <= val_fraction <= 0.5:
        raise CsvError("bad_option", f"val_fraction must be from 0.05 to 0.5, got {val_fraction!r}")
    t = parse(raw, limits)
    notes = list(t.notes)
    target = find_target(t.df, target, notes)
    if target in t.twins:  # its twin would be a feature: the answer would leak into the inputs
        twins = t.twins[target]
        raise CsvError("target_duplicate", f"the target {quoted(target)} shares its name with {len(twins) - 1} other "
                                           f"column{'s' if len(twins) > 2 else ''} ({', '.join(quoted(n) for n in twins)}"
                                           " once spaces are trimmed), which would be used as a feature and leak "
                                           "the answer; rename or remove the copies, or pick another target")
    if len(t.df) < MIN_ROWS:
        raise _too_few(len(t.df))
    task = choose_task(t, target, task, notes)
    infos = [describe(t, c) for c in t.df.columns if c != target]
    used = [i for i in infos if i.role != "skipped"]
    skipped = [f"{quoted(i.name)} ({i.why})" for i in infos if i.role == "skipped"]
    if not used:
        raise CsvError("no_numeric_features", "no column can be a feature: " + few(skipped) + "; add numeric "
                                              f"columns (or text columns with at most {MAX_LEVELS} distinct values)")
    keep = _complete_rows(t, target, used, notes)
    X, names = _encode(t, used, keep, notes, limits.max_table_cells)
    if skipped:
        notes.append("skipped, not used as features: " + few(skipped))
    n = len(X)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = max(1, round(n * val_fraction))
    va, tr = perm[:n_val], perm[n_val:]
    Xtr, Xv = (x.float() for x in standardize(X[tr], X[va]))
    notes.append(f"{n - n_val} training and {n_val} validation rows (seeded split); {len(names)} features "
                 "standardized with training statistics")
    labels = (t.numeric.get(target, t.df[target]))[keep]
    if labels.nunique() < 2:
        raise CsvError("target_constant", f"in the complete rows the target {quoted(target)} has one value only; there "
                                          "is nothing to learn — fill in missing values or pick another column")
    if task == "classification":
        classes = sorted(labels.unique())
        codes = torch.tensor(labels.map({c: k for k, c in enumerate(classes)}).to_numpy(np.int64))
        shown = [f"{k} = {quoted(c) if isinstance(c, str) else f'{c:g}'}" for k, c in enumerate(classes)]
        notes.append(f"classes: {', '.join(shown[:12])}{', …' if len(shown) > 12 else ''}")
        return Data(Xtr, codes[tr], Xv, codes[va], task, len(classes), tuple(names), tuple(notes),
                    class_names=tuple(str(c) if isinstance(c, str) else f"{c:g}" for c in classes), target_name=target)
    y = torch.tensor(labels.to_numpy(np.float64))[:, None]
    ytr, yv = standardize(y[tr], y[va])
    mean, std = (float(v) for v in scale_of(y[tr]))
    notes.append(f"target standardized with training statistics (mean {mean:.4g}, std {std:.4g}): a loss of 1 is "
                 "the loss of predicting the mean")
    return Data(Xtr, ytr.float(), Xv, yv.float(), task, 0, tuple(names), tuple(notes), target_scale=(mean, std),
                target_name=target)


def choose_task(t: Table, target: str, task: str | None, notes: list[str]) -> str:
    ycol, ynum = t.df[target], t.numeric.get(target)
    if ycol.notna().sum() == 0:
        raise CsvError("all_missing", f"the target column {quoted(target)} has no values; pick a column that has them")
    n_levels = int((ynum if ynum is not None else ycol).nunique())
    if n_levels < 2:
        raise CsvError("target_constant", f"the target column {quoted(target)} has one value only "
                                          f"({ycol.dropna().iloc[0][:40]!r}); nothing to learn — pick another column")
    if task in (None, "auto"):
        task = "classification" if ynum is None or n_levels <= AUTO_CLASSES else "regression"
        why = "text labels" if ynum is None else f"{n_levels} distinct numbers"
        notes.append(f"task: {task}, guessed from the target ({why}); set the task to override")
    if task == "regression" and ynum is None:
        example = ycol[pd.to_numeric(ycol, errors="coerce").isna() & ycol.notna()].iloc[0]
        raise CsvError("target_not_numeric", f"the target {quoted(target)} has text values such as {example[:40]!r}; "
                                             "regression needs numbers — use task classification or another column")
    if task == "classification" and n_levels > MAX_CLASSES:
        raise CsvError("too_many_classes", f"the target {quoted(target)} has {n_levels} distinct values; classification"
                                           f" allows at most {MAX_CLASSES} classes — use task regression or another "
                                           "column")
    return task


def _complete_rows(t: Table, target: str, used: list[ColumnInfo], notes: list[str]) -> pd.Series:
    """Rows with every used value present and finite in float32; the others are dropped and counted."""
    df = t.df
    missing = df[target].isna() | df[[i.name for i in used]].isna().any(axis=1)
    infinite = pd.Series(False, index=df.index)
    for c in [i.name for i in used if i.role == "feature"] + ([target] if target in t.numeric else []):
        infinite |= t.numeric[c].abs() > _F32_MAX
    infinite &= ~missing
    keep = ~(missing | infinite)
    n = int(keep.sum())
    if missing.any():
        notes.append(f"{int(missing.sum())} of {len(df)} rows dropped: a missing value in the target or a used feature")
    if infinite.any():
        notes.append(f"{int(infinite.sum())} rows dropped: an infinite value (or one beyond ±3.4e38, float32's range)")
    if n == 0 and missing.all():
        raise CsvError("all_missing", "no row is complete: every row lacks a value in the target or a used "
                                      "feature; fill them in or remove those columns")
    if n == 0:
        raise CsvError("infinite", "every complete row has an infinite value (inf, or beyond ±3.4e38); replace "
                                   "them with finite numbers or remove those columns")
    if n < MIN_ROWS:
        raise _too_few(n)
    return keep


def _encode(t: Table, used: list[ColumnInfo], keep: pd.Series, notes: list[str],
            max_cells: int) -> tuple[torch.Tensor, list[str]]:
    """float64 feature matrix of the kept rows: numeric columns as they are, few-valued text one-hot."""
    width, n = sum(i.n_distinct if i.role == "one-hot" else 1 for i in used), int(keep.sum())
    if width > MAX_FEATURES or width * n > max_cells:  # held as float64 while standardizing: 8 bytes each
        raise CsvError("too_many_columns", f"{n:,} rows × {width} features (after one-hot encoding) is too much: "
                                           f"at most {MAX_FEATURES} features and {max_cells:,} values — drop columns "
                                           "or rows")
    cols, names = [], []
    for i in used:
        if i.role == "feature":
            cols.append(t.numeric[i.name][keep].to_numpy(np.float64))
            names.append(i.name)
            continue
        values = t.df[i.name][keep]
        for level in sorted(values.unique()):
            cols.append((values == level).to_numpy(np.float64))
            names.append(f"{i.name}={level}")
    onehot = [f"{quoted(i.name)} ({i.n_distinct} values)" for i in used if i.role == "one-hot"]
    if onehot:
        notes.append("one-hot encoded (a 0/1 column per value): " + few(onehot))
    return torch.tensor(np.stack(cols, 1)), names


def find_target(df: pd.DataFrame, target: str, notes: list[str]) -> str:
    if target in df.columns:
        return target
    close = [c for c in df.columns if c.casefold() == str(target).strip().casefold()]
    if len(close) == 1:
        notes.append(f"target {quoted(str(target))} taken as column {quoted(close[0])}")
        return close[0]
    raise CsvError("target_missing", f"there is no column {quoted(str(target))}; the columns are: "
                                     f"{few([quoted(c) for c in df.columns], 20)} — name one of them as the target")


def _suggest_target(df: pd.DataFrame, twins: dict) -> str:
    filled = [c for c in df.columns if df[c].notna().any() and c not in twins] or list(df.columns)
    named = [c for c in filled if c.casefold() in ("target", "label", "y", "class", "outcome")]
    return (named or filled)[-1]


def _too_few(n: int) -> CsvError:
    return CsvError("too_few_rows", f"only {n} usable row{'s' if n != 1 else ''}; at least {MIN_ROWS} complete rows "
                                    "are needed to split into training and validation sets — add rows")
