"""The laws drawn where the curves are: each dashed prediction is wdlab.laws' value, in its λ's colour, named by its
law, its formula in the hover — and no line where a law does not apply."""
import math

import pytest

from wdlab.engine.sweep import run_sweep
from wdlab.laws.catalog import LAWS
from wdlab.laws.predict import predictions
from wdlab.plots.curves import curves_figure, wd_colors
from wdlab.plots.law_panels import law_columns, law_figure
from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import SweepConfig


def law_lines(fig, role="law"):
    return [t for t in fig.data if (t.meta or {}).get("role") == role]


def of(preds, law, wd, seed=0, layer=None, optimizer=None):
    return next(p for p in preds if p.law == law and p.member.weight_decay == wd and p.member.seed == seed
                and p.layer == layer and optimizer in (None, p.member.optimizer))


@pytest.fixture(scope="module")
def ridge_run():
    cfg = SweepConfig(preset="diabetes", hidden=(), optimizers=("sgd",), lrs=(0.1,), epochs=20, batch_size=None,
                      weight_decays=(0.0, 0.1, 1.0), seeds=(0,))
    return cfg, run_sweep(cfg).frame, predictions(cfg)


@pytest.fixture(scope="module")
def norm_run():
    cfg = SweepConfig(preset="diabetes", hidden=(16, 16), norm="layernorm", optimizers=("adamw", "adam"),
                      lrs=(0.01,), epochs=6, batch_size=32, weight_decays=(0.0, 0.5, 2.0), seeds=(0, 1))
    return cfg, run_sweep(cfg).frame, predictions(cfg)


def test_ridge_is_dashed_on_the_norm_panel_in_each_lambdas_colour(ridge_run):
    cfg, frame, preds = ridge_run
    fig = curves_figure(frame, epochs_total=cfg.epochs, panels=("l2_norm",), laws=preds)
    lines = law_lines(fig)
    colors = wd_colors(frame["weight_decay"].unique())
    assert sorted(t.meta["wd"] for t in lines) == [0.0, 0.1, 1.0]
    for t in lines:
        p = of(preds, "ridge", t.meta["wd"])
        assert list(t.y) == [p.value, p.value] and list(t.x) == [0.0, 20.0]
        assert t.line.dash == "dash" and t.line.color == colors[t.meta["wd"]]
        assert t.name.startswith(LAWS["ridge"].title) and t.meta["panel"] == "l2_norm"
        assert LAWS["ridge"].formula in t.hovertemplate and f"{p.value:.4g}" in t.hovertemplate
    keys = law_lines(fig, "law-key")
    assert [k.name for k in keys] == [f"{LAWS['ridge'].title} (predicted)"] and keys[0].showlegend
    # drawn as the Explorer does, loss and ‖w‖₂ apart: the loss figure's legend keys the ridge line beside it
    loss = curves_figure(frame, panels=("train_loss",), laws=preds)
    assert not law_lines(loss) and [k.name for k in law_lines(loss, "law-key")] == [keys[0].name]
    beside = curves_figure(frame, panels=("l2_norm",), laws=preds, legend=False)
    assert len(law_lines(beside)) == 3 and not law_lines(beside, "law-key")
    # SGD's full-batch run does reach it: the drawn line is where the curve ends
    last = frame[frame.epoch == 20].set_index("weight_decay")["l2_norm"]
    assert of(preds, "ridge", 1.0).value == pytest.approx(last[1.0], rel=0.05)


def test_no_laws_no_lines_and_the_loss_panel_has_none(ridge_run):
    cfg, frame, preds = ridge_run
    assert not law_lines(curves_figure(frame, panels=("l2_norm",)))
    assert not law_lines(curves_figure(frame, panels=("train_loss",), laws=preds))   # a key, but no line


