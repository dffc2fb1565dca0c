"""The engine's memory knobs: members in groups and evaluation in row blocks change no member's numbers."""
import numpy as np
import pandas as pd
import pytest

from wdlab.settings.config import SweepConfig
from wdlab.engine.sweep import run_sweep

CASES = {
    "tutorial full batch (per-seed data), adamw": SweepConfig(
        preset="tutorial", hidden=(8, 4), optimizers=("adamw",), epochs=4, weight_decays=(0.0, 0.01, 0.1),
        seeds=(0, 1), dtype="float64"),
    "moons minibatch, sgd momentum, gelu": SweepConfig(
        preset="moons", hidden=(6,), activation="gelu", optimizers=("sgd",), momentum=0.9, lrs=(0.1,), epochs=3,
        batch_size=64, weight_decays=(0.0, 1e-3, 0.1), seeds=(0, 2), dtype="float64"),
    "digits minibatch with a ragged last batch, adam": SweepConfig(
        preset="digits", hidden=(16,), optimizers=("adam",), epochs=2, batch_size=500, weight_decays=(0.0, 0.1),
        seeds=(0, 1, 2), dtype="float64"),
}


def same(a: pd.DataFrame, b: pd.DataFrame, tol: float) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f":
            assert np.allclose(x, y, rtol=tol, atol=tol, equal_nan=True), c   # rot… is NaN at epoch 0 in both
        else:
            assert (x == y).all(), c


@pytest.mark.parametrize("cfg", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("chunk,block", [(1, None), (2, None), (None, 7), (4, 50)])
def test_groups_and_blocks_give_every_member_the_same_numbers(cfg, chunk, block):
    whole = run_sweep(cfg)
    seen = []
    parts = run_sweep(cfg, max_chunk_members=chunk, val_block_rows=block,
                      on_epoch=lambda epoch, rows: seen.append((epoch, len(rows["epoch"]))))
    assert parts.status == "done" and parts.epochs_done == cfg.epochs
    same(whole.frame, parts.frame, 1e-12)
    epochs = [e for e, _ in seen]
    assert epochs == sorted(epochs) and epochs[-1] == cfg.epochs  # progress only moves forward, to the end
    assert sum(n for _, n in seen) == len(whole.frame)              # every row reported once


def test_float32_blocks_agree_to_rounding():
    cfg = CASES["digits minibatch with a ragged last batch, adam"].replace(dtype="float32")
    same(run_sweep(cfg).frame, run_sweep(cfg, max_chunk_members=2, val_block_rows=100).frame, 1e-5)


def test_a_cancelled_grouped_sweep_stops_at_once():
    import threading
    cancel = threading.Event()
    cfg = CASES["tutorial full batch (per-seed data), adamw"].replace(epochs=50)
    result = run_sweep(cfg, max_chunk_members=2, cancel=cancel,
                       on_epoch=lambda epoch, rows: cancel.set() if epoch >= 3 else None)
    assert result.status == "cancelled" and result.epochs_done < 50
