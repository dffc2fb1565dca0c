"""Diverged and cancelled runs drawn honestly (issue #27, item 2): the epoch slider spans the epochs kept, it and
"Showing epoch N" agree, and a model whose ‖w‖₂ is above the curves' axis is marked in the histograms, in words."""
import re

import pytest

from support import app, chart_specs, finished
from wdlab.plots.scale import y_range

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def _showing(at) -> int:
    return int(next(re.search(r"Showing epoch (\d+)", c.value)[1] for c in at.caption if "Showing epoch" in c.value))


def _hist(at) -> dict:
    return next(s for s in chart_specs(at) if any((t.get("meta") or {}).get("role") == "hist" for t in s["data"]))


def test_sgd_lr_10_the_slider_ends_where_the_pictures_do_and_the_blow_up_is_marked():
    at = finished(app("?optimizer=sgd&lr=10"))
    assert not at.exception
    job = at.session_state["job"]
    slider = at.select_slider(key="main_mv_epoch")
    kept = job.snapshots.taken()
    assert [int(o) for o in slider.options] == list(kept) and kept[-1] < 100
    assert slider.value == kept[-1] == _showing(at)
    said = next(c.value for c in at.caption if "Showing epoch" in c.value)
    assert "diverged by epoch" in said and f"end at epoch {kept[-1]}" in said
    # the histogram's ‖w‖₂ is above the top of the ‖w‖₂ curves: each row says so, and a caption says why
    frame = job.frame()
    top = y_range([frame], ["l2_norm"]).top
    assert frame.loc[frame["epoch"] == kept[-1], "l2_norm"].min() > top
    titles = [a["text"] for a in _hist(at)["layout"]["annotations"]]
    assert len(titles) == 5 and all("✕ diverging" in t for t in titles)
    assert any("above the top of the ‖w‖₂ curves' axis" in c.value for c in at.caption)
    # every slider position agrees with the text
    for option in slider.options:
        at.select_slider(key="main_mv_epoch").set_value(int(option)).run()
        assert _showing(at) == int(option)
        marked = [a["text"] for a in _hist(at)["layout"]["annotations"] if "✕" in a["text"]]
        assert bool(marked) == (frame.loc[frame["epoch"] == int(option), "l2_norm"].max() > top)


def test_one_diverging_model_is_marked_and_the_others_keep_their_axis():
    # SGD multiplies the weights by (1 − lr·λ) per step: |1 − 1·5| = 4 > 1 blows λ = 5 up within a few epochs
    at = finished(app("?preset=moons&optimizer=sgd&lr=1&wd=0,5&seeds=0&epochs=30&hidden=8"))
    job = at.session_state["job"]
    at_div = job.snapshots.diverged_at(next(m for m in job.snapshots.members if m.weight_decay == 5.0))
    slider = at.select_slider(key="main_mv_epoch")
    assert slider.options[-1] == "30" and slider.value == 30 == _showing(at)
    assert any(c.value == f"λ = 5 diverged at epoch {at_div}: no weights to draw from then on." for c in at.caption)
    assert [a["text"].split(":")[0] for a in _hist(at)["layout"]["annotations"]] == ["λ = 0"]
    # the histogram's axis is the healthy model's, not the blow-up's
    bound = _hist(at)["layout"]["xaxis"]["range"][1]
    frame = job.frame()
    assert bound < frame.loc[frame["weight_decay"] == 0.0, "l2_norm"].max()


def test_after_cancel_the_slider_spans_only_the_epochs_trained():
    at = app("?preset=moons&epochs=2000&wd=0,0.1&hidden=8&seeds=0")
    job = at.session_state["job"]
    assert job.wait_for_epochs(3, timeout=60)
    at.run()
    at.button(key="main_cancel").click().run()
    assert job.done_event.wait(30) and job.status == "cancelled"
    at.run()
    assert not at.exception
    slider = at.select_slider(key="main_mv_epoch")
    done = job.snapshot(with_frame=False).epochs_done
    options = [int(o) for o in slider.options]
    assert options == list(job.snapshots.taken()) and options[-1] <= done < 2000
    assert slider.value == options[-1] == _showing(at)
    assert any("cancelled, so the pictures end at epoch" in c.value for c in at.caption)
