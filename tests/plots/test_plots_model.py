"""Model pictures: one boundary per call on a shared 0–1 scale, fitted curves, weight histograms on a shared
axis, per-feature bars, accuracy and per-layer norm curves; visitor text escaped."""
import numpy as np
import pandas as pd
import pytest

from wdlab.plots import model as pm


def traces(fig, role):
    return [t for t in fig.data if t.meta and t.meta.get("role") == role]


def test_plane_covers_the_points_and_surface_reshapes_row_by_row():
    X = np.array([[0.0, -1.0], [2.0, 3.0], [1.0, 1.0]])
    xs, ys, XY = pm.plane(X, n=5, pad=0.0)
    assert xs[0] == 0 and xs[-1] == 2 and ys[0] == -1 and ys[-1] == 3 and XY.shape == (25, 2)
    out = np.stack([1 - XY[:, 0] / 2, XY[:, 0] / 2], 1)           # P(class 1) grows with x
    z = pm.surface(out, 5, "binary")
    np.testing.assert_allclose(z[0], xs / 2, rtol=1e-6)            # row 0 is ys[0], along x
    assert pm.surface(np.stack([XY[:, 1], -XY[:, 1], 0 * XY[:, 1]], 1), 5, "classes")[0, 0] == 1  # y<0: class 1
    assert pm.surface_kind("classification", 2) == "binary" and pm.surface_kind("classification", 3) == "classes"
    assert pm.surface_kind("regression", 0) == "value"


def test_boundary_panel_draws_probability_on_a_fixed_scale_with_the_points():
    xs, ys = np.linspace(-1, 1, 4), np.linspace(-1, 1, 4)
    z = np.tile(np.linspace(0.1, 0.9, 4), (4, 1))
    train = (np.array([[0, 0], [0.5, 0.5], [-0.5, 0.2]]), np.array([0, 1, 1]))
    val = (np.array([[0.1, 0.1]]), np.array([0]))
    fig = pm.boundary_figure(z, xs, ys, train, meta={"wd": 0.1, "epoch": 7}, title="λ = 0.1")
    surface = traces(fig, "boundary")[0]
    assert (surface.zmin, surface.zmax) == (0, 1) and surface.meta == {"role": "boundary", "wd": 0.1, "epoch": 7}
    assert len(traces(fig, "boundary_line")) == 1               # 0.5 is crossed: the boundary is drawn
    assert sum(len(t.x) for t in traces(fig, "train_points")) == 3 and not traces(fig, "validation_points")
    fig = pm.boundary_figure(z, xs, ys, train, val)
    assert len(traces(fig, "validation_points")) == 1 and fig.layout.title.text is None  # unlabelled panel
    flat = pm.boundary_figure(np.full((4, 4), 0.9), xs, ys, train)
    assert not traces(flat, "boundary_line")                    # everything one class: no line to draw


def test_boundary_of_values_and_classes_uses_the_shared_range():
    xs = ys = np.linspace(0, 1, 3)
    fig = pm.boundary_figure(np.zeros((3, 3)), xs, ys, (np.zeros((2, 2)), np.array([1.0, 2.0])), kind="value",
                             zrange=(-3, 5))
    assert (traces(fig, "boundary")[0].zmin, traces(fig, "boundary")[0].zmax) == (-3, 5)
    assert traces(fig, "train_points")[0].marker.cmin == -3
    fig = pm.boundary_figure(np.zeros((3, 3)), xs, ys, (np.zeros((3, 2)), np.array([0, 1, 2])), kind="classes",
                             n_classes=3)
    assert traces(fig, "boundary")[0].type == "heatmap" and len(traces(fig, "train_points")) == 3


def test_visitor_text_is_escaped_in_axis_titles_and_feature_names():
    evil = '<a href="http://x">click</a> & <b>'
    xs = ys = np.linspace(0, 1, 3)
    fig = pm.boundary_figure(np.zeros((3, 3)), xs, ys, (np.zeros((1, 2)), np.array([0])), axis_titles=(evil, "y"))
    assert "<" not in fig.layout.xaxis.title.text and "&lt;a href" in fig.layout.xaxis.title.text
    bars = pm.feature_weights_figure({0.0: np.array([[1.0, -2.0]])}, [evil, "ok"])
    assert all("<" not in t for t in bars.layout.xaxis.ticktext)
    assert "&amp;" in traces(bars, "feature")[0].customdata[0]