def test_adamw_gets_no_ridge_line_but_its_box_on_max_abs_w(norm_run):
    cfg, frame, preds = norm_run
    adamw = frame[frame.optimizer == "adamw"]
    assert not law_lines(curves_figure(adamw, panels=("l2_norm",), laws=preds))   # a hidden layer: no ridge
    fig = law_figure(adamw, "max_abs_w", preds, epochs_total=cfg.epochs)
    lines = law_lines(fig)
    colors = wd_colors(adamw["weight_decay"].unique())
    assert sorted(t.meta["wd"] for t in lines) == [0.5, 2.0]                       # λ = 0: no box
    for t in lines:
        assert list(t.y) == [1 / t.meta["wd"]] * 2 and t.line.color == colors[t.meta["wd"]]
        assert t.name == f"{LAWS['box'].title}, λ = {t.meta['wd']:g}" and "ceiling" in t.hovertemplate
        assert LAWS["box"].formula in t.hovertemplate
    adam = frame[frame.optimizer == "adam"]
    assert not law_lines(law_figure(adam, "max_abs_w", preds))                      # coupled: no box


def test_rotation_and_norm_of_normalized_layers_under_adamw(norm_run):
    cfg, frame, preds = norm_run
    adamw = frame[frame.optimizer == "adamw"]
    assert law_columns(adamw) == ["max_abs_w", "rot1", "norm1", "rot2", "norm2"]
    for k in (1, 2):
        rot = law_lines(law_figure(adamw, f"rot{k}", preds, epochs_total=cfg.epochs))
        norm = law_lines(law_figure(adamw, f"norm{k}", preds, epochs_total=cfg.epochs))
        for t in rot:
            p = of(preds, "rotation", t.meta["wd"], layer=k, optimizer="adamw")
            assert list(t.y) == [p.value] * (1 if p.from_epoch >= cfg.epochs else 2) and t.x[0] == p.from_epoch
            assert t.x[-1] == cfg.epochs
            assert t.meta["value"] == pytest.approx(math.sqrt(2 * 0.01 * t.meta["wd"] * 0.1 / 1.9))
            assert LAWS["rotation"].formula in t.hovertemplate and t.name.startswith("Rotational equilibrium")
        for t in norm:
            p = of(preds, "norm", t.meta["wd"], layer=k, optimizer="adamw")
            assert set(t.y) == {p.value}
        assert sorted(t.meta["wd"] for t in rot) == sorted(t.meta["wd"] for t in norm) == [0.5, 2.0]
    # the run is shorter than equilibrium at λ = 0.5: a dash at its last epoch, and the hover says so
    short = law_lines(law_figure(adamw, "rot1", preds, epochs_total=cfg.epochs))[0]
    assert short.meta["wd"] == 0.5 and "before equilibrium" in short.hovertemplate
    assert short.mode == "markers" and list(short.x) == [cfg.epochs] and short.marker.symbol == "line-ew-open"


def test_adam_with_l2_has_rotation_curves_but_no_law(norm_run):
    cfg, frame, preds = norm_run
    adam = frame[frame.optimizer == "adam"]
    fig = law_figure(adam, "rot1", preds)
    assert len(law_lines(fig, "line")) == 3 and len(law_lines(fig, "band")) == 3
    assert not law_lines(fig) and not law_lines(fig, "law-key")


def test_a_layer_with_no_norm_after_it_has_no_rotation_panel():
    cfg = SweepConfig(preset="diabetes", hidden=(8,), optimizers=("adamw",), epochs=2, weight_decays=(0.1,))
    frame = run_sweep(cfg).frame
    assert law_columns(frame) == ["max_abs_w"]
    fig = law_figure(frame, "max_abs_w", predictions(cfg))
    assert [t.y[0] for t in law_lines(fig)] == [pytest.approx(10.0)]


def test_the_measured_curve_is_the_seeds_mean_and_norm_combines_weight_and_bias(norm_run):
    cfg, frame, preds = norm_run
    adamw = frame[(frame.optimizer == "adamw") & (frame.weight_decay == 2.0)]
    line = next(t for t in law_lines(law_figure(adamw, "norm1", preds), "line"))
    last = adamw[adamw.epoch == cfg.epochs]
    want = ((last.l2_weight1 ** 2 + last.l2_bias1 ** 2) ** 0.5).mean()
    assert line.y[-1] == pytest.approx(want)
    rot = next(t for t in law_lines(law_figure(adamw, "rot1", preds), "line"))
    assert rot.x[0] == 1 and len(rot.x) == cfg.epochs    # epoch 0 has no step, no rotation


