"""The model's outputs on the held-out rows, as the pictures draw them: what the member's own plain network at that
snapshot outputs (a standalone torch.optim run's), a regression's in the target's own units, capped in rows."""
import numpy as np
import pytest
import torch

from wdlab.data.tables import load_csv
from wdlab.engine import snapshots
from wdlab.engine.predict import held_out_outputs, held_out_targets, model_data
from wdlab.engine.sweep import run_sweep
from wdlab.reference import reference_run
from wdlab.settings.config import SweepConfig
from support import csv_table


def trained(cfg, data=None):
    snaps = snapshots.plan(cfg, (data or model_data(cfg)).in_dim, (data or model_data(cfg)).out_dim, 1e9)
    run_sweep(cfg, snapshots=snaps, data=data)
    return snaps


def test_digits_predicted_classes_are_the_reference_networks_argmax_on_the_held_out_rows():
    cfg = SweepConfig(preset="digits", hidden=(8,), epochs=6, weight_decays=(0.0, 0.1), dtype="float64")
    snaps, data = trained(cfg), model_data(cfg)
    for m in cfg.members:
        ref = reference_run(cfg, m)
        got = held_out_outputs(cfg, data, snaps.params(6, m))
        want = ref["model"](data.X_val.double()).argmax(1).numpy()
        assert np.array_equal(got, want) and len(got) == len(data.X_val)
    assert np.array_equal(held_out_targets(data), data.y_val.numpy())
    assert len(held_out_outputs(cfg, data, snaps.params(6, cfg.members[0]), cap=50)) == 50
    assert np.array_equal(held_out_targets(data, cap=50), data.y_val[:50].numpy())


def test_a_regressions_predictions_are_in_the_targets_own_units_and_their_error_is_the_runs_val_loss():
    cfg = SweepConfig(preset="diabetes", hidden=(8,), epochs=8, weight_decays=(0.0, 1.0), dtype="float64")
    snaps, data = trained(cfg), model_data(cfg)
    import sklearn.datasets
    raw = sklearn.datasets.load_diabetes().target
    actual = held_out_targets(data)
    assert set(np.round(actual).astype(int)) <= set(raw.astype(int))        # the table's own values
    mean, std = data.target_scale
    for m in cfg.members:
        ref = reference_run(cfg, m)
        got = held_out_outputs(cfg, data, snaps.params(8, m))
        want = ref["model"](data.X_val.double())[:, 0].detach().numpy() * std + mean
        assert np.abs(got - want).max() <= 1e-9 * std
        # the error in the target's units is the run's validation loss (standardized MSE) scaled back
        rmse = np.sqrt(np.mean((got - actual) ** 2))
        assert rmse == pytest.approx(np.sqrt(ref["val_loss"][-1]) * std, rel=1e-5)


def test_an_uploaded_tables_target_comes_back_in_its_units():
    rows = [[i, (i * 7) % 11, 1000 + 37 * i + 5 * ((i * 3) % 4)] for i in range(60)]
    data = load_csv(csv_table(["a", "b", "price"], rows), "price")
    cfg = SweepConfig(preset="csv", hidden=(4,), epochs=5, weight_decays=(0.0,), dtype="float64")
    snaps = trained(cfg, data)
    m = cfg.members[0]
    got = held_out_outputs(cfg, data, snaps.params(5, m))
    ref = reference_run(cfg, m, data)
    mean, std = data.target_scale
    want = ref["model"](data.X_val.double())[:, 0].detach().numpy() * std + mean
    assert np.abs(got - want).max() <= 1e-9 * std
    actual = held_out_targets(data)
    assert set(np.round(actual).astype(int)) <= {r[2] for r in rows} and actual.min() >= 1000
