"""How a dataset is declared (DatasetSpec) and what making it returns (Data), with what every dataset's code
shares: the split seed, standardizing, and the standardize function as an exported script writes it."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # torch is imported where data is made: validating a config needs no torch
    import torch

TASKS = ("regression", "classification")
DATA_SEED = 0  # data that is not the course's is drawn and split once, with this seed, for every member


@dataclass(frozen=True)
class Data:
    """Tensors of one dataset (float32; regression targets [n, 1], class targets [n] int64)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    task: str                      # "regression" | "classification"
    n_classes: int = 0
    feature_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()    # what loading did (rows dropped, columns skipped, ...)
    # a regression target standardized with training statistics: its (mean, std), so target = y·std + mean and
    # the pictures speak the target's own units; None: y is in its own units already
    target_scale: tuple[float, float] | None = None
    class_names: tuple[str, ...] = ()   # classification: class k's name (a table's own labels), else "k"
    target_name: str = ""               # the target column's name (a table's), else ""

    @property
    def in_dim(self) -> int:
        return self.X_train.shape[1]

    @property
    def out_dim(self) -> int:
        return self.n_classes if self.task == "classification" else self.y_train.shape[1]


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset. `make(seed, val_fraction)` returns Data.

    per_seed: the data is drawn from the global RNG right after the model is built under
    torch.manual_seed(seed), exactly as the course's code does, so each seed has its own data.
    Otherwise the data is the same for every seed (drawn with DATA_SEED).
    """

    name: str
    title: str
    description: str
    task: str
    in_dim: int
    out_dim: int
    n_total: int                   # training + held-out rows at the default split
    default_val_fraction: float
    make: Callable[[int, float], Data]
    per_seed: bool = False
    fixed_train: int | None = None  # generated sets keep this many training rows whatever the split
    # settings (SweepConfig attributes) the preset brings: applied where the user set nothing else (the CLI's
    # flags, a link's parameters, the app's widgets when the preset is picked)
    defaults: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    view: str = ""                  # "grokking": the explorer also draws accuracy by step with grok marks
    log_loss: bool = False          # its loss falls by decades after an early spike: log y-axes by default
    image: tuple[int, int] | None = None   # the inputs are an image's pixels row by row (height, width): the first
                                           # layer's weights are drawn as images (the digits' filters)
    # an exported script's data: code(n_train, n_val) -> lines that make X_train, y_train, X_val, y_val exactly
    # as `make` does (None: no script); code_imports: lines at the script's top; code_requires: what it needs
    # installed besides torch
    code: Callable[[int, int], list[str]] | None = field(default=None, hash=False, compare=False)
    code_imports: tuple[str, ...] = ()
    code_requires: tuple[str, ...] = ()

    @property
    def help(self) -> str:
        """A line for its widget and its --preset choice."""
        return self.title

    def sizes(self, val_fraction: float | None) -> tuple[int, int]:
        vf = self.default_val_fraction if val_fraction is None else val_fraction
        if self.fixed_train is not None:
            return self.fixed_train, max(1, round(self.fixed_train * vf / (1 - vf)))
        n_val = max(1, round(self.n_total * vf))
        return self.n_total - n_val, n_val


def not_a_file(path: str) -> str | None:
    """What keeps `path` from being read as a table (a folder, a pipe, a device), or None. A FIFO or a device
    would block or never end: they are refused before anything opens them. A missing path is for open() to say."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return f"{path} is a folder; pass a CSV file"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file (a pipe, socket or device); pass a CSV file"
    return None


def scale_of(train: torch.Tensor):
    """The (mean, std) standardize divides by: the training rows' own, a constant column's std taken as 1."""
    import torch  # deferred: settings need no torch
    mean, std = train.mean(0, keepdim=True), train.std(0, keepdim=True)
    return mean, torch.where(std > 0, std, torch.ones_like(std))


def standardize(train: torch.Tensor, *others: torch.Tensor):
    mean, std = scale_of(train)
    return [(t - mean) / std for t in (train, *others)]


STANDARDIZE_CODE = (  # standardize, as an exported script writes it
    "def standardize(train, *others):  # with the training set's mean and std; a constant column stays as it is",
    "    mean, std = train.mean(0, keepdim=True), train.std(0, keepdim=True)",
    "    std = torch.where(std > 0, std, torch.ones_like(std))",
    "    return [(t - mean) / std for t in (train, *others)]",
    "",
    "",
)