def test_fitted_curves_one_per_lambda_over_the_points_with_optional_names():
    x = pm.line(np.array([0.0, 1.0]), n=11)
    assert x[0] < 0 < 1 < x[-1] and len(x) == 11
    fig = pm.fitted_figure(x, {0.1: np.cos(x), 0.0: np.sin(x)}, (np.array([0.2]), np.array([0.3])),
                           (np.array([0.5]), np.array([0.1])), yrange=(-2, 2))
    fits = traces(fig, "fit")
    assert [t.meta["wd"] for t in fits] == [0.0, 0.1] and [t.name for t in fits] == ["λ = 0", "λ = 0.1"]
    np.testing.assert_allclose(fits[0].y, np.sin(x), rtol=1e-6)
    assert list(fig.layout.yaxis.range) == [-2, 2] and len(traces(fig, "validation_points")) == 1
    named = pm.fitted_figure(x, {0.0: x, 1.0: x}, (x, x), names={0.0: "A", 1.0: "B"})
    assert [t.name for t in traces(named, "fit")] == ["A", "B"]


def test_weight_histograms_share_one_axis_and_count_every_weight():
    rng = np.random.default_rng(0)
    weights = {0.0: rng.normal(0, 1, 500), 0.1: rng.normal(0, 0.2, 300)}
    fig = pm.weights_figure(weights, bins=20)
    hists = traces(fig, "hist")
    assert [t.meta["wd"] for t in hists] == [0.0, 0.1]
    for t in hists:
        assert sum(t.y) == pytest.approx(1.0, abs=1e-5)            # shares of that λ's weights
    bound = np.abs(weights[0.0]).max()
    assert fig.layout.xaxis.range == (-bound, bound) or list(fig.layout.xaxis.range) == [-bound, bound]
    # the small-λ row is wider than the large-λ row: the shrinkage is visible
    spread = [np.sum(np.abs(np.asarray(t.x)) * np.asarray(t.y)) for t in hists]
    assert spread[0] > 3 * spread[1]
    fixed = pm.weights_figure({0.0: np.array([5.0, -0.1])}, bound=1.0, bins=4)
    y = np.asarray(traces(fixed, "hist")[0].y)
    assert y[-1] == pytest.approx(0.5)                               # beyond the axis: in the edge bin
    assert "‖w‖₂ = 5" in fixed.layout.annotations[0].text


def test_weight_layers_keep_the_matrices_only():
    names = ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]   # 1 = LayerNorm
    params = [np.ones((4, 2)), np.ones(4), np.ones(4), np.zeros(4), np.ones((1, 4)), np.zeros(1)]
    layers = pm.weight_layers(names, params)
    assert [n for n, _ in layers] == ["layer 1", "layer 2"] and layers[1][1].shape == (1, 4)


def test_feature_bars_are_the_weights_and_norms_for_several_outputs():
    fig = pm.feature_weights_figure({0.0: np.array([[1.0, -2.0, 0.5]]), 0.5: np.array([[0.1, -0.2, 0.0]])},
                                    ["a", "b", "c"])
    bars = traces(fig, "feature")
    np.testing.assert_allclose(bars[0].y, [1.0, -2.0, 0.5])
    assert list(fig.layout.yaxis.range) == pytest.approx([-2.1, 2.1])
    multi = pm.feature_weights_figure({0.0: np.array([[3.0, 0.0], [4.0, 1.0]])}, ["a", "b"])
    np.testing.assert_allclose(traces(multi, "feature")[0].y, [5.0, 1.0])


def frame(epochs=4, wds=(0.0, 0.1), seeds=(0, 1)):
    rows = [dict(weight_decay=w, seed=s, epoch=e, val_acc=0.5 + e / 10 - w + s / 100, train_eval_acc=0.6 + e / 10,
                 l2_weight1=1 + e * (1 - w), l2_weight2=2 + e, l2_weight10=0.0, diverged=False)
            for w in wds for s in seeds for e in range(epochs + 1)]
    return pd.DataFrame(rows)


def test_accuracy_curves_are_seed_means_with_the_slider_epoch_marked():
    f = frame()
    fig = pm.accuracy_figure(f, epoch=2, epochs_total=4)
    acc = traces(fig, "acc")
    assert [(t.meta["panel"], t.meta["wd"]) for t in acc] == [("val_acc", 0.0), ("train_eval_acc", 0.0),
                                                                 ("val_acc", 0.1), ("train_eval_acc", 0.1)]
    np.testing.assert_allclose(acc[0].y, 0.5 + np.arange(5) / 10 + 0.005)
    assert acc[1].line.dash == "dot" and [s.x0 for s in fig.layout.shapes] == [2]


def test_layer_norm_curves_one_panel_per_layer_in_layer_order():
    f = frame()
    assert pm.layer_columns(f) == ["l2_weight1", "l2_weight2", "l2_weight10"]
    fig = pm.layer_norms_figure(f, ["l2_weight1"], epoch=3)
    lines = traces(fig, "layer_norm")
    assert [t.meta["wd"] for t in lines] == [0.0, 0.1] and {t.meta["panel"] for t in lines} == {"l2_weight1"}
    np.testing.assert_allclose(lines[1].y, 1 + np.arange(5) * 0.9)
    both = pm.layer_norms_figure(f)
    assert {t.meta["panel"] for t in traces(both, "layer_norm")} == {"l2_weight1", "l2_weight2", "l2_weight10"}
