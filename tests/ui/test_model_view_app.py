"""The models in the app (AppTest): a boundary panel per λ at the slider's epoch, fitted curves, weights, play."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from support import chart_specs, finished
from support import app

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
MOONS = "?preset=moons&optimizer=adam&lr=0.01&wd=0,0.01,0.3&seeds=0&epochs=40&hidden=16"


def charts(at: AppTest, role: str) -> list[dict]:
    """The plotly charts holding a trace of `role`, as sent to the browser."""
    return [spec for spec in chart_specs(at) if any((t.get("meta") or {}).get("role") == role for t in spec["data"])]


def meta(spec: dict, role: str) -> list[dict]:
    return [t["meta"] for t in spec["data"] if (t.get("meta") or {}).get("role") == role]


def panels(at: AppTest) -> list[dict]:
    """Every λ's panel, as the meta of its surface: one figure holds them all (plots.model_grid)."""
    (chart,) = charts(at, "boundary")
    return meta(chart, "boundary")


def test_a_moons_link_draws_one_boundary_panel_per_lambda_and_the_slider_moves_them():
    at = finished(app(MOONS))
    assert not at.exception
    assert sorted(p["wd"] for p in panels(at)) == [0.0, 0.01, 0.3]
    assert {p["epoch"] for p in panels(at)} == {40}                          # the end by default
    slider = at.select_slider(key="main_mv_epoch")
    assert slider.options[0] == "0" and slider.options[-1] == "40" and len(slider.options) <= 25
    early = int(slider.options[3])
    slider.set_value(early).run()
    assert len(panels(at)) == 3 and {p["epoch"] for p in panels(at)} == {early}
    z_early = [t["z"] for t in charts(at, "boundary")[0]["data"] if (t.get("meta") or {}).get("role") == "boundary"][0]
    # the histograms, accuracy and per-layer norm curves follow the same epoch
    hist = charts(at, "hist")
    assert len(hist) == 1 and {m["wd"] for m in meta(hist[0], "hist")} == {0.0, 0.01, 0.3}
    assert {m["epoch"] for m in meta(hist[0], "hist")} == {early}
    acc = charts(at, "acc")[0]
    assert [s["x0"] for s in acc["layout"]["shapes"]] == [early]
    assert {m["panel"] for p in charts(at, "layer_norm") for m in meta(p, "layer_norm")} == {"l2_weight1",
                                                                                          "l2_weight2"}
    at.select_slider(key="main_mv_epoch").set_value(40).run()
    z_end = [t["z"] for t in charts(at, "boundary")[0]["data"] if (t.get("meta") or {}).get("role") == "boundary"][0]
    assert z_end != z_early                                                     # a different model is drawn
    # validation points on and off: on, every panel has them
    assert not any(meta(p, "validation_points") for p in charts(at, "boundary"))
    at.toggle(key="main_mv_val").set_value(True).run()
    (chart,) = charts(at, "boundary")
    axes = {t["xaxis"] for t in chart["data"] if (t.get("meta") or {}).get("role") == "validation_points"}
    assert axes == {t["xaxis"] for t in chart["data"] if (t.get("meta") or {}).get("role") == "boundary"}
    assert len(axes) == 3


def test_the_panels_play_in_the_browser_every_kept_epoch_a_frame_named_where_it_is_drawn():
    """Play is the figure's own (issue #27, item 6): every kept epoch is a frame, no server-side Play is left."""
    at = finished(app(MOONS.replace("epochs=40", "epochs=6")))
    assert not [b for b in at.button if b.key == "main_mv_playbtn"]
    (chart,) = charts(at, "boundary")
    names = [f["name"] for f in chart["frames"]]
    assert names == [str(e) for e in range(7)] == at.select_slider(key="main_mv_epoch").options
    slider = chart["layout"]["sliders"][0]
    assert [s["label"] for s in slider["steps"]] == names and slider["currentvalue"]["prefix"] == "epoch "
    assert [b["method"] for b in chart["layout"]["updatemenus"][0]["buttons"]] == ["animate", "animate"]
    for f in chart["frames"]:
        assert f["layout"]["title"]["text"].endswith(f"at epoch {f['name']}")
        assert {t["meta"]["epoch"] for t in f["data"] if t["meta"]["role"] == "boundary"} == {int(f["name"])}
        assert len(f["data"]) == len(f["traces"]) == 6                    # the three panels' surfaces only
    # the page's slider picks where the figure starts: its slider, title and traces there
    at.select_slider(key="main_mv_epoch").set_value(3).run()
    (chart,) = charts(at, "boundary")
    assert chart["layout"]["sliders"][0]["active"] == 3 and chart["layout"]["title"]["text"].endswith("epoch 3")
    assert {p["epoch"] for p in meta(chart, "boundary")} == {3}
    fits = charts(finished(app("?preset=sine&epochs=6&wd=0,0.1&seeds=0")), "fit")
    assert len(fits) == 1 and [f["name"] for f in fits[0]["frames"]] == [str(e) for e in range(7)]
    assert all(f["layout"]["title"]["text"].endswith(f"at epoch {f['name']}") for f in fits[0]["frames"])


