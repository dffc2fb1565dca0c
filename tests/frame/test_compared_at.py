"""The epoch results are compared at: final, best (lowest validation loss), or the mean of the last epochs."""
import pandas as pd
import pytest

from wdlab.engine.sweep import run_sweep
from wdlab.frame.schema import compared_rows, final_rows
from wdlab.settings.reading import DEFAULT_AT, describe_at
from wdlab.settings.config import preset_config


def frame():
    rows = []
    for seed, diverge in ((0, False), (1, True)):
        for epoch, val in enumerate([1.0, 0.5, 0.2, 0.9, 0.4, 0.6, 0.3, 0.8, 0.7, 0.5, 0.6]):
            bad = diverge and epoch == 10
            rows.append(dict(optimizer="adam", lr=0.01, weight_decay=0.1, seed=seed, epoch=epoch,
                             train_loss=val / 2, train_eval_loss=val / 2, val_loss=float("nan") if bad else val,
                             l2_norm=epoch, diverged=bad))
    return pd.DataFrame(rows)


def test_final_best_and_last_read_each_member_as_described():
    df = frame()
    assert compared_rows(df, "final").equals(final_rows(df))
    assert compared_rows(df).equals(compared_rows(df, "best"))                      # the default: best
    best = compared_rows(df, "best")
    assert best.loc[0, ["epoch", "val_loss", "l2_norm"]].tolist() == [2, 0.2, 2]    # every metric at that epoch
    assert best.loc[1, "diverged"] and best.loc[1, "epoch"] == 10                   # a diverged member stays so
    last = compared_rows(df, "last", share=0.2)                                     # 2 of 10 epochs
    assert last.loc[0, "val_loss"] == pytest.approx(0.55) and last.loc[0, "epoch"] == 10
    assert list(last.columns) == list(df.columns)
    assert describe_at("last") == "as the mean of the last 10 % of epochs" and DEFAULT_AT == "best"
    with pytest.raises(ValueError, match="choose one of"):
        compared_rows(df, "median")


def test_the_sine_verdict_on_lambda_001_vs_0001_is_stable_at_the_best_epoch_and_flips_at_the_final_one():
    # Measured (docs in the report): λ = 0.01's validation loss ranges 0.015-0.88 over epochs 300-500; at the
    # final epoch 0.01 beats 0.001 in 5 of 15 (seed, end epoch) pairs, at the best epoch in all 15, by 30-45 %.
    df = run_sweep(preset_config("sine").replace(seeds=(0, 1, 2))).frame
    verdicts = {"final": set(), "best": set()}
    for end in (480, 485, 490, 495, 500):
        upto = df[df.epoch <= end]
        for at in verdicts:
            rows = compared_rows(upto, at).set_index(["weight_decay", "seed"])["val_loss"]
            verdicts[at] |= {rows[(0.01, s)] < rows[(0.001, s)] for s in (0, 1, 2)}
    assert verdicts == {"final": {True, False}, "best": {True}}


def test_at_the_best_epoch_early_stopping_ties_diabetes_lambdas_that_the_end_of_training_tells_apart():
    # Measured (docs/ENGINE.md, benchmarks/compare_at_stability.py): on the diabetes preset every λ ≤ 0.1 reaches
    # about the same validation loss at its best epoch (λ = 0's is epoch 36-65, before it overfits), so the star
    # moves between λ = 0, 0.01 and 0.1 by seed; at the final epoch and the mean of the last 10 % λ = 0.1 wins on
    # every seed by about 30 %.
    df = run_sweep(preset_config("diabetes").replace(seeds=(0, 1, 2))).frame
    for at in ("best", "final", "last"):
        rows = compared_rows(df, at).set_index(["weight_decay", "seed"])["val_loss"]
        for s in (0, 1, 2):
            small = [rows[(w, s)] for w in (0.0, 1e-3, 1e-2, 0.1)]
            if at == "best":
                assert max(small) / min(small) < 1.03, small                # a tie: no verdict on decay
                assert compared_rows(df, at).query("seed == @s and weight_decay == 0").epoch.item() < 100
            else:
                assert rows[(0.1, s)] == min(small) and rows[(0.1, s)] < 0.75 * rows[(0.0, s)], small
