"""Dataset registry: name -> seeded, offline generator, incl. the course's own data, and the same data written
out as plain torch for an exported script. Adding a dataset is one DatasetSpec here (register() at run time)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

from wdlab.errors import ConfigError
from wdlab.registry.dataset_spec import DATA_SEED, STANDARDIZE_CODE, Data, DatasetSpec, scale_of, standardize

if TYPE_CHECKING:  # torch is imported where data is made: validating a config needs no torch
    import torch


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add (or replace) a dataset: every surface lists what DATASETS holds when it is used ("csv" stays last)."""
    DATASETS[spec.name] = spec
    if spec.name != "csv" and "csv" in DATASETS:
        DATASETS["csv"] = DATASETS.pop("csv")
    return spec


def _tutorial(seed: int, vf: float) -> Data:
    import torch  # deferred: settings need no torch
    # The course's data: X = randn(1000, 20), y = randn(1000, 1) right after the model, then a held-out set.
    n_train, n_val = TUTORIAL.sizes(vf)
    X, y = torch.randn(n_train, 20), torch.randn(n_train, 1)
    Xv, yv = torch.randn(n_val, 20), torch.randn(n_val, 1)
    return Data(X, y, Xv, yv, "regression", feature_names=tuple(f"x{i}" for i in range(20)),
                notes=("targets are pure noise: nothing to learn, everything fitted is memorised",))


def _tutorial_code(n_train: int, n_val: int) -> list[str]:
    return ["# the course's data: pure noise, drawn right after the model (then a held-out set of the same)",
            f"X_train = torch.randn({n_train}, 20)", f"y_train = torch.randn({n_train}, 1)",
            f"X_val = torch.randn({n_val}, 20)", f"y_val = torch.randn({n_val}, 1)"]


def _highdim(seed: int, vf: float) -> Data:
    import torch  # deferred: settings need no torch
    # Few samples, many features (d2l's example): y = 0.05 + Σ 0.01·xᵢ + N(0, 0.01²).
    n_train, n_val = HIGHDIM.sizes(vf)
    g = torch.Generator().manual_seed(DATA_SEED)
    X = torch.randn(n_train + n_val, 200, generator=g)
    y = 0.05 + X.sum(1, keepdim=True) * 0.01 + 0.01 * torch.randn(n_train + n_val, 1, generator=g)
    return Data(X[:n_train], y[:n_train], X[n_train:], y[n_train:], "regression",
                feature_names=tuple(f"x{i}" for i in range(200)))


def _highdim_code(n_train: int, n_val: int) -> list[str]:
    n = n_train + n_val
    return ["# y = 0.05 + Σ 0.01·x_i + noise: 200 features, few samples (drawn once, with its own seed)",
            f"g = torch.Generator().manual_seed({DATA_SEED})",
            f"X = torch.randn({n}, 200, generator=g)",
            f"y = 0.05 + X.sum(1, keepdim=True) * 0.01 + 0.01 * torch.randn({n}, 1, generator=g)",
            f"X_train, y_train, X_val, y_val = X[:{n_train}], y[:{n_train}], X[{n_train}:], y[{n_train}:]"]


SINE_INTERVAL = (-3.0, 3.0)
SINE_NOISE = 0.3      # standard deviation of the noise on the training targets (the held-out ones have none)


def sine_truth(x):
    """The smooth function the `sine` preset samples (a tensor or an array of x): what a good fit draws."""
    import torch  # deferred: settings need no torch
    return torch.sin(1.5 * torch.as_tensor(x))


def _sine(seed: int, vf: float) -> Data:
    import torch  # deferred: settings need no torch
    # 20 training x drawn uniformly on the interval, y = sin(1.5x) + N(0, 0.3²); held out, the function itself
    # (no noise) on an even grid of 200 x over the same interval: its loss is the mean squared distance of the
    # fitted curve from sin(1.5x), evenly over x, with no noise in the measurement.
    n_train, n_val = SINE.sizes(vf)
    g = torch.Generator().manual_seed(DATA_SEED)
    lo, hi = SINE_INTERVAL
    x = lo + (hi - lo) * torch.rand(n_train, 1, generator=g)
    y = sine_truth(x) + SINE_NOISE * torch.randn(n_train, 1, generator=g)
    xv = torch.linspace(lo, hi, n_val)[:, None]
    return Data(x, y, xv, sine_truth(xv), "regression", feature_names=("x",),
                notes=(f"held out: sin(1.5x) itself on {n_val} evenly spaced x, without noise; a perfect fit has "
                       f"validation loss 0 and training loss ≈ {SINE_NOISE ** 2:g} (the noise)",))