def test_a_grid_draws_the_group_chosen_in_the_selector():
    at = finished(app(MOONS.replace("optimizer=adam", "optimizer=adam,adamw").replace("epochs=40", "epochs=5")))
    at.selectbox(key="main_group").set_value(1).run()
    assert len(panels(at)) == 3
    assert {(p["optimizer"], p["lr"]) for p in panels(at)} == {("adamw", 0.01)} and not at.exception
    at.selectbox(key="main_group").set_value(0).run()
    assert {p["optimizer"] for p in panels(at)} == {"adam"}


def test_a_linear_model_shows_its_weight_per_feature():
    at = finished(app("?preset=highdim-linear&hidden=linear&optimizer=sgd&lr=0.01&wd=0,0.1&epochs=5&seeds=0"))
    bars = charts(at, "feature")
    assert len(bars) == 1 and {m["wd"] for m in meta(bars[0], "feature")} == {0.0, 0.1}
    assert not charts(at, "boundary") and not charts(at, "hist")


EVIL = '<a href="http://x.example">click</a>'


def test_a_two_feature_table_draws_its_boundaries_with_its_column_names_as_plain_text():
    from support import csv_table
    points = [((i % 17) / 4 - 2, (i * 7 % 13) / 3 - 2) for i in range(120)]
    rows = [[round(a, 3), round(b, 3), "yes" if a + b > 0 else "no"] for a, b in points]
    raw = csv_table([EVIL, "b & c", "label"], rows)
    at = app("?preset=csv&optimizer=adam&wd=0,0.1&seeds=0&epochs=5&hidden=8")
    at.file_uploader(key="upload_file").set_value(("t.csv", raw, "text/csv")).run()
    at.selectbox(key="upload_target").set_value("label").run()
    at.button(key="train").click().run()
    at = finished(at)
    assert sorted(p["wd"] for p in panels(at)) == [0.0, 0.1]
    layout = charts(at, "boundary")[0]["layout"]
    titles = {a["title"]["text"] for name, a in layout.items() if name.startswith("xaxis") and "title" in a}
    assert titles == {"&lt;a href=\"http://x.example\"&gt;click&lt;/a&gt;"}       # shown as typed, never a link
    assert {a["title"]["text"] for name, a in layout.items() if name.startswith("yaxis") and "title" in a} \
        == {"b &amp; c"}
    assert not at.exception and not any(EVIL in m.value for m in at.markdown)


def test_a_one_feature_regression_table_draws_a_fitted_curve_per_lambda():
    from support import csv_table
    raw = csv_table(["x", "y"], [[i / 10, round((i / 10) ** 2 + (i % 3) / 10, 3)] for i in range(30)])
    at = app("?preset=csv&optimizer=adam&wd=0,0.01,0.1&seeds=0&epochs=5&hidden=8")
    at.file_uploader(key="upload_file").set_value(("t.csv", raw, "text/csv")).run()
    at.button(key="train").click().run()
    at = finished(at)
    fits = charts(at, "fit")
    assert len(fits) == 1 and [m["wd"] for m in meta(fits[0], "fit")] == [0.0, 0.01, 0.1]
    assert fits[0]["layout"]["xaxis"]["title"]["text"] == "x"


def test_a_diverged_member_says_so_in_its_panel_while_the_others_are_drawn():
    # SGD multiplies the weights by (1 − lr·λ) per step: |1 − 1·5| = 4 > 1 blows λ = 5 up within a few epochs
    at = finished(app("?preset=moons&optimizer=sgd&lr=1&wd=0,5&seeds=0&epochs=30&hidden=8"))
    assert not at.exception
    assert [p["wd"] for p in panels(at) if not p.get("diverged")] == [0.0]
    assert [p["wd"] for p in panels(at) if p.get("diverged")] == [5.0]         # its panel is empty, titled so
    said = [t.value for t in at.text if t.value.startswith("λ = 5: diverged at epoch")]  # a plain-text note
    assert len(said) == 1
    titles = [a["text"] for a in charts(at, "boundary")[0]["layout"]["annotations"]]
    assert titles[1].startswith("λ = 5: diverged at epoch")
    at.select_slider(key="main_mv_epoch").set_value(0).run()   # before it blew up: both drawn
    assert sorted(p["wd"] for p in panels(at) if not p.get("diverged")) == [0.0, 5.0]


def test_while_training_the_panels_show_the_latest_snapshot():
    at = app(MOONS.replace("epochs=40", "epochs=2000") + "&batch-size=10")
    job = at.session_state["job"]
    deadline = time.monotonic() + 120
    seen = set()
    while time.monotonic() < deadline and len(seen) < 2:   # AppTest never fires run_every: poll by hand
        time.sleep(0.2)
        at.run()
        if not job.snapshot(with_frame=False).finished:
            seen |= {meta(p, "boundary")[0]["epoch"] for p in charts(at, "boundary")}
    assert len(seen) >= 2 and max(seen) < 2000                     # it followed training, before the end
    taken = job.snapshots.taken()
    assert all(e in job.snapshots.epochs for e in seen) and max(seen) <= taken[-1]
    at.button(key="main_cancel").click().run()
