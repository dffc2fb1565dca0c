"""Your own table: CSV bytes -> checked, encoded, standardized Data, or a CsvError saying what to do."""
from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from wdlab.settings.config import DEFAULT_LIMITS, Limits
from wdlab.registry.dataset_spec import DATA_SEED, TASKS, Data, not_a_file, standardize

MB = 1_000_000         # what the messages call a megabyte (Streamlit's browser-side MB)
MAX_COLUMNS = 500      # columns read from one file
MAX_ROWS = 100_000     # data rows read from one file
MAX_FEATURES = 1000    # model inputs after one-hot encoding
MAX_LEVELS = 10        # a text column with at most this many distinct values is one-hot encoded
AUTO_CLASSES = 10      # a numeric target with at most this many distinct values is taken as class labels
MAX_CLASSES = 50       # classes a classification target may have
MIN_ROWS = 10          # complete rows needed for a training and a validation set
MAX_MISSING = 0.5      # a feature missing in more than this share of rows is skipped rather than cost rows
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_F32_MAX = float(torch.finfo(torch.float32).max)  # beyond this a value would be inf in the float32 model
_MAGIC = {b"PK\x03\x04": "a zip archive or an Excel .xlsx workbook", b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
          b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
          b"\x1f\x8b": "a gzip archive", b"SQLite format": "an SQLite database"}
_EXPORT = "export the table as CSV text (comma- or semicolon-separated, UTF-8) and try again"


class CsvError(ValueError):
    """The table cannot be used. `kind` names the problem for code; the message says what to do, in one line."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # empty, binary, not_utf8, too_large, target_missing, ... (see tests/test_csvdata.py)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str          # numeric | categorical (few text values) | text | empty
    n_missing: int
    n_distinct: int
    role: str          # feature | one-hot | skipped   (as a feature column, i.e. when it is not the target)
    why: str = ""      # why it is skipped, or how it is encoded


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


@dataclass
class _Table:
    df: pd.DataFrame                               # text cells, stripped; missing = NaN
    sep: str
    numeric: dict[str, pd.Series] = field(default_factory=dict)  # columns whose every value is a number
    notes: list[str] = field(default_factory=list)
    twins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> every column of its header name


def read_file(path: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, refusing one over the size cap before reading it (and reading at most cap + 1 bytes)."""
    cap = limits.max_upload_bytes
    try:
        problem = not_a_file(path)
        if problem:
            raise CsvError("unreadable", problem)
        size = os.stat(path).st_size
        if size > cap:
            raise _too_large(size, limits)
        with open(path, "rb") as f:
            raw = f.read(cap + 1)  # a device or a growing file may report a smaller size than it yields
    except FileNotFoundError:
        raise CsvError("not_found", f"{path}: no such file; check the path") from None
    except OSError as e:
        raise CsvError("unreadable", f"cannot read {path}: {e.strerror}; check the path and its permissions") from None
    if len(raw) > cap:
        raise _too_large(len(raw), limits)
    return raw