def _sine_code(n_train: int, n_val: int) -> list[str]:
    lo, hi = SINE_INTERVAL
    return ["# y = sin(1.5x) + noise at random x; held out: the curve itself on an even grid (drawn once, with "
            "its own seed)",
            f"g = torch.Generator().manual_seed({DATA_SEED})",
            f"X_train = {lo!r} + {hi - lo!r} * torch.rand({n_train}, 1, generator=g)",
            f"y_train = torch.sin(1.5 * X_train) + {SINE_NOISE!r} * torch.randn({n_train}, 1, generator=g)",
            f"X_val = torch.linspace({lo!r}, {hi!r}, {n_val})[:, None]",
            "y_val = torch.sin(1.5 * X_val)"]


def _two_class(points: Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor], spec_name: str):
    def make(seed: int, vf: float) -> Data:
        import torch  # deferred: settings need no torch
        n_train, n_val = DATASETS[spec_name].sizes(vf)
        g = torch.Generator().manual_seed(DATA_SEED)
        n = n_train + n_val
        labels = torch.arange(n) % 2
        labels = labels[torch.randperm(n, generator=g)]
        t = torch.rand(n, generator=g)
        X = points(t, labels, g)
        Xtr, Xv = standardize(X[:n_train], X[n_train:])
        return Data(Xtr, labels[:n_train], Xv, labels[n_train:], "classification", 2, ("x1", "x2"))
    return make


def _two_class_code(shape: Callable[[int], list[str]], spec_name: str):
    def code(n_train: int, n_val: int) -> list[str]:
        n = n_train + n_val
        return [*STANDARDIZE_CODE,
                f"# {DATASETS[spec_name].description.rstrip('.')} (drawn once, with its own seed)",
                f"g = torch.Generator().manual_seed({DATA_SEED})",
                f"labels = (torch.arange({n}) % 2)[torch.randperm({n}, generator=g)]  # two balanced classes",
                f"t = torch.rand({n}, generator=g)",
                *shape(n),
                f"X_train, X_val = standardize(X[:{n_train}], X[{n_train}:])",
                f"y_train, y_val = labels[:{n_train}], labels[{n_train}:]"]
    return code


def _moons(t, labels, g):
    import torch  # deferred: settings need no torch
    angle = t * math.pi
    x = torch.where(labels == 0, torch.cos(angle), 1 - torch.cos(angle))
    y = torch.where(labels == 0, torch.sin(angle), 0.5 - torch.sin(angle))
    return torch.stack([x, y], 1) + 0.3 * torch.randn(len(t), 2, generator=g)


def _moons_code(n: int) -> list[str]:
    return ["angle = t * math.pi",
            "x1 = torch.where(labels == 0, torch.cos(angle), 1 - torch.cos(angle))",
            "x2 = torch.where(labels == 0, torch.sin(angle), 0.5 - torch.sin(angle))",
            f"X = torch.stack([x1, x2], 1) + 0.3 * torch.randn({n}, 2, generator=g)"]


def _spirals(t, labels, g):
    import torch  # deferred: settings need no torch
    r = 0.2 + 2.8 * t
    angle = 3.5 * math.pi * t + math.pi * labels
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1) + 0.25 * torch.randn(len(t), 2, generator=g)


def _spirals_code(n: int) -> list[str]:
    return ["r = 0.2 + 2.8 * t",
            "angle = 3.5 * math.pi * t + math.pi * labels",
            f"X = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1) "
            f"+ 0.25 * torch.randn({n}, 2, generator=g)"]


