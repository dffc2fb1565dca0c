"""The Landscape page: a link gives one map per optimizer with an lr × λ cell each; a chosen cell shows its curves."""
import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from support import values
from wdlab.frame.landscape import cells
from wdlab.settings.reading import describe_at

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
LINK = {"preset": "moons", "optimizer": "adam,adamw", "lr": "0.001,0.01,0.1", "wd": "0,0.001,0.1", "epochs": "12",
        "hidden": "8"}


def _script():
    from wdlab.ui.landscape_page import landscape_page
    landscape_page()


def opened(query=LINK) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    deadline = time.monotonic() + 120
    while not at.session_state["landscape_job"].snapshot(with_frame=False).finished:  # AppTest never polls
        assert time.monotonic() < deadline, "the map did not finish"
        time.sleep(0.1)
    return at.run()


def maps(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_a_landscape_link_draws_one_map_per_optimizer_with_a_cell_per_lr_and_lambda():
    at = opened()
    assert not at.exception and not at.error
    specs = maps(at)
    assert [s["layout"]["title"]["text"] for s in specs] == ["Adam with L2", "AdamW"]
    for spec, opt in zip(specs, ("adam", "adamw")):
        cell = next(t for t in spec["data"] if t["meta"]["role"] == "cells")
        assert cell["marker"]["symbol"] == "square"
        assert sorted(tuple(d[1:]) for d in cell["customdata"]) == sorted(
            (lr, w) for lr in (0.001, 0.01, 0.1) for w in (0.0, 0.001, 0.1))
        assert {d[0] for d in cell["customdata"]} == {opt}
        assert any(t["meta"]["role"] == "best" for t in spec["data"])
    words = " ".join(m.value for m in at.markdown)
    # one plain line per optimizer, in the maps' order (was one sentence for all, "In λ: for Adam with L2 …")
    assert "Where the best λ sits" in words and "- Adam with L2: best λ" in words and "- AdamW: best λ" in words
    assert words.index("- Adam with L2:") < words.index("- AdamW:") and "as lr·λ (" in words
    assert any("The best λ at an lr" in c.value for c in at.caption)


def test_a_chosen_cell_shows_its_curves_and_a_link_to_the_explorer():
    at = opened()
    at.session_state["landscape_cell"] = ("adamw", 0.01, 0.1)   # what a click in the map stores
    at.run()
    assert any("AdamW, lr 0.01, λ 0.1" in h.value for h in at.subheader)
    curves = maps(at)[-1]
    assert {t["meta"].get("wd") for t in curves["data"] if t.get("meta", {}).get("role") == "line"} == {0.1}
    link = at.get("link_button")[0].proto.url
    assert "optimizer=adamw" in link and "lr=0.01" in link and "wd=0.1" in link


def test_the_axis_switch_draws_lr_times_lambda():
    at = opened()
    at.radio(key="landscape_axis").set_value("lr_wd").run()
    assert "lr·λ" in maps(at)[0]["layout"]["xaxis"]["title"]["text"]


def test_the_default_map_fits_the_hosted_demo_and_a_bigger_one_gets_a_message(monkeypatch):
    from wdlab.engine.budget import validate
    from wdlab.settings.config import DEMO_LIMITS
    from wdlab.ui.text import notes_of
    from wdlab.ui.landscape_page import DEFAULT
    validate(DEFAULT, DEMO_LIMITS)                       # trains on the shared demo server as it is
    monkeypatch.setenv("WDLAB_DEMO", "1")
    at = opened({"preset": "moons", "optimizer": "adam,adamw", "lr": "1e-4,3e-4,1e-3,3e-3,1e-2,3e-2", "wd": "0,0.1",
                 "epochs": "10", "hidden": "8"})
    text = " ".join(notes_of(at, "warning"))
    assert "6 learning rates (at most 4)" in text        # the link's grid was too big: said, and cut to fit
    assert not at.exception


def test_the_landscapes_compare_at_changes_its_cells_and_words_and_rides_in_the_link():
    at = opened()
    frame = at.session_state["landscape_job"].frame()
    shown = {}
    for which in ("best", "final", "last"):
        if which != "best":
            at.radio(key="landscape_which").set_value(which).run()
        assert at.radio(key="landscape_which").value == which
        assert any(describe_at(which) in c.value for c in at.caption), [c.value for c in at.caption]
        assert (at.query_params.get("compare-at") in ([which], which)) == (which != "best")
        want = cells(frame, "val_loss", which).set_index(["optimizer", "lr", "weight_decay"])["value"]
        for spec in maps(at):
            cell = next(t for t in spec["data"] if t["meta"]["role"] == "cells")
            for (opt, lr, w), value in zip(cell["customdata"], values(cell["marker"]["color"]), strict=True):
                assert value == pytest.approx(want[(opt, lr, w)], rel=1e-9)
                shown[(which, opt, lr, w)] = value
    keys = {k[1:] for k in shown}
    assert any(shown[("best", *k)] < shown[("final", *k)] for k in keys)          # the readings differ
    assert any(shown[("last", *k)] != shown[("final", *k)] for k in keys)
    again = opened({**LINK, "compare-at": "last"})
    assert again.radio(key="landscape_which").value == "last" and not again.exception