def test_adamw_legends_give_tau_in_epochs_and_coupled_decay_none(norm_run):
    cfg, frame, preds = norm_run
    steps = -(-len(DATASETS["diabetes"].make(0, None).X_train) // 32)
    adamw = frame[frame.optimizer == "adamw"]
    names = [t.name for t in law_lines(curves_figure(adamw, panels=("l2_norm",), laws=preds), "line")]
    tau = 1 / (0.01 * 2.0 * steps)
    assert tau < 10 < 4 * tau
    assert names == ["λ = 0", f"λ = 0.5, τ {4 * tau:.0f} ep", f"λ = 2, τ {tau:.2g} ep"]
    names = [t.name for t in law_lines(law_figure(adamw, "max_abs_w", preds), "line")]
    assert names[2] == f"λ = 2, τ {tau:.2g} ep"
    adam = frame[frame.optimizer == "adam"]
    assert [t.name for t in law_lines(curves_figure(adam, panels=("l2_norm",), laws=preds), "line")] == \
        ["λ = 0", "λ = 0.5", "λ = 2"]
    assert [t.name for t in law_lines(curves_figure(adamw, panels=("l2_norm",)), "line")][1] == "λ = 0.5"


def test_the_summary_table_gives_tau_for_adamw_rows_only():
    import pandas as pd
    from wdlab.plots.law_lines import tau_by_group
    from wdlab.ui.tables import TAU, table_view
    cfg = SweepConfig(preset="moons", optimizers=("adam", "adamw"), lrs=(0.01,), epochs=5, batch_size=50,
                      weight_decays=(0.0, 0.1))
    tau = tau_by_group(predictions(cfg))
    assert tau == {("adamw", 0.01, 0.1): pytest.approx(1 / (0.01 * 0.1 * 4))}     # 200 points, 4 steps an epoch
    table = pd.DataFrame(dict(optimizer=["adam", "adam", "adamw", "adamw"], lr=[0.01] * 4,
                              weight_decay=[0.0, 0.1, 0.0, 0.1], seeds=1, diverged=0, val_loss=[1.0, 0.9, 1.0, 0.8],
                              l2_norm=[3.0, 2.0, 3.0, 1.0]))
    shown = table_view(table, 1, grid=True, tau=tau)
    assert list(shown[TAU]) == ["—", "—", "—", "250"]
    # after what each λ did (issue 27: val loss and ‖w‖₂ come right after λ), before seeds and diverged
    columns = list(shown.columns)
    assert columns.index("λ (weight_decay)") < columns.index("‖w‖₂") < columns.index(TAU) < columns.index("seeds")
    assert TAU not in table_view(table, 1, grid=True) and TAU not in table_view(table[:2], 1, tau=tau)


def test_a_box_far_above_the_curves_is_named_above_the_scale_not_drawn_flattening_them(norm_run):
    cfg = SweepConfig(preset="diabetes", hidden=(8,), optimizers=("adamw",), epochs=3, weight_decays=(0.05, 3.0))
    frame = run_sweep(cfg).frame
    top = frame.max_abs_w.max()
    assert 1 / 3 < 2.5 * top < 20                # 1/λ = 1/3 within reach of the curves, 1/λ = 20 far above them
    fig = law_figure(frame, "max_abs_w", predictions(cfg))
    assert fig.layout.meta["off_scale"] == [0.05]
    assert 1 / 3 < fig.layout.yaxis.range[1] < 20
    assert "λ = 0.05: 20" in fig.layout.annotations[0].text
    _, frame2, preds2 = norm_run
    rot = law_figure(frame2[frame2.optimizer == "adamw"], "rot1", preds2)
    assert not rot.layout.annotations and rot.layout.yaxis.range is None