def _sklearn(loader_name: str, task: str, spec_name: str):
    def make(seed: int, vf: float) -> Data:
        import torch  # deferred: settings need no torch
        import sklearn.datasets  # deferred: ships these small tables inside the package: offline
        bunch = getattr(sklearn.datasets, loader_name)()
        X = torch.tensor(bunch.data, dtype=torch.float32)
        n_train, n_val = DATASETS[spec_name].sizes(vf)
        perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(DATA_SEED))
        tr, va = perm[n_val:], perm[:n_val]
        Xtr, Xv = standardize(X[tr], X[va])
        names = tuple(str(f) for f in getattr(bunch, "feature_names", [f"x{i}" for i in range(X.shape[1])]))
        if task == "classification":
            y = torch.tensor(bunch.target, dtype=torch.int64)
            classes = tuple(str(c) for c in getattr(bunch, "target_names", range(int(y.max()) + 1)))
            return Data(Xtr, y[tr], Xv, y[va], task, int(y.max()) + 1, names, class_names=classes)
        y = torch.tensor(bunch.target, dtype=torch.float32)[:, None]
        ytr, yv = standardize(y[tr], y[va])
        mean, std = scale_of(y[tr])
        return Data(Xtr, ytr, Xv, yv, task, 0, names, ("target standardized with training statistics",),
                    target_scale=(float(mean), float(std)))
    return make


def _sklearn_code(loader_name: str, task: str):
    def code(n_train: int, n_val: int) -> list[str]:
        lines = [*STANDARDIZE_CODE,
                 "# scikit-learn's bundled table (no download), split with a seeded permutation, standardized",
                 f"from sklearn.datasets import {loader_name}",
                 "",
                 f"table = {loader_name}()",
                 "X = torch.tensor(table.data, dtype=torch.float32)",
                 f"split = torch.randperm(len(X), generator=torch.Generator().manual_seed({DATA_SEED}))",
                 f"train, val = split[{n_val}:], split[:{n_val}]",
                 "X_train, X_val = standardize(X[train], X[val])"]
        if task == "classification":
            return lines + ["y = torch.tensor(table.target, dtype=torch.int64)", "y_train, y_val = y[train], y[val]"]
        return lines + ["y = torch.tensor(table.target, dtype=torch.float32)[:, None]",
                        "y_train, y_val = standardize(y[train], y[val])  # the target too"]
    return code


def _sklearn_spec(name: str, title: str, description: str, task: str, in_dim: int, out_dim: int, n_total: int,
                  loader_name: str, defaults: dict[str, Any], image: tuple[int, int] | None = None) -> DatasetSpec:
    return DatasetSpec(name, title, description, task, in_dim, out_dim, n_total, 0.25,
                       _sklearn(loader_name, task, name), defaults=defaults, code=_sklearn_code(loader_name, task),
                       code_requires=("scikit-learn",), image=image)


def _modular(p: int, spec_name: str):
    def make(seed: int, vf: float) -> Data:
        import torch  # deferred: settings need no torch
        # every pair (a, b) once, as two one-hot blocks [a | b] (2p inputs); class (a + b) mod p; one fixed split
        n_train, n_val = DATASETS[spec_name].sizes(vf)
        a, b = torch.arange(p).repeat_interleave(p), torch.arange(p).repeat(p)
        X = torch.zeros(p * p, 2 * p)
        X[torch.arange(p * p), a] = 1.0
        X[torch.arange(p * p), p + b] = 1.0
        y = (a + b) % p
        perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(DATA_SEED))
        tr, va = perm[n_val:], perm[:n_val]
        names = tuple(f"a={i}" for i in range(p)) + tuple(f"b={i}" for i in range(p))
        return Data(X[tr], y[tr], X[va], y[va], "classification", p, names, notes=
                    (f"all {p * p} pairs (a, b), {n_train} of them for training: the rest can only be right "
                     "if the network found the rule",))
    return make