def inspect_csv(raw: bytes, limits: Limits = DEFAULT_LIMITS, preview_rows: int = 10) -> CsvSummary:
    """Parse and describe a table (columns, kinds, first rows, a suggested target) without choosing anything."""
    t = _parse(raw, limits)
    infos = tuple(_describe(t, c) for c in t.df.columns)
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
    t = _parse(raw, limits)
    notes = list(t.notes)
    target = _find_target(t.df, target, notes)
    if target in t.twins:  # its twin would be a feature: the answer would leak into the inputs
        twins = t.twins[target]
        raise CsvError("target_duplicate", f"the target {_q(target)} shares its name with {len(twins) - 1} other "
                                           f"column{'s' if len(twins) > 2 else ''} ({', '.join(_q(n) for n in twins)}"
                                           " once spaces are trimmed), which would be used as a feature and leak "
                                           "the answer; rename or remove the copies, or pick another target")
    if len(t.df) < MIN_ROWS:
        raise _too_few(len(t.df))
    task = _choose_task(t, target, task, notes)
    infos = [_describe(t, c) for c in t.df.columns if c != target]
    used = [i for i in infos if i.role != "skipped"]
    skipped = [f"{_q(i.name)} ({i.why})" for i in infos if i.role == "skipped"]
    if not used:
        raise CsvError("no_numeric_features", "no column can be a feature: " + _few(skipped) + "; add numeric "
                                              f"columns (or text columns with at most {MAX_LEVELS} distinct values)")
    keep = _complete_rows(t, target, used, notes)
    X, names = _encode(t, used, keep, notes, limits.max_table_cells)
    if skipped:
        notes.append("skipped, not used as features: " + _few(skipped))
    n = len(X)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = max(1, round(n * val_fraction))
    va, tr = perm[:n_val], perm[n_val:]
    Xtr, Xv = (x.float() for x in standardize(X[tr], X[va]))
    notes.append(f"{n - n_val} training and {n_val} validation rows (seeded split); {len(names)} features "
                 "standardized with training statistics")
    labels = (t.numeric.get(target, t.df[target]))[keep]
    if labels.nunique() < 2:
        raise CsvError("target_constant", f"in the complete rows the target {_q(target)} has one value only; there "
                                          "is nothing to learn — fill in missing values or pick another column")
    if task == "classification":
        classes = sorted(labels.unique())
        codes = torch.tensor(labels.map({c: k for k, c in enumerate(classes)}).to_numpy(np.int64))
        shown = [f"{k} = {_q(c) if isinstance(c, str) else f'{c:g}'}" for k, c in enumerate(classes)]
        notes.append(f"classes: {', '.join(shown[:12])}{', …' if len(shown) > 12 else ''}")
        return Data(Xtr, codes[tr], Xv, codes[va], task, len(classes), tuple(names), tuple(notes))
    y = torch.tensor(labels.to_numpy(np.float64))[:, None]
    ytr, yv = standardize(y[tr], y[va])
    notes.append(f"target standardized with training statistics (mean {float(y[tr].mean()):.4g}, std "
                 f"{float(y[tr].std()):.4g}): a loss of 1 is the loss of predicting the mean")
    return Data(Xtr, ytr.float(), Xv, yv.float(), task, 0, tuple(names), tuple(notes))


def _choose_task(t: _Table, target: str, task: str | None, notes: list[str]) -> str:
    ycol, ynum = t.df[target], t.numeric.get(target)
    if ycol.notna().sum() == 0:
        raise CsvError("all_missing", f"the target column {_q(target)} has no values; pick a column that has them")
    n_levels = int((ynum if ynum is not None else ycol).nunique())
    if n_levels < 2:
        raise CsvError("target_constant", f"the target column {_q(target)} has one value only "
                                          f"({ycol.dropna().iloc[0][:40]!r}); nothing to learn — pick another column")
    if task in (None, "auto"):
        task = "classification" if ynum is None or n_levels <= AUTO_CLASSES else "regression"
        why = "text labels" if ynum is None else f"{n_levels} distinct numbers"
        notes.append(f"task: {task}, guessed from the target ({why}); set the task to override")
    if task == "regression" and ynum is None:
        example = ycol[pd.to_numeric(ycol, errors="coerce").isna() & ycol.notna()].iloc[0]
        raise CsvError("target_not_numeric", f"the target {_q(target)} has text values such as {example[:40]!r}; "
                                             "regression needs numbers — use task classification or another column")
    if task == "classification" and n_levels > MAX_CLASSES:
        raise CsvError("too_many_classes", f"the target {_q(target)} has {n_levels} distinct values; classification"
                                           f" allows at most {MAX_CLASSES} classes — use task regression or another "
                                           "column")
    return task


def _complete_rows(t: _Table, target: str, used: list[ColumnInfo], notes: list[str]) -> pd.Series:
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


