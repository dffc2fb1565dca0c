"""Plot builders: one trace per λ per panel, shared legend groups, exact values, bands, λ = 0 kept, best λ."""
import numpy as np
import pandas as pd
import pytest

from wdlab.plots import curves as plots
from wdlab.settings.config import SweepConfig
from wdlab.engine.sweep import run_sweep


@pytest.fixture(scope="module")
def sweep():
    return run_sweep(SweepConfig(epochs=4, weight_decays=(0.0, 1e-3, 0.1), seeds=(0, 1), hidden=(8,)))


def traces(fig, role, panel=None):
    return [t for t in fig.data if t.meta and t.meta["role"] == role and (panel is None or t.meta["panel"] == panel)]


def synthetic(epochs=3, wds=(0.0, 0.01), seeds=(0,)):
    rows = [dict(optimizer="adam", lr=0.01, weight_decay=w, seed=s, epoch=e, train_loss=1 / (e + 1) + w, train_eval_loss=1 / (e + 2) + w, val_loss=1 + w - s / 10,
                 l2_norm=3 - w * e, diverged=False) for w in wds for s in seeds for e in range(epochs + 1)]
    return pd.DataFrame(rows)


def test_one_line_per_lambda_in_each_panel_sharing_a_legend_entry():
    frame = synthetic(wds=(0.0, 1e-4, 0.1))
    fig = plots.curves_figure(frame, epochs_total=3)
    for panel in ("train_loss", "l2_norm"):
        lines = traces(fig, "line", panel)
        assert [t.meta["wd"] for t in lines] == [0.0, 1e-4, 0.1]
    legend = [t for t in fig.data if t.showlegend]
    assert [t.name for t in legend] == ["λ = 0", "λ = 0.0001", "λ = 0.1"]
    for w in (0.0, 1e-4, 0.1):
        pair = [t for t in traces(fig, "line") if t.meta["wd"] == w]
        assert len({t.legendgroup for t in pair}) == 1 and len({t.line.color for t in pair}) == 1
    assert "epoch" in lines[0].hovertemplate and "λ" in lines[0].hovertemplate and "seed" in lines[0].hovertemplate


def test_values_drawn_are_the_frame_values(sweep):
    one_seed = sweep.frame[sweep.frame["seed"] == 0]
    fig = plots.curves_figure(one_seed)
    for t in traces(fig, "line", "l2_norm"):
        expected = one_seed[one_seed["weight_decay"] == t.meta["wd"]].sort_values("epoch")["l2_norm"].to_numpy()
        np.testing.assert_array_equal(np.asarray(t.y), expected)


def test_several_seeds_draw_mean_and_band(sweep):
    frame = sweep.frame
    for band in ("minmax", "std"):
        fig = plots.curves_figure(frame, band=band)
        assert len(traces(fig, "band", "train_loss")) == 3 and len(traces(fig, "line", "train_loss")) == 3
    fig = plots.curves_figure(frame, band="minmax")
    line, band_trace = traces(fig, "line", "train_loss")[0], traces(fig, "band", "train_loss")[0]
    member = frame[frame["weight_decay"] == 0.0]
    np.testing.assert_allclose(line.y, member.groupby("epoch")["train_loss"].mean().to_numpy())
    assert max(band_trace.y) == pytest.approx(member["train_loss"].max())
    assert "mean of 2 seeds" in line.hovertemplate


def test_validation_curves_are_dashed_and_log_y_applies(sweep):
    fig = plots.curves_figure(sweep.frame, show_val=True, log_y=True)
    val = traces(fig, "val")
    assert len(val) == 3 and all(t.line.dash == "dash" for t in val)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert not traces(plots.curves_figure(sweep.frame), "val")


def test_colours_follow_lambda_order():
    colors = plots.wd_colors([0.1, 0.0, 1e-3])
    assert list(colors) == [0.0, 1e-3, 0.1] and len(set(colors.values())) == 3
    darkness = [sum(int(v) for v in c[c.index("(") + 1:-1].split(",")) for c in colors.values()]
    assert darkness == sorted(darkness)  # sequential: λ = 0 darkest, larger λ lighter