def _modular_code(p: int):
    def code(n_train: int, n_val: int) -> list[str]:
        return [f"# every pair (a, b) of 0…{p - 1} as two one-hot blocks [a | b], class (a + b) mod {p}; "
                "one fixed split",
                f"a, b = torch.arange({p}).repeat_interleave({p}), torch.arange({p}).repeat({p})",
                f"X = torch.zeros({p * p}, {2 * p})",
                f"X[torch.arange({p * p}), a] = 1.0",
                f"X[torch.arange({p * p}), {p} + b] = 1.0",
                f"y = (a + b) % {p}",
                f"split = torch.randperm({p * p}, generator=torch.Generator().manual_seed({DATA_SEED}))",
                f"train, val = split[{n_val}:], split[:{n_val}]",
                "X_train, y_train, X_val, y_val = X[train], y[train], X[val], y[val]"]
    return code


def _modular_spec(p: int, name: str, val_fraction: float, defaults: dict[str, Any], note: str,
                  size: str = "") -> DatasetSpec:
    return DatasetSpec(
        name, f"Grokking: (a + b) mod {p}{size}",
        f"Every pair (a, b) of 0…{p - 1} as two one-hot blocks, class (a + b) mod {p}; a fixed "
        f"{val_fraction:.0%} of the pairs is held out. With weight decay the network first memorises its "
        f"training pairs, then, hundreds of steps later, generalizes. {note}",
        "classification", 2 * p, p, p * p, val_fraction, _modular(p, name), defaults=defaults, view="grokking",
        code=_modular_code(p))


# Measured on this machine (docs/PRESETS.md, benchmarks/grokking.py): 2p-128-p, x², AdamW lr 0.01, full batch. Training
# accuracy passes 99 % within ~40 steps for every λ; validation accuracy reaches 90 % only with decay, later for
# smaller λ; λ = 0 stays far below 50 %.
_GROK = dict(hidden=(128,), activation="quadratic", optimizers=("adamw",), lrs=(0.01,), batch_size=None, seeds=(0,))
MODULAR = (
    _modular_spec(31, "modular-addition", 0.2, dict(_GROK, epochs=2000, weight_decays=(0.0, 0.05, 0.1, 0.15)),
                  "Its own settings: 62-128-31, x², AdamW lr 0.01, 2000 steps, λ = 0, 0.05, 0.1, 0.15."),
    _modular_spec(23, "modular-addition-p23", 0.2, dict(_GROK, epochs=500, weight_decays=(0.0, 0.2, 0.25)),
                  "The small variant (fits the hosted demo): 46-128-23, x², AdamW lr 0.01, 500 steps.", " (small)"),
    _modular_spec(59, "modular-addition-p59", 0.5, dict(_GROK, hidden=(256,), epochs=1500,
                                                        weight_decays=(0.0, 0.3, 0.5)),
                  "The large variant (minutes): half the pairs held out, 118-256-59, x², AdamW lr 0.01, 1500 steps.",
                  " (large)"),
)


def _csv(seed: int, vf: float) -> Data:
    raise ConfigError("preset csv trains on your own table: pass it as data (CLI: --data FILE.csv --target COLUMN; "
                      "app: upload it)", "preset")


TUTORIAL = DatasetSpec(
    "tutorial", "The course's data (pure noise)",
    "1000 × 20 standard-normal inputs with standard-normal targets, drawn right after the model as in the "
    "course's code; a held-out set of the same noise is drawn after it.",
    "regression", 20, 1, 1250, 0.2, _tutorial, per_seed=True, fixed_train=1000, code=_tutorial_code,
    # the course's run (20-64-1 ReLU, Adam lr 0.01, full batch, seed 0) with its λ = 1e-4 among the app's λ grid,
    # trained 100 steps rather than the course's 5 so the norms have time to part; at epochs=5 the λ = 1e-4
    # member ends at the course's printed loss (tests/test_presets.py)
    defaults=dict(hidden=(64,), activation="relu", optimizers=("adam",), lrs=(0.01,), epochs=100, batch_size=None,
                  weight_decays=(0.0, 1e-4, 1e-3, 1e-2, 1e-1), seeds=(0,)))
HIGHDIM = DatasetSpec(
    "highdim-linear", "High-dimensional linear regression (20 samples, 200 features)",
    "y = 0.05 + Σ 0.01·xᵢ + noise: far more features than samples, so without decay a model fits the noise.",
    "regression", 200, 1, 120, 100 / 120, _highdim, fixed_train=20, code=_highdim_code,
    defaults=dict(hidden=(), optimizers=("adam",), lrs=(0.01,), epochs=100, batch_size=None,
                  weight_decays=(0.0, 0.01, 0.1, 1.0, 3.0), seeds=(0,)))