def _encode(t: _Table, used: list[ColumnInfo], keep: pd.Series, notes: list[str],
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
    onehot = [f"{_q(i.name)} ({i.n_distinct} values)" for i in used if i.role == "one-hot"]
    if onehot:
        notes.append("one-hot encoded (a 0/1 column per value): " + _few(onehot))
    return torch.tensor(np.stack(cols, 1)), names


def _parse(raw: bytes, limits: Limits) -> _Table:
    text = _decode(raw, limits)
    sep = _sniff(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # header=None: a row longer than the first is an error naming its line, never a silent index column
            df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, skipinitialspace=True,
                             nrows=MAX_ROWS + 2, engine="c")
    except pd.errors.EmptyDataError:
        raise CsvError("empty", "the file has no data; choose a CSV file with a header row and data rows") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as e:
        raise _malformed(str(e), sep) from None
    t = _Table(df, sep)
    if sep != ",":
        t.notes.append(f"columns are separated by {DELIMITERS[sep]}")
    names, seen, groups = [], set(), {}
    for i, v in enumerate(df.iloc[0]):
        base = str(v).strip() if isinstance(v, str) and v.strip() else f"column{i + 1}"
        name = base
        while name in seen:  # two columns must not share a name: the target is chosen by name
            name += "_"
        seen.add(name)
        names.append(name)
        groups.setdefault(base, []).append((i, v, name))
    for base, cols in groups.items():
        if len(cols) > 1:  # " y " and "y " are both "y": say so, and never let one be the target
            for _, _, name in cols:
                t.twins[name] = tuple(n for _, _, n in cols)
            t.notes.append(f"{len(cols)} columns are named {_q(base)} once spaces are trimmed (columns "
                           f"{', '.join(str(i + 1) for i, _, _ in cols)}, headers "
                           f"{', '.join(_q(str(v)) for _, v, _ in cols)}): read as "
                           f"{', '.join(_q(n) for _, _, n in cols)}; none of them can be the target")
    if pd.to_numeric(pd.Series(names), errors="coerce").notna().all():
        t.notes.append("the first row is read as column names; if it is data, add a header row")
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = names
    df = df.apply(lambda s: s.str.strip()).replace("", np.nan)
    if df.shape[1] < 2:
        raise CsvError("one_column", "only one column was found (separators tried: comma, semicolon, tab, |); a "
                                     "table needs a target and at least one feature column — check the separator")
    if len(df) == 0:
        raise CsvError("header_only", "the file has a header but no data rows; add rows below the header")
    if len(df) > MAX_ROWS:
        raise CsvError("too_many_rows", f"the file has more than {MAX_ROWS:,} data rows; keep at most {MAX_ROWS:,} "
                                        "(a random sample works)")
    if not df.notna().any().any():
        raise CsvError("all_missing", "every value in the file is missing (empty or NA); fill in the data")
    t.df = df
    comma_decimal = []
    for c in df.columns:
        s = df[c]
        num = pd.to_numeric(s, errors="coerce")
        if sep == ";" and num.notna().sum() < s.notna().sum() and s.dropna().str.fullmatch(r"[+-]?\d+,\d*").all():
            num = pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce")
            comma_decimal.append(c)
        if s.notna().any() and num.notna().sum() == s.notna().sum():
            t.numeric[c] = num
    if comma_decimal:
        t.notes.append("decimal commas read as decimal points in: " + _few([_q(c) for c in comma_decimal]))
    return t


def _decode(raw: bytes, limits: Limits) -> str:
    if not isinstance(raw, (bytes, bytearray)):
        raise CsvError("bad_option", f"expected the file's bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_upload_bytes:
        raise _too_large(len(raw), limits)
    if not raw.strip():
        raise CsvError("empty", "the file is empty; choose a CSV file with a header row and data rows")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvError("not_utf8", "the file is UTF-16 text; save it as UTF-8 CSV (Excel: Save As → CSV UTF-8)")
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise CsvError("binary", f"this is {what}, not a CSV text file; {_EXPORT}")
    head = raw[:65536]
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if b"\x00" in raw or controls > len(head) // 100:
        raise CsvError("binary", f"the file is binary data, not CSV text; {_EXPORT}")
    try:
        return bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvError("not_utf8", f"the file is not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x}); save it as "
                                   "UTF-8 CSV (Excel: Save As → CSV UTF-8) and try again") from None


def _sniff(text: str) -> str:
    """The separator whose field count is most consistent across the first rows (ties: the most fields)."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")  # a loop, not a regex: linear time
    header = re.sub(r'"[^"]*"', "", header)  # separators inside quotes do not count
    counts = {d: header.count(d) + 1 for d in DELIMITERS}
    if max(counts.values()) > MAX_COLUMNS:
        raise CsvError("too_many_columns", f"the header has {max(counts.values()):,} columns; at most {MAX_COLUMNS} "
                                           "are read — keep fewer columns")
    sample = text[:65536]
    sample = sample[:sample.rfind("\n") + 1] if len(text) > len(sample) else sample
    best, best_score = ",", (-1.0, 0)
    for d, count in counts.items():
        if count < 2:
            continue
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=d) if any(c.strip() for c in r)][:50]
        except csv.Error:
            continue
        score = (sum(len(r) == len(rows[0]) for r in rows) / len(rows), count) if rows else (0.0, count)
        if score > best_score:
            best, best_score = d, score
    return best


def _describe(t: _Table, c: str) -> ColumnInfo:
    s, num = t.df[c], t.numeric.get(c)
    n_missing, n, distinct = int(s.isna().sum()), len(s), int((s if num is None else num).nunique())
    kind = "empty" if not distinct else "numeric" if num is not None else \
        "categorical" if distinct <= MAX_LEVELS else "text"
    why = next((w for bad, w in ((kind == "empty", "no values"),
                                 (n_missing > MAX_MISSING * n, f"missing in {n_missing / n:.0%} of rows"),
                                 (distinct == 1, "constant"),
                                 (kind == "text", f"text with {distinct} distinct values")) if bad), "")
    role = "skipped" if why else "feature" if kind == "numeric" else "one-hot"
    return ColumnInfo(c, kind, n_missing, distinct, role, why)


def _find_target(df: pd.DataFrame, target: str, notes: list[str]) -> str:
    if target in df.columns:
        return target
    close = [c for c in df.columns if c.casefold() == str(target).strip().casefold()]
    if len(close) == 1:
        notes.append(f"target {_q(str(target))} taken as column {_q(close[0])}")
        return close[0]
    raise CsvError("target_missing", f"there is no column {_q(str(target))}; the columns are: "
                                     f"{_few([_q(c) for c in df.columns], 20)} — name one of them as the target")


def _suggest_target(df: pd.DataFrame, twins: dict) -> str:
    filled = [c for c in df.columns if df[c].notna().any() and c not in twins] or list(df.columns)
    named = [c for c in filled if c.casefold() in ("target", "label", "y", "class", "outcome")]
    return (named or filled)[-1]


def _malformed(message: str, sep: str) -> CsvError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return CsvError("malformed", f"line {m[2]} has {m[3]} fields but the header has {m[1]} (separated by "
                                     f"{DELIMITERS[sep]}); quote fields that contain the separator, or fix that line")
    m = re.search(r"EOF inside string starting at row (\d+)", message)
    if m:
        return CsvError("malformed", f"a quote (\") opened on line {int(m[1]) + 1} is never closed; close it or "
                                     "remove the stray quote")
    return CsvError("malformed", f"the file cannot be read as CSV ({' '.join(message.split())[:120]}); {_EXPORT}")


def _too_few(n: int) -> CsvError:
    return CsvError("too_few_rows", f"only {n} usable row{'s' if n != 1 else ''}; at least {MIN_ROWS} complete rows "
                                    "are needed to split into training and validation sets — add rows")


def _too_large(size: int, limits: Limits) -> CsvError:
    return CsvError("too_large", f"the file is {size:,} bytes; at most {upload_cap(limits)} are accepted — keep fewer "
                                 "rows or columns")


def upload_cap(limits: Limits) -> str:
    """The upload limit as every message states it: exact bytes, and megabytes of 10⁶ bytes."""
    return f"{limits.max_upload_bytes:,} bytes ({limits.max_upload_bytes / MB:g} MB)"


def _q(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:40] + "…")


def _few(items: list[str], k: int = 8) -> str:
    return ", ".join(items[:k]) + (f" and {len(items) - k} more" if len(items) > k else "")
