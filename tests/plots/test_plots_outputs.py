"""The model's own view of the data: filters as images on one scale symmetric about 0, confusion matrices, predicted
vs actual with the y = x line; the readings behind them; visitor text escaped."""
import json

import numpy as np
import plotly.io as pio
import pytest

from wdlab.plots import outputs as po


def traces(fig, role):
    return [t for t in fig.data if t.meta and t.meta.get("role") == role]


def test_top_units_are_the_rows_with_the_largest_norm_and_ties_keep_the_lower_index():
    W = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 0.0], [0.0, -3.0]])
    assert po.top_units(W, 3) == [1, 3, 2] and po.top_units(W, 10) == [1, 3, 2, 0]


def test_confusion_counts_true_by_predicted_and_errors_are_rmse_and_mae():
    counts = po.confusion(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    rmse, mae = po.errors(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0, 0.0]))
    assert rmse == pytest.approx(np.sqrt((0 + 4 + 9) / 3)) and mae == pytest.approx(5 / 3)


def test_filters_tile_each_lambdas_units_row_by_row_on_one_scale_symmetric_about_zero():
    rng = np.random.default_rng(0)
    big, small = rng.normal(size=(3, 64)), 0.1 * rng.normal(size=(3, 64))
    fig = po.filters_figure({0.0: big, 0.1: small}, [5, 2, 9], title="t", meta={"epoch": 7})
    (t,) = traces(fig, "filters")
    top = float(np.abs(big).max())
    assert t.zmin == -top and t.zmax == top and t.zmid == 0 and t.meta["bound"] == pytest.approx(top)
    assert t.meta["wds"] == [0.0, 0.1] and t.meta["units"] == [5, 2, 9] and t.meta["epoch"] == 7
    z = np.array(t.z, dtype=float)
    assert z.shape == (2 * 9 - 1, 3 * 9 - 1)
    # row 2 (λ = 0.1), unit column 2 (unit index 9): pixel (r, c) is weight r·8 + c of that row
    np.testing.assert_allclose(z[9:17, 18:26], small[2].reshape(8, 8), atol=1e-6)
    np.testing.assert_allclose(z[0:8, 0:8], big[0].reshape(8, 8), atol=1e-6)
    assert np.isnan(z[8]).all() and np.isnan(z[:, 8]).all()           # a blank line between images
    assert list(fig.layout.yaxis.ticktext) == ["λ = 0", "λ = 0.1"]
    assert list(fig.layout.xaxis.ticktext) == ["6", "3", "10"] and fig.layout.xaxis.title.text == "hidden unit"
    assert t.text[9][18] == "λ = 0.1, unit 10, pixel (1, 1): " + f"{small[2, 0]:.3g}"
    fixed = po.filters_figure({0.0: big}, [0, 1, 2], bound=10.0, names={0.0: "<b>A</b>"})
    assert traces(fixed, "filters")[0].zmax == 10.0 and fixed.layout.yaxis.ticktext[0] == "&lt;b&gt;A&lt;/b&gt;"
    json.loads(pio.to_json(fig))                                       # NaN gaps serialise (as null)


def test_a_confusion_panel_is_shaded_by_share_of_the_true_class_with_counts_and_escaped_labels():
    counts = np.array([[8, 2], [0, 5]])
    fig = po.confusion_figure(counts, ["<i>no</i>", "yes & more"], title="λ = 0", meta={"wd": 0.0})
    (t,) = traces(fig, "confusion")
    assert np.array(t.z).tolist() == [[0.8, 0.2], [0.0, 1.0]] and (t.zmin, t.zmax) == (0, 1)
    assert t.meta["counts"] == [[8, 2], [0, 5]] and t.meta["wd"] == 0.0
    assert list(t.x) == ["&lt;i&gt;no&lt;/i&gt;", "yes &amp; more"] and np.array(t.text).tolist() == [["8", "2"],
                                                                                                      ["0", "5"]]
    assert np.array(t.customdata)[0, 1].tolist() == [2, 10]            # the hover: 2 of 10
    many = po.confusion_figure(np.ones((20, 20), dtype=int), [str(i) for i in range(20)])
    assert traces(many, "confusion")[0].text is None                  # too many cells to write in: hover only


def test_predicted_vs_actual_draws_the_identity_on_the_shared_span_in_the_targets_name():
    fig = po.predicted_figure(np.array([1.0, 2.0]), np.array([1.5, 1.0]), wd=0.01, span=(0.0, 3.0),
                              all_wds=(0.0, 0.01), target="<price>", title="λ = 0.01 · RMSE 0.79")
    (ident,) = traces(fig, "identity")
    assert list(ident.x) == list(ident.y) == [0.0, 3.0]
    (pts,) = traces(fig, "predicted")
    assert list(pts.x) == [1.0, 2.0] and list(pts.y) == [1.5, 1.0] and pts.meta["wd"] == 0.01
    assert list(fig.layout.xaxis.range) == list(fig.layout.yaxis.range) == [0.0, 3.0]
    assert fig.layout.xaxis.title.text == "actual &lt;price&gt;"
    assert po.span_of(np.array([0.0, 10.0]), np.array([np.nan, 5.0])) == pytest.approx((-0.4, 10.4))


def test_the_html_report_holds_every_figure_plotly_once_and_escapes_its_text():
    import plotly.graph_objects as go
    from wdlab.plots.report import report_html
    figs = [(f"<h>{i}", go.Figure(go.Scatter(x=[1, 2], y=[i, i], meta={"role": f"r{i}"}))) for i in range(3)]
    page = report_html("Run <script>x</script>", ["λ = 0, 0.1 & more"], figs)
    assert page.startswith("<!DOCTYPE html>") and page.count('class="plotly-graph-div"') == 3
    assert page.count("Plotly.newPlot") == 3 and "<script src=" not in page      # plotly.js inside
    assert len(page) > 1_000_000 and "<script>x</script>" not in page and "&lt;h&gt;2" in page
    assert "λ = 0, 0.1 &amp; more" in page