# Measured (docs/PRESETS.md): without decay the 256-256 tanh net at lr 0.02 passes through every noisy point
# (training loss 0.0006-0.0017 for seeds 0-2, the noise is 0.09; largest miss 0.08) and ends 0.14-0.28 from the
# curve; λ = 0.001-0.01 fits it (0.021-0.043); λ = 0.1 flattens it (0.13-0.48). At lr 0.01 λ = 0 only came near
# the points (training loss 0.010-0.016). 4 members: about 4 s, within the hosted demo.
SINE = DatasetSpec(
    "sine", "Noisy sine (20 points, 1-D regression)",
    "20 noisy samples of y = sin(1.5x) on [-3, 3] (noise σ = 0.3); held out, the curve itself at 200 evenly "
    "spaced x. Without decay a wide net passes through every point and wiggles between them; a middle λ draws the "
    "sine; a large one flattens it.",
    "regression", 1, 1, 220, 200 / 220, _sine, fixed_train=20, code=_sine_code, log_loss=True,
    defaults=dict(hidden=(256, 256), activation="tanh", optimizers=("adam",), lrs=(0.02,), epochs=500, batch_size=None,
                  weight_decays=(0.0, 1e-3, 1e-2, 1e-1), seeds=(0,)))
# The other presets' own settings, each measured (docs/PRESETS.md): the net, the epochs (and lr, λ) change.
_NET = dict(activation="relu", optimizers=("adam",), lrs=(0.01,), batch_size=None, weight_decays=(0.0, 1e-4, 1e-3, 1e-2, 0.1),
            seeds=(0,))
DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    TUTORIAL,
    HIGHDIM,
    SINE,
    DatasetSpec("moons", "Two moons (noisy 2-D classification)",
                "Two interleaved half circles with heavy noise; 200 training points.",
                "classification", 2, 2, 400, 0.5, _two_class(_moons, "moons"), fixed_train=200,
                defaults=dict(_NET, hidden=(64, 64), epochs=300), code=_two_class_code(_moons_code, "moons"),
                code_imports=("import math",)),
    DatasetSpec("spirals", "Two spirals (2-D classification)",
                "Two interleaved noisy spirals; 300 training points. Needs a hidden layer.",
                "classification", 2, 2, 600, 0.5, _two_class(_spirals, "spirals"), fixed_train=300,
                defaults=dict(_NET, hidden=(64, 64), epochs=500), code=_two_class_code(_spirals_code, "spirals"),
                code_imports=("import math",)),
    _sklearn_spec("digits", "Handwritten digits (8×8, 10 classes)",
                  "scikit-learn's bundled digits: 1797 images of 64 pixels, standardized.",
                  "classification", 64, 10, 1797, "load_digits", dict(_NET, hidden=(64,), epochs=100), image=(8, 8)),
    _sklearn_spec("diabetes", "Diabetes progression (regression)",
                  "scikit-learn's bundled diabetes table: 442 patients, 10 features, target standardized.",
                  "regression", 10, 1, 442, "load_diabetes",
                  dict(_NET, hidden=(64, 64), lrs=(0.001,), epochs=300, weight_decays=(0.0, 1e-3, 1e-2, 0.1, 1.0))),
    _sklearn_spec("breast-cancer", "Breast cancer (binary classification)",
                  "scikit-learn's bundled Wisconsin table: 569 tumours, 30 features, standardized.",
                  "classification", 30, 2, 569, "load_breast_cancer",
                  dict(_NET, hidden=(64,), epochs=100, weight_decays=(0.0, 1e-3, 1e-2, 0.1, 1.0))),
    *MODULAR,
    # Sizes are placeholders: a CSV's Data (wdlab.data.tables.load_csv) is passed to run_sweep / validate.
    DatasetSpec("csv", "Your CSV",
                "A table you bring: numeric columns (and text columns with few values) predict the column you name.",
                "regression", 1, 1, 1000, 0.2, _csv),
)}
