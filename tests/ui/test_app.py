"""The app through Streamlit's AppTest: controls -> config, link -> controls, a short sweep's figure, bad input."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig, preset_config
from wdlab.settings.params import from_query, to_query
from support import chart_specs, finished, values
from support import app
from wdlab.ui.fields import cfg_to_state, state_to_cfg
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
SHORT = "?preset=tutorial&optimizer=adamw&wd=0,0.001,0.1&seeds=0&epochs=3&hidden=8"


def lines(spec: dict, panel: str) -> list[float]:
    return [t["meta"]["wd"] for t in spec["data"] if t.get("meta", {}).get("role") == "line"
            and t["meta"]["panel"] == panel]


def test_state_round_trip_is_exact_for_every_setting():
    cfg = SweepConfig(preset="moons", hidden=(16, 8), activation="tanh", optimizers=("sgd",), momentum=0.5, lrs=(0.05,),
                      epochs=7, batch_size=32, weight_decays=(0.0, 3e-5, 0.25), seeds=(1, 4), val_fraction=0.3,
                      decay_bias=False, dtype="float64")
    assert state_to_cfg(cfg_to_state(cfg), DEFAULT_LIMITS) == (cfg, [])
    grid = cfg.replace(optimizers=("sgd", "adamw", "rmsprop"), lrs=(3e-4, 0.05), norm="layernorm")
    assert state_to_cfg(cfg_to_state(grid), DEFAULT_LIMITS) == (grid, [])


def test_controls_produce_the_expected_config():
    at = app()
    at.multiselect(key="cfg_weight_decays").set_value(["0", "0.01", "2.5e-3"])
    at.multiselect(key="cfg_optimizer").set_value(["sgd"]).run()
    at.number_input(key="cfg_momentum").set_value(0.8)
    at.multiselect(key="cfg_lr").set_value(["0.05"])
    at.number_input(key="cfg_epochs").set_value(2)
    at.text_input(key="cfg_hidden").input("8,4")
    at.selectbox(key="cfg_activation").set_value("gelu")
    at.text_input(key="cfg_batch_size").input("100")
    at.text_input(key="cfg_seeds").input("3,1")
    at.toggle(key="cfg_decay_bias").set_value(False)
    at.button(key="train").click().run()
    expected = SweepConfig(weight_decays=(0.0, 2.5e-3, 0.01), optimizers=("sgd",), momentum=0.8, lrs=(0.05,), epochs=2,
                           hidden=(8, 4), activation="gelu", batch_size=100, seeds=(1, 3), decay_bias=False)
    assert not at.exception and not notes_of(at, "error")
    assert at.session_state["job"].cfg == expected
    assert {k: at.query_params[k] for k in to_query(expected)} == to_query(expected)  # the link is shareable


def test_query_parameters_fill_the_controls():
    at = app("?preset=moons&optimizer=sgd&momentum=0.9&wd=0,1e-4,0.1&seeds=0,1&epochs=2&hidden=16,16"
             "&activation=tanh&lr=0.1&batch-size=50&decay-bias=false")
    assert not at.exception and not notes_of(at, "warning")
    assert at.selectbox(key="cfg_preset").value == "moons"
    assert at.multiselect(key="cfg_optimizer").value == ["sgd"]
    assert at.multiselect(key="cfg_lr").value == ["0.1"]
    assert at.number_input(key="cfg_momentum").value == 0.9
    assert at.multiselect(key="cfg_weight_decays").value == ["0", "0.0001", "0.1"]
    assert at.text_input(key="cfg_seeds").value == "0,1"
    assert at.text_input(key="cfg_hidden").value == "16,16"
    assert at.selectbox(key="cfg_activation").value == "tanh"
    assert at.text_input(key="cfg_batch_size").value == "50"
    assert at.toggle(key="cfg_decay_bias").value is False
    assert at.session_state["job"].cfg.epochs == 2  # a link starts its run without a click


def test_every_control_defaults_to_the_value_it_shows():
    # The browser falls back to a widget's default when it loses the widget's state (it did right after a live
    # view's app rerun: the next click sent epochs=1, a blank lr, decay-bias off). With each control's default
    # equal to its current value, that loss changes nothing.
    at = app("?preset=moons&optimizer=sgd&momentum=0.9&wd=0,1e-4,0.1&seeds=0,1&epochs=2&hidden=16,16"
             "&activation=tanh&lr=0.1&batch-size=50&decay-bias=false")
    at.multiselect(key="cfg_lr").set_value(["0.03"])
    at.toggle(key="main_log_y").set_value(True)
    at.run()  # a link's values and a visitor's changes alike
    assert at.multiselect(key="cfg_lr").value == ["0.03"] and at.toggle(key="main_log_y").value is True
    assert len(at.text_input) == 4 and len(at.number_input) == 3   # momentum, epochs, warmup epochs
    for e in [*at.text_input, *at.number_input, *at.toggle]:
        assert e.proto.default == e.value, e.key
    for e in [*at.selectbox, *at.radio]:
        assert e.proto.default == e.index, e.key
    for e in at.multiselect:
        assert list(e.proto.default) == e.indices, e.key


def test_short_sweep_draws_one_loss_and_one_norm_trace_per_lambda():
    at = finished(app(SHORT))
    assert not at.exception
    main, norm = chart_specs(at)[:2]  # the two panels are two figures side by side (stacked on a phone)
    assert lines(main, "train_loss") == [0.0, 0.001, 0.1] and lines(norm, "l2_norm") == [0.0, 0.001, 0.1]
    shown = [t for t in main["data"] if t.get("meta", {}).get("role") == "line"]
    job = at.session_state["job"]
    frame = job.snapshot().frame
    first = frame[frame["weight_decay"] == 0.0].sort_values("epoch")["train_loss"].tolist()
    assert values(shown[0]["y"]) == first  # the numbers drawn are the engine's
    assert any(t.get("meta", {}).get("role") == "best" for spec in chart_specs(at)[2:] for t in spec["data"])
    assert at.get("download_button") and len(at.dataframe[0].value) == 3


def test_invalid_parameters_warn_and_use_defaults():
    at = app("?optimizer=lion&wd=0,abc&epochs=-3&colour=red&seeds=0")
    assert not at.exception
    text = " ".join(w for w in notes_of(at, "warning"))
    assert "optimizer" in text and "sgd, adam, adamw, rmsprop" in text
    assert "wd" in text and "comma-separated finite numbers" in text
    assert "epochs" in text and "'colour'" in text
    assert at.multiselect(key="cfg_optimizer").value == ["adam"]
    assert at.number_input(key="cfg_epochs").value == preset_config("tutorial").epochs  # the link's preset's own


def test_over_the_limit_link_warns_and_names_the_limit():
    at = app("?epochs=999999&wd=0")
    assert not at.exception
    assert any("epochs" in w and "at most" in w for w in notes_of(at, "warning"))


def test_out_of_range_controls_say_what_is_allowed_and_train_nothing():
    at = app()
    at.number_input(key="cfg_epochs").set_value(DEFAULT_LIMITS.max_epochs + 1)
    at.multiselect(key="cfg_lr").set_value(["fast"]).run()
    assert not at.exception
    errors = " ".join(e for e in notes_of(at, "error"))
    assert "learning rate 'fast' is not a number" in errors
    at.multiselect(key="cfg_lr").set_value(["0.01"]).run()
    assert any(f"at most {DEFAULT_LIMITS.max_epochs}" in e for e in notes_of(at, "error"))
    assert at.button(key="train").disabled and "job" not in at.session_state
    at.multiselect(key="cfg_weight_decays").set_value(["0", "big"]).run()
    assert any("'big' is not a number" in e for e in notes_of(at, "error"))


def test_cancel_from_the_page():
    at = app("?epochs=2000&wd=0,0.1&hidden=8")
    assert at.button(key="main_cancel")
    job = at.session_state["job"]
    job.wait_for_epochs(3, timeout=60)
    at.button(key="main_cancel").click().run()
    assert not at.exception and at.session_state["job"] is job  # the partial run stays on the page
    assert any("cancelled after" in i.value for i in at.info)
    assert job.done_event.wait(30) and job.status == "cancelled"  # and the training itself stopped


def test_from_query_and_page_agree_on_a_link():
    cfg, warnings = from_query({"wd": "0.1,0", "optimizer": "adamw"})
    at = app("?wd=0.1,0&optimizer=adamw")
    assert at.session_state["job"].cfg == cfg and not warnings


def test_a_grid_link_trains_every_group_and_the_figures_show_one_group_and_compare_all():
    at = finished(app("?optimizer=adam,adamw&lr=0.001,0.01&wd=0,0.1&seeds=0&epochs=3&hidden=8"))
    assert not at.exception and not at.warning
    job = at.session_state["job"]
    assert job.cfg.optimizers == ("adam", "adamw") and job.cfg.lrs == (0.001, 0.01) and len(job.cfg.members) == 8
    assert at.multiselect(key="cfg_optimizer").value == ["adam", "adamw"]
    assert at.multiselect(key="cfg_lr").value == ["0.001", "0.01"]
    pick = at.selectbox(key="main_group")
    assert pick.options == ["Adam with L2, lr 0.001", "Adam with L2, lr 0.01", "AdamW, lr 0.001", "AdamW, lr 0.01"]
    frame = job.snapshot().frame

    def drawn_first_loss(at):
        line = [t for t in chart_specs(at)[0]["data"] if t.get("meta", {}).get("role") == "line"][0]
        return values(line["y"])

    def engine_first_loss(optimizer, lr):
        rows = frame[(frame.optimizer == optimizer) & (frame.lr == lr) & (frame.weight_decay == 0.0)]
        return rows.sort_values("epoch")["train_loss"].tolist()

    assert lines(chart_specs(at)[0], "train_loss") == [0.0, 0.1]          # one group's λ lines, not all eight members
    assert drawn_first_loss(at) == engine_first_loss("adam", 0.01)  # the preset's own group first (issue 27)
    grid = [s for s in chart_specs(at) if {t.get("name") for t in s["data"]} >= {"AdamW, lr 0.01", "Adam with L2, lr 0.001"}]
    # two figures (norm, val loss) that stack on a phone; one figure of two panels until issue 27's phone work
    assert len(grid) == 2
    pick.set_value(3).run()
    assert drawn_first_loss(at) == engine_first_loss("adamw", 0.01)
    assert not at.exception


def _compare_script():
    import streamlit as st

    from wdlab.ui.compare import compare_page
    st.session_state.setdefault("cmp_epochs", 3)
    compare_page()


def test_compare_page_runs_both_optimizers():
    at = AppTest.from_function(_compare_script, default_timeout=60).run()
    assert not at.exception
    jobs = [at.session_state["cmp_job0"], at.session_state["cmp_job1"]]
    assert [j.cfg.optimizer for j in jobs] == ["adam", "adamw"] and jobs[0].cfg.epochs == 3
    deadline = time.monotonic() + 120
    while not all(j.snapshot().finished for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    # both optimizers overlaid, at equal λ and at equal lr·λ (‖w‖₂ | validation loss), then by epoch at one λ
    both = {"Adam with L2, lr 0.001", "Adam with L2, lr 0.01", "AdamW, lr 0.001", "AdamW, lr 0.01"}
    compare = [s for s in chart_specs(at) if {t.get("name") for t in s["data"]} >= both]
    roles = [{(t.get("meta") or {}).get("role") for t in s["data"]} for s in chart_specs(at)]
    assert len(compare) == 5 and [r for r in roles if r & {"h2h", "h2h_epoch"}] == [{"h2h"}] * 4 + [{"h2h_epoch"}]
    assert sum("line" in r for r in roles) == 4  # each run's loss | norm
    assert sum("hist" in r for r in roles) == 2  # each run's models: weights


def test_queue_position_and_full_queue_are_shown(monkeypatch):
    import wdlab.ui.state as state
    from wdlab.settings.config import Limits
    monkeypatch.setattr(state, "limits", lambda: Limits(max_concurrent_jobs=1, max_queued_jobs=1))
    busy = app("?epochs=2000&wd=0,0.1&hidden=8")
    job = busy.session_state["job"]
    deadline = time.monotonic() + 60
    while job.status != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = app("?epochs=2000&wd=0&hidden=8")
    assert "position 1" in waiting.get("progress")[0].proto.text
    full = app("?epochs=2000&wd=0.5&hidden=8")
    assert not full.exception and "job" not in full.session_state
    assert any("busy" in e and "at most 1" in e for e in notes_of(full, "error"))


def test_training_another_config_frees_the_run_this_tab_left():
    at = app("?epochs=2000&wd=0,0.1&hidden=8")
    old = at.session_state["job"]
    at.number_input(key="cfg_epochs").set_value(2)
    at.button(key="train").click().run()
    assert at.session_state["job"] is not old and at.session_state["job"].cfg.epochs == 2
    assert old.done_event.wait(30) and old.status == "cancelled"  # nobody else watched it


def test_a_diverged_member_is_named_and_the_others_are_drawn():
    at = finished(app("?optimizer=sgd&lr=1&epochs=10&wd=0,50&hidden=8&seeds=0"))
    assert not at.exception
    assert any("λ = 50: seed 0 diverged at epoch 3" in w.value for w in at.warning)
    main, norm = chart_specs(at)[:2]
    assert lines(main, "train_loss") == [0.0, 50.0]
    assert [t["meta"]["wd"] for spec in (main, norm) for t in spec["data"]
            if t.get("meta", {}).get("role") == "diverged"] == [50.0, 50.0]
