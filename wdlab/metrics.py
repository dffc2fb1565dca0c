"""Per-member losses, accuracy and weight norms, and the tidy pandas frame they are reported in."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

BASE_COLUMNS = ["weight_decay", "seed", "epoch", "train_loss", "val_loss", "l2_norm"]
DEFINITIONS = {
    "train_loss": "mean of the minibatch losses computed during the epoch, as a plain training loop logs it "
                  "(full batch: the loss before that epoch's step); epoch 0: the loss of the initial weights",
    "val_loss": "loss on the held-out set after the epoch's last step",
    "l2_norm": "‖w‖₂ = √Σ p² over all parameters (weights and biases) after the epoch — the norm, not its square",
    "gap": "generalization gap = val_loss − train_loss",
    "train_acc": "classification: share of training rows classified correctly during the epoch, each by the "
                 "weights its minibatch was evaluated with (full batch: before the step)",
    "val_acc": "classification: share of held-out rows classified correctly after the epoch",
}


def member_losses(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """[M] losses: nn.MSELoss (mean over batch and outputs) or nn.CrossEntropyLoss (mean over batch)."""
    if task == "regression":
        return (out - y).pow(2).mean(dim=(1, 2))
    logp = out - out.logsumexp(-1, keepdim=True)
    return -logp.gather(-1, y.unsqueeze(-1)).mean(dim=(1, 2))


def member_losses_and_grad(out: torch.Tensor, y: torch.Tensor, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """member_losses and d(Σ losses)/d(out) (for MSE in the order of operations autograd's backward uses)."""
    with torch.no_grad():
        if task == "regression":
            diff = out - y
            losses = diff.pow(2).mean(dim=(1, 2))
            return losses, diff.mul_(2 / (diff.shape[1] * diff.shape[2]))     # mean' · pow' = (1/N)·2·diff
        target = y.unsqueeze(-1)
        logp = out - out.logsumexp(-1, keepdim=True)
        losses = -logp.gather(-1, target).mean(dim=(1, 2))
        grad = logp.exp_()                                                   # softmax − one-hot, over B
        grad.scatter_add_(-1, target, torch.full(target.shape, -1.0, dtype=grad.dtype).expand_as(target))
        return losses, grad.div_(out.shape[1])


def member_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[M] number of correctly classified rows."""
    return (out.argmax(-1) == y).sum(1)


class FrameBuilder:
    """Collects rows column by column (cheap per epoch); builds DataFrames on demand."""

    def __init__(self, n_layers: int, classification: bool):
        self.columns = BASE_COLUMNS + (["train_acc", "val_acc"] if classification else []) + \
            [f"l2_layer{k + 1}" for k in range(n_layers)] + ["diverged"]
        self.data: dict[str, list] = {c: [] for c in self.columns}
        self.rows = 0  # complete rows: counted after every column has them

    def add(self, rows: dict[str, list]) -> None:
        for c in self.columns:
            self.data[c].extend(rows[c])
        self.rows += len(rows["epoch"])

    def rows_frame(self, rows: dict[str, list]) -> pd.DataFrame:
        """One epoch's rows (as given to add) as a DataFrame with the final frame's columns and dtypes."""
        return frame(rows, self.columns)

    def frame(self) -> pd.DataFrame:
        """Every complete row so far. Safe while another thread adds rows: each column is cut at the count of
        complete rows (list slices are atomic), so a half-added epoch is never seen."""
        n = self.rows
        return frame({c: self.data[c][:n] for c in self.columns}, self.columns)


_DTYPES = {"seed": np.int64, "epoch": np.int64, "diverged": np.bool_}


def frame(data: dict[str, list], columns: list[str]) -> pd.DataFrame:
    # typed numpy columns: 5× cheaper than letting pandas infer, which matters once per epoch with a listener
    return pd.DataFrame({c: np.asarray(data[c], dtype=_DTYPES.get(c, np.float64)) for c in columns}, copy=False)


def with_gap(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with gap = val_loss − train_loss."""
    return df.assign(gap=df["val_loss"] - df["train_loss"])


def final_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Each member's last row (its last epoch, or the epoch it diverged at)."""
    return df.sort_values("epoch").groupby(["weight_decay", "seed"], as_index=False).tail(1) \
        .sort_values(["weight_decay", "seed"]).reset_index(drop=True)
