"""The data part of a generated script: a preset's data as its registry entry writes it (DatasetSpec.code), or
your CSV read with pandas as the app read it."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pandas as pd

from wdlab.registry.dataset_spec import DATA_SEED, STANDARDIZE_CODE
from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig


DEFAULT_FILE = "data.csv"   # what a script reads when the table's own name is not a plain local file name
WIDTH = 110                 # a generated line's length, where names allow


@dataclass(frozen=True)
class CsvSource:
    """How the app read and encoded an uploaded table, so a script can do the same from the file."""

    file_name: str
    sep: str
    names: tuple[str, ...]            # every column's name as the app named it (blank → columnN, repeats get _)
    inputs: tuple[str, ...]           # the feature columns in file order
    one_hot: tuple[str, ...]          # which of them are one-hot encoded text
    decimal_comma: tuple[str, ...]    # numeric columns written with decimal commas
    target: str
    target_numeric: bool
    task: str
    val_fraction: float
    in_dim: int
    out_dim: int


def csv_source(raw: bytes, file_name: str, target: str, task: str | None = None, val_fraction: float = 0.2,
               limits=None, data=None) -> CsvSource:
    """Read the table as load_csv does and record every choice it made; CsvError if it cannot be trained on.
    `data`: what load_csv already returned for these arguments (else it is loaded here, for its checks)."""
    from wdlab.data import reading, tables  # deferred: reading a table needs pandas and torch; codegen stays light

    limits = limits or DEFAULT_LIMITS
    if data is None:
        data = tables.load_csv(raw, target, task, val_fraction=val_fraction, limits=limits)  # its checks, or CsvError
    task = None if task == "auto" else task
    t = reading.parse(raw, limits)
    target = tables.find_target(t.df, target, [])
    task = tables.choose_task(t, target, task, [])
    used = [i for i in (reading.describe(t, col) for col in t.df.columns if col != target) if i.role != "skipped"]
    comma = tuple(col for col in t.numeric if pd.to_numeric(t.df[col], errors="coerce").notna().sum()
                  < t.df[col].notna().sum())
    return CsvSource(file_name, t.sep, tuple(t.df.columns), tuple(i.name for i in used),
                     tuple(i.name for i in used if i.role == "one-hot"), comma, target, target in t.numeric,
                     task, float(val_fraction), data.in_dim, data.out_dim)


def plain_file_name(name: str) -> str | None:
    """`name` if a script may open it as it is: one file in the script's own folder (no folder, no URL, no drive,
    no `~`, no dot name, no control or format characters such as a newline or a bidi override); else None."""
    if not name or len(name) > 200 or name in (".", "..") or name.startswith(("~", ".")):
        return None
    if any(c in "/\\:" or unicodedata.category(c).startswith("C") for c in name):
        return None
    return name


def _wrap(prefix: str, items) -> list[str]:
    """`prefix` + a list of the items' reprs, broken into lines between items only (a name is never cut: a long
    one gets a line of its own)."""
    parts = [repr(i) for i in items]
    indent = " " * (len(prefix) + 1)
    lines, line = [], prefix + "["
    for k, part in enumerate(parts):
        piece = part + (", " if k < len(parts) - 1 else "")
        if line.strip() not in ("", prefix.strip() + "[") and len(line + piece.rstrip()) > WIDTH:
            lines.append(line.rstrip())
            line = indent
        line += piece
    return lines + [line + "]"]


def data_lines(cfg: SweepConfig, seed: int, csv: CsvSource | None) -> list[str]:
    """X_train, y_train, X_val, y_val exactly as the app's dataset registry makes them for this sweep (a CSV's:
    as the app read `csv`)."""
    if csv is not None:
        return _csv_lines(csv)
    spec = DATASETS[cfg.preset]
    if spec.code is None:
        raise ValueError(f"no code for preset {cfg.preset!r}")
    return spec.code(*spec.sizes(cfg.val_fraction))


def _csv_lines(s: CsvSource) -> list[str]:
    name = plain_file_name(s.file_name)
    where = [] if name is not None else \
        [f"# put your table's file in this script's folder as {DEFAULT_FILE} (its own name is not a plain file name)"]
    lines = [*STANDARDIZE_CODE,
        "# your table, read as the app read it: every cell as text, stripped; empty cells are missing", *where,
        f"table = pd.read_csv({name or DEFAULT_FILE!r}, sep={s.sep!r}, header=None, dtype=str, skipinitialspace=True, "
        "encoding=\"utf-8-sig\")",
        "table = table.iloc[1:].reset_index(drop=True)  # the first row holds the names",
        *_wrap("table.columns = ", s.names),
        "table = table.apply(lambda s: s.str.strip()).replace(\"\", np.nan)",
        *_wrap("inputs = ", s.inputs),
        *_wrap("one_hot = ", s.one_hot),
        *_wrap("decimal_comma = ", s.decimal_comma),
        f"target = {s.target!r}",
        "",
        "",
        "def number(name):",
        "    text = table[name].str.replace(\",\", \".\", regex=False) if name in decimal_comma else table[name]",
        "    return pd.to_numeric(text, errors=\"coerce\")",
        "",
        "",
        "# rows with a missing value in the target or an input, or a number beyond float32's range, are dropped",
        "keep = table[inputs + [target]].notna().all(axis=1)",
        "for name in [c for c in inputs if c not in one_hot]" + (" + [target]" if s.target_numeric else "") + ":",
        "    keep &= ~(number(name).abs() > 3.4028234663852886e+38)",
        "columns = []",
        "for name in inputs:",
        "    if name in one_hot:  # a 0/1 column per value",
        "        values = table[name][keep]",
        "        columns += [(values == level).to_numpy(np.float64) for level in sorted(values.unique())]",
        "    else:",
        "        columns.append(number(name)[keep].to_numpy(np.float64))",
        "X = torch.tensor(np.stack(columns, 1))",
        f"split = torch.randperm(len(X), generator=torch.Generator().manual_seed({DATA_SEED}))  # a seeded split",
        f"n_val = max(1, round(len(X) * {s.val_fraction!r}))",
        "val, train = split[:n_val], split[n_val:]",
        "X_train, X_val = (x.float() for x in standardize(X[train], X[val]))",
        "labels = (" + ("number(target)" if s.target_numeric else "table[target]") + ")[keep]",
    ]
    if s.task == "classification":
        return lines + ["classes = sorted(labels.unique())",
                        "y = torch.tensor(labels.map({c: k for k, c in enumerate(classes)}).to_numpy(np.int64))",
                        "y_train, y_val = y[train], y[val]"]
    return lines + ["y = torch.tensor(labels.to_numpy(np.float64))[:, None]",
                    "y_train, y_val = (t.float() for t in standardize(y[train], y[val]))  # the target too"]
