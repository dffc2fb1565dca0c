"""The tidy per-epoch frame: its columns and definitions, rows assembled from the engine's numbers (no torch)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from wdlab.settings.reading import DEFAULT_AT, LAST_SHARE, check_at

KEY_COLUMNS = ["optimizer", "lr", "weight_decay", "seed"]   # one member
BASE_COLUMNS = KEY_COLUMNS + ["epoch", "train_loss", "train_eval_loss", "val_loss", "l2_norm"]
ACC_COLUMNS = ["train_acc", "train_eval_acc", "val_acc"]
DEFINITIONS = {
    "train_loss": "mean of the minibatch losses computed during the epoch, as a plain training loop logs it "
                  "(full batch: the loss before that epoch's step); epoch 0: the loss of the initial weights",
    "train_eval_loss": "loss on the whole training set with the weights at the end of the epoch (the same "
                       "weights as val_loss)",
    "val_loss": "loss on the held-out set after the epoch's last step",
    "l2_norm": "‖w‖₂ = √Σ p² over all parameters (weights, biases, norm gains) after the epoch — the norm, "
               "not its square",
    "gap": "generalization gap = val_loss − train_eval_loss (both with the weights at the end of the epoch)",
    "train_acc": "classification: share of training rows classified correctly during the epoch, each by the "
                 "weights its minibatch was evaluated with (full batch: before the step)",
    "train_eval_acc": "classification: share of training rows classified correctly after the epoch",
    "val_acc": "classification: share of held-out rows classified correctly after the epoch",
    "l2_weight": "l2_weight1…: ‖W‖₂ of each Linear layer's weight matrix",
    "l2_bias": "l2_bias1…: ‖b‖₂ of each Linear layer's bias",
    "l2_gain": "l2_gain1…: ‖γ, β‖₂ of each LayerNorm's gain and bias (norm=layernorm)",
    "rot": "rot1…: with a normalization after each hidden Linear, for each hidden layer k the angle in radians between its (W, b) (one vector) before "
           "and after each optimizer step (decay included), averaged over the epoch's steps; epoch 0: empty (no "
           "step yet)",
    "max_abs_w": "the largest |p| over the parameters weight decay covers (all of them, or only the ≥ 2-D weights "
                 "when the biases do not decay), at the end of the epoch, whatever the member's λ",
    "eff_lr": "eff_lr1…: with a normalization after each hidden Linear (its (W, b) is then scale-invariant), the "
              "effective learning rate lr / ‖(W, b)‖² at the end of the epoch (lr: the member's)",
}
# The two training losses by name wherever a final value is shown (table, charts, exported script): they differ.
LOSS_NAMES = {"train_loss": "train loss (mean during the last epoch)",
              "train_eval_loss": "train loss (after the last step)"}
_DTYPES = {"optimizer": object, "seed": np.int64, "epoch": np.int64, "diverged": np.bool_}


def columns(layer_columns: Sequence[str], classification: bool) -> list[str]:
    """The frame's columns, in order."""
    return BASE_COLUMNS + (ACC_COLUMNS if classification else []) + list(layer_columns) + ["diverged"]


def epoch_rows(epoch: int, members: Sequence[tuple], stats: dict[str, Sequence[float]], report: Sequence[int],
               diverged: set[int], cols: Sequence[str]) -> dict[str, list]:
    """One epoch's rows (column -> list): members[m] = (optimizer, lr, weight_decay, seed); stats[column][m]
    the engine's number for member m; one row for every m in `report`, marked diverged if m is in `diverged`."""
    rows: dict[str, list] = {}
    for k, name in enumerate(KEY_COLUMNS):
        rows[name] = [members[m][k] for m in report]
    rows["epoch"] = [epoch] * len(report)
    for name in cols:
        if name not in rows and name != "diverged":
            values = stats[name]
            rows[name] = [values[m] for m in report]
    rows["diverged"] = [m in diverged for m in report]
    return {c: rows[c] for c in cols}


class FrameBuilder:
    """Collects rows column by column (cheap per epoch); builds DataFrames on demand, from any thread."""

    def __init__(self, cols: Sequence[str]):
        self.columns = list(cols)
        self.data: dict[str, list] = {c: [] for c in self.columns}
        self.rows = 0  # complete rows: counted after every column has them

    def add(self, rows: dict[str, list]) -> None:
        for c in self.columns:
            self.data[c].extend(rows[c])
        self.rows += len(rows["epoch"])

    def frame(self) -> pd.DataFrame:
        """Every complete row so far. Safe while another thread adds rows: each column is cut at the count of
        complete rows (list slices are atomic), so a half-added epoch is never seen."""
        n = self.rows
        return frame({c: self.data[c][:n] for c in self.columns}, self.columns)


def frame(data: dict[str, list], cols: Sequence[str]) -> pd.DataFrame:
    # typed numpy columns: 5× cheaper than letting pandas infer, which matters once per epoch with a listener
    return pd.DataFrame({c: np.asarray(data[c], dtype=_DTYPES.get(c, np.float64)) for c in cols}, copy=False)


def with_gap(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with gap = val_loss − train_eval_loss (the same weights on both sets)."""
    return df.assign(gap=df["val_loss"] - df["train_eval_loss"])


def final_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Each member's last row (its last epoch, or the epoch it diverged at)."""
    keys = KEY_COLUMNS
    return df.sort_values("epoch", kind="stable").groupby(keys, as_index=False, sort=False).tail(1) \
        .sort_values(keys).reset_index(drop=True)


def compared_rows(df: pd.DataFrame, at: str = DEFAULT_AT, share: float = LAST_SHARE) -> pd.DataFrame:
    """Each member's row as results are compared: "final" = final_rows; "best" = its row of lowest val_loss
    (early stopping: every metric at that epoch, the weights a checkpoint keeps); "last" = the mean of each
    column over its last ⌈share·epochs⌉ epochs (epoch: the last). A diverged member keeps its diverged row."""
    check_at(at)
    final = final_rows(df)
    if at == "final" or df.empty:
        return final
    keys = KEY_COLUMNS
    ok = df[~df.groupby(keys)["diverged"].transform("any") & (df["epoch"] > 0)]
    if at == "best":
        picked = ok.loc[ok.groupby(keys, sort=False)["val_loss"].idxmin()]
    else:
        k = max(1, math.ceil(share * int(df["epoch"].max())))
        tail = ok[ok["epoch"] > ok.groupby(keys)["epoch"].transform("max") - k]
        values = [c for c in df.columns if c not in keys and c != "diverged"]
        picked = tail.groupby(keys, as_index=False, sort=False)[values].mean()
        picked["epoch"] = tail.groupby(keys, sort=False)["epoch"].max().to_numpy()
        picked["diverged"] = False
        picked = picked[list(df.columns)]
    out = pd.concat([picked, final[final["diverged"]]], ignore_index=True)
    return out.sort_values(keys).reset_index(drop=True)