def test_diverged_member_is_marked_and_others_unaffected():
    frame = synthetic(epochs=3, wds=(0.0, 10.0))
    bad = (frame["weight_decay"] == 10.0) & (frame["epoch"] >= 2)
    frame = frame[~((frame["weight_decay"] == 10.0) & (frame["epoch"] == 3))].copy()
    frame.loc[bad & (frame["epoch"] == 2), ["train_loss", "diverged"]] = [np.inf, True]
    fig = plots.curves_figure(frame)
    marks = traces(fig, "diverged", "train_loss")
    assert len(marks) == 1 and marks[0].x == (2,) and marks[0].y[0] == pytest.approx(1 / 2 + 10.0)
    healthy = [t for t in traces(fig, "line", "train_loss") if t.meta["wd"] == 0.0][0]
    assert len(healthy.y) == 4 and np.isfinite(healthy.y).all()
    assert "Infinity" not in fig.to_json()


def test_long_runs_are_thinned_but_keep_the_last_epoch():
    frame = synthetic(epochs=1999, wds=(0.0,))
    line = traces(plots.curves_figure(frame), "line", "train_loss")[0]
    assert len(line.x) <= plots.MAX_POINTS + 1 and line.x[-1] == 1999 and line.x[0] == 0


def test_summary_keeps_lambda_zero_on_the_log_axis_and_marks_the_best():
    frame = synthetic(wds=(0.0, 1e-4, 1e-2, 1.0), seeds=(0, 1))
    frame.loc[frame["weight_decay"] == 1e-2, "val_loss"] -= 5  # make 1e-2 the best
    fig = plots.summary_figure(frame)
    val = traces(fig, "summary", "val_loss")[0]
    assert len(val.x) == 4 and val.x[0] < val.x[1]  # λ = 0 drawn, left of the smallest positive λ
    assert fig.layout.xaxis.ticktext[0] == "0"
    best = traces(fig, "best")
    assert len(best) == 1 and best[0].meta["wd"] == 1e-2
    table = plots.summary_frame(frame)
    assert list(table["weight_decay"]) == [0.0, 1e-4, 1e-2, 1.0]
    # the gap compares the same weights on both sets: the final train_eval_loss, not the loop's train_loss
    assert table["gap"].tolist() == pytest.approx((table["val_loss"] - table["train_eval_loss"]).tolist())
    assert traces(fig, "summary", "train_eval_loss")[0].y == pytest.approx(table["train_eval_loss"].tolist())


def test_positions_for_only_zero_and_single_lambda():
    x, vals, text = plots.wd_positions([0.0])
    assert text == ["0"] and len(x) == 1
    x, vals, text = plots.wd_positions([0.01])
    assert x[0.01] == pytest.approx(-2) and "1e-2" in text


def test_compare_figure_has_one_line_per_optimizer(sweep):
    fig = plots.compare_figure({"Adam with L2": sweep.frame, "AdamW": sweep.frame})
    assert sorted({t.name for t in fig.data}) == ["Adam with L2", "AdamW"] and len(fig.data) == 4


def test_a_grid_is_split_into_its_optimizer_and_lr_groups():
    cfg = SweepConfig(epochs=2, weight_decays=(0.0, 0.1), seeds=(0, 1), hidden=(4,), optimizers=("adam", "adamw"),
                      lrs=(0.001, 0.01))
    frame = run_sweep(cfg).frame
    assert plots.groups(frame) == [("adam", 0.001), ("adam", 0.01), ("adamw", 0.001), ("adamw", 0.01)]
    one = plots.select_group(frame, ("adamw", 0.01))
    assert set(one.optimizer) == {"adamw"} and set(one.lr) == {0.01} and len(one) == 2 * 2 * 3
    table = plots.summary_frame(frame)
    assert len(table) == 4 * 2 and (table["seeds"] == 2).all()      # one row per (optimizer, lr, λ)
    fig = plots.grid_figure(frame)
    names = [t.name for t in fig.data if t.showlegend]
    assert names == ["Adam with L2, lr 0.001", "Adam with L2, lr 0.01", "AdamW, lr 0.001", "AdamW, lr 0.01"]
    val = [t for t in fig.data if t.meta["panel"] == "val_loss" and t.name == "AdamW, lr 0.01"][0]
    expected = table[(table.optimizer == "adamw") & (table.lr == 0.01)]["val_loss"]
    assert list(val.y) == pytest.approx(expected.tolist())
