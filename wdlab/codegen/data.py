"""The data part of a generated script: each preset's data written out as plain torch (or pandas for a CSV)."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig
from wdlab.registry.datasets import DATA_SEED, DATASETS, SINE_INTERVAL, SINE_NOISE

STANDARDIZE = [
    "def standardize(train, *others):  # with the training set's mean and std; a constant column stays as it is",
    "    mean, std = train.mean(0, keepdim=True), train.std(0, keepdim=True)",
    "    std = torch.where(std > 0, std, torch.ones_like(std))",
    "    return [(t - mean) / std for t in (train, *others)]",
    "",
    "",
]


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


def _wrap(prefix: str, items) -> list[str]:
    text = prefix + "[" + ", ".join(repr(i) for i in items) + "]"
    return textwrap.wrap(text, 110, subsequent_indent=" " * (len(prefix) + 1), break_long_words=False,
                         break_on_hyphens=False) or [text]


def data_lines(cfg: SweepConfig, seed: int, csv: CsvSource | None) -> list[str]:
    """X_train, y_train, X_val, y_val exactly as the app's dataset registry makes them for this sweep."""
    spec = DATASETS[cfg.preset]
    n_train, n_val = spec.sizes(cfg.val_fraction) if cfg.preset != "csv" else (0, 0)
    if cfg.preset == "tutorial":
        return ["# the course's data: pure noise, drawn right after the model (then a held-out set of the same)",
                f"X_train = torch.randn({n_train}, 20)",
                f"y_train = torch.randn({n_train}, 1)",
                f"X_val = torch.randn({n_val}, 20)",
                f"y_val = torch.randn({n_val}, 1)"]
    if cfg.preset == "highdim-linear":
        n = n_train + n_val
        return ["# y = 0.05 + Σ 0.01·x_i + noise: 200 features, few samples (drawn once, with its own seed)",
                f"g = torch.Generator().manual_seed({DATA_SEED})",
                f"X = torch.randn({n}, 200, generator=g)",
                f"y = 0.05 + X.sum(1, keepdim=True) * 0.01 + 0.01 * torch.randn({n}, 1, generator=g)",
                f"X_train, y_train, X_val, y_val = X[:{n_train}], y[:{n_train}], X[{n_train}:], y[{n_train}:]"]
    if cfg.preset == "sine":
        lo, hi = SINE_INTERVAL
        return ["# y = sin(1.5x) + noise at random x; held out: the curve itself on an even grid (drawn once, with "
                "its own seed)",
                f"g = torch.Generator().manual_seed({DATA_SEED})",
                f"X_train = {lo!r} + {hi - lo!r} * torch.rand({n_train}, 1, generator=g)",
                f"y_train = torch.sin(1.5 * X_train) + {SINE_NOISE!r} * torch.randn({n_train}, 1, generator=g)",
                f"X_val = torch.linspace({lo!r}, {hi!r}, {n_val})[:, None]",
                "y_val = torch.sin(1.5 * X_val)"]
    if cfg.preset in ("moons", "spirals"):
        n = n_train + n_val
        if cfg.preset == "moons":
            shape = ["angle = t * math.pi",
                     "x1 = torch.where(labels == 0, torch.cos(angle), 1 - torch.cos(angle))",
                     "x2 = torch.where(labels == 0, torch.sin(angle), 0.5 - torch.sin(angle))",
                     f"X = torch.stack([x1, x2], 1) + 0.3 * torch.randn({n}, 2, generator=g)"]
        else:
            shape = ["r = 0.2 + 2.8 * t",
                     "angle = 3.5 * math.pi * t + math.pi * labels",
                     f"X = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1) "
                     f"+ 0.25 * torch.randn({n}, 2, generator=g)"]
        return STANDARDIZE + [
            f"# {spec.description.rstrip('.')} (drawn once, with its own seed)",
            f"g = torch.Generator().manual_seed({DATA_SEED})",
            f"labels = (torch.arange({n}) % 2)[torch.randperm({n}, generator=g)]  # two balanced classes",
            f"t = torch.rand({n}, generator=g)",
            *shape,
            f"X_train, X_val = standardize(X[:{n_train}], X[{n_train}:])",
            f"y_train, y_val = labels[:{n_train}], labels[{n_train}:]"]
    if cfg.preset in ("digits", "diabetes", "breast-cancer"):
        loader = {"digits": "load_digits", "diabetes": "load_diabetes", "breast-cancer": "load_breast_cancer"}
        lines = STANDARDIZE + [
            f"# scikit-learn's bundled table (no download), split with a seeded permutation, standardized",
            "from sklearn.datasets import " + loader[cfg.preset],
            "",
            f"table = {loader[cfg.preset]}()",
            "X = torch.tensor(table.data, dtype=torch.float32)",
            f"split = torch.randperm(len(X), generator=torch.Generator().manual_seed({DATA_SEED}))",
            f"train, val = split[{n_val}:], split[:{n_val}]",
            "X_train, X_val = standardize(X[train], X[val])"]
        if spec.task == "classification":
            return lines + ["y = torch.tensor(table.target, dtype=torch.int64)",
                            "y_train, y_val = y[train], y[val]"]
        return lines + ["y = torch.tensor(table.target, dtype=torch.float32)[:, None]",
                        "y_train, y_val = standardize(y[train], y[val])  # the target too"]
    if cfg.preset == "csv":
        return _csv_lines(csv)
    raise ValueError(f"no code for preset {cfg.preset!r}")


def _csv_lines(s: CsvSource) -> list[str]:
    lines = STANDARDIZE + [
        "# your table, read as the app read it: every cell as text, stripped; empty cells are missing",
        f"table = pd.read_csv({s.file_name!r}, sep={s.sep!r}, header=None, dtype=str, skipinitialspace=True, "
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
