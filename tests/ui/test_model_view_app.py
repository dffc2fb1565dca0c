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


def test_a_moons_link_draws_one_boundary_panel_per_lambda_and_the_slider_moves_them():
    at = finished(app(MOONS))
    assert not at.exception
    panels = charts(at, "boundary")
    assert sorted(meta(p, "boundary")[0]["wd"] for p in panels) == [0.0, 0.01, 0.3]
    assert {meta(p, "boundary")[0]["epoch"] for p in panels} == {40}          # the end by default
    slider = at.select_slider(key="main_mv_epoch")
    assert slider.options[0] == "0" and slider.options[-1] == "40" and len(slider.options) <= 25
    early = int(slider.options[3])
    slider.set_value(early).run()
    panels = charts(at, "boundary")
    assert len(panels) == 3 and {meta(p, "boundary")[0]["epoch"] for p in panels} == {early}
    z_early = [t["z"] for t in panels[0]["data"] if (t.get("meta") or {}).get("role") == "boundary"][0]
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
    # validation points on and off
    assert not any(meta(p, "validation_points") for p in charts(at, "boundary"))
    at.toggle(key="main_mv_val").set_value(True).run()
    assert all(meta(p, "validation_points") for p in charts(at, "boundary"))


def test_play_steps_through_the_epochs_and_stops_at_the_end():
    at = finished(app(MOONS.replace("epochs=40", "epochs=6")))
    at.button(key="main_mv_playbtn").click().run()
    assert at.session_state["main_mv_play"] and at.select_slider(key="main_mv_epoch").value == 0
    seen = {0}
    deadline = time.monotonic() + 60
    while at.session_state["main_mv_play"] and time.monotonic() < deadline:
        time.sleep(0.1)
        at.run()  # AppTest never fires run_every: each run stands for a tick
        seen.add(at.select_slider(key="main_mv_epoch").value)
        assert {meta(p, "boundary")[0]["epoch"] for p in charts(at, "boundary")} == \
            {at.select_slider(key="main_mv_epoch").value}
    assert not at.session_state["main_mv_play"] and seen == set(range(7))


def test_a_grid_draws_the_group_chosen_in_the_selector():
    at = finished(app(MOONS.replace("optimizer=adam", "optimizer=adam,adamw").replace("epochs=40", "epochs=5")))
    at.selectbox(key="main_group").set_value(1).run()
    assert len(charts(at, "boundary")) == 3
    assert {(meta(p, "boundary")[0]["optimizer"], meta(p, "boundary")[0]["lr"]) for p in charts(at, "boundary")} \
        == {("adamw", 0.01)} and not at.exception
    at.selectbox(key="main_group").set_value(0).run()
    assert {meta(p, "boundary")[0]["optimizer"] for p in charts(at, "boundary")} == {"adam"}


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
    panels = charts(at, "boundary")
    assert sorted(meta(p, "boundary")[0]["wd"] for p in panels) == [0.0, 0.1]
    titles = {p["layout"]["xaxis"]["title"]["text"] for p in panels}
    assert titles == {"&lt;a href=\"http://x.example\"&gt;click&lt;/a&gt;"}       # shown as typed, never a link
    assert {p["layout"]["yaxis"]["title"]["text"] for p in panels} == {"b &amp; c"}
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
    panels = charts(at, "boundary")
    assert [meta(p, "boundary")[0]["wd"] for p in panels] == [0.0]
    said = [t.value for t in at.text if t.value.startswith("λ = 5: diverged at epoch")]  # a plain-text note
    assert len(said) == 1
    at.select_slider(key="main_mv_epoch").set_value(0).run()   # before it blew up: both drawn
    assert sorted(meta(p, "boundary")[0]["wd"] for p in charts(at, "boundary")) == [0.0, 5.0]


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
