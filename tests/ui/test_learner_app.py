"""The learner's rough edges through AppTest: exact λ entry, Cancel keeps results, an all-diverged sweep, every
settings error at its field, view options in the link, 'reused' results, download names, show me the code."""
import re

import numpy as np
import pandas as pd
import pytest

from wdlab.plots import curves as plots
from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig
from wdlab.settings.params import to_query
from wdlab.plots.scale import column_format, y_range
from wdlab.ui.fields import normalize_wds, state_to_cfg, cfg_to_state
from wdlab.ui.results import download_name, table_view
from support import chart_specs, finished
from support import app as open_app
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
DIVERGING = "?optimizer=sgd&lr=2&momentum=0.9&wd=0,0.01,1&epochs=30&seeds=0,1"


# -- 1. exact λ entry -----------------------------------------------------------------------------------------
def test_typed_lambdas_are_exact_sorted_and_written_as_the_table_writes_them():
    assert normalize_wds(["0.1", "3e-4", "1", "λ = 3", "0.0003", "0.1234567"]) == \
        ["0.0003", "0.1", "0.1234567", "1", "3"]
    assert normalize_wds(["0.01", "abc"]) == ["0.01", "abc"]  # not a number: kept, so its error is shown
    cfg = SweepConfig(weight_decays=(0.0, 0.1234567, 3e-4))  # every digit survives the widgets
    assert state_to_cfg(cfg_to_state(cfg), DEFAULT_LIMITS)[0] == cfg


def test_typing_a_number_adds_exactly_that_number():
    at = open_app()
    ms = at.multiselect(key="cfg_weight_decays")
    # No option label starts with a digit, so a typed number never prefix-matches a grid value (typing 1 added
    # 1e-05, the first match, when labels were bare numbers): Enter adds what was typed.
    assert all(label.startswith("λ = ") for label in ms.options)
    for typed in ("1", "3", "0.25"):
        assert not any(label.startswith(typed) for label in ms.options)
    ms.set_value(["0.1", "3e-4", "3", "1"]).run()
    assert at.multiselect(key="cfg_weight_decays").value == ["0.0003", "0.1", "1", "3"]
    at.button(key="train").click().run()
    assert at.session_state["job"].cfg.weight_decays == (3e-4, 0.1, 1.0, 3.0)
    assert at.query_params["wd"] in (["0.0003,0.1,1.0,3.0"], "0.0003,0.1,1.0,3.0")


# -- 2. Cancel keeps the partial run ----------------------------------------------------------------------------
def test_cancel_keeps_the_partial_results_on_screen_and_downloadable_marked_cancelled():
    at = open_app("?epochs=2000&wd=0,0.1&hidden=8")
    job = at.session_state["job"]
    assert job.wait_for_epochs(5, timeout=60)
    at.run()
    at.button(key="main_cancel").click().run()
    assert not at.exception and at.session_state["job"] is job
    info = " ".join(i.value for i in at.info)
    assert re.search(r"cancelled after \d+ of 2000 epochs", info) and "below are what it had trained" in info
    assert not any("Choose settings" in i.value for i in at.info)
    main = chart_specs(at)[0]
    lines = [t for t in main["data"] if t.get("meta", {}).get("role") == "line"]
    assert [t["meta"]["wd"] for t in lines] == [0.0, 0.1]
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("cancelled" in label for label in labels) and at.dataframe
    assert job.done_event.wait(30) and job.status == "cancelled"
    at.run()  # still there on the next rerun
    assert any("cancelled after" in i.value for i in at.info) and chart_specs(at)


# -- 3. every member diverges -------------------------------------------------------------------------------------
def test_an_all_diverged_sweep_is_readable_grouped_and_truthful():
    at = finished(open_app(DIVERGING))
    assert not at.exception
    assert not at.success  # never "Trained … × 30 epochs"
    stop = next(w.value for w in at.warning if "training stopped there" in w.value)
    epoch = int(re.search(r"by epoch (\d+) of 30", stop)[1])
    assert epoch < 30
    notes = [w.value for w in at.warning if w.value.startswith("**Diverged")]
    assert len(notes) == 1  # one note, a line per λ (not one per member)
    assert notes[0].count("\n- λ = ") == 3 and "all 2 seeds diverged" in notes[0]
    assert "lower learning rate" in notes[0] and "lr = 0.2" in notes[0]
    frame = at.session_state["job"].snapshot().frame
    main = chart_specs(at)[0]
    top = main["layout"]["yaxis"]["range"][1]
    start = frame.loc[frame["epoch"] == 0, "train_loss"].max()
    assert np.isfinite(top) and top < 20 * start < frame["train_loss"].replace(np.inf, np.nan).max()
    assert main["layout"]["meta"]["clipped"] and any("leave the top of the scale" in c.value for c in at.caption)
    assert any("Nothing to compare across λ" in w.value for w in at.warning)
    shown = table_view(plots.summary_frame(frame), 2).to_string()
    assert "None" not in shown and "nan" not in shown.lower() and "2 of 2" in shown


def test_y_range_keeps_healthy_curves_readable_and_can_be_shared():
    rows = [dict(weight_decay=w, seed=0, epoch=e, train_loss=l, val_loss=l, l2_norm=1.0, diverged=d)
            for w, ls in ((0.0, [1.0, 0.8, 0.6]), (1.0, [1.0, 1e26, np.inf]))
            for e, (l, d) in enumerate(zip(ls, [False, False, w == 1.0]))]
    frame = pd.DataFrame(rows)
    r = y_range([frame], ["train_loss"])
    assert r.clipped and r.hi < 2 and r.lo < 0.6
    healthy = frame[frame["weight_decay"] == 0.0]
    assert y_range([healthy], ["train_loss"]) is None  # nothing blew up: Plotly's own range
    other = healthy.assign(train_loss=healthy["train_loss"] * 3)
    shared = y_range([healthy, other], ["train_loss"], shared=True)
    assert shared.lo < 0.6 and shared.hi > 3.0 and not shared.clipped


# -- 4. every settings error, at its field ------------------------------------------------------------------------
def test_every_settings_error_is_shown_under_its_field():
    at = open_app()
    at.multiselect(key="cfg_lr").set_value(["0"])
    at.text_input(key="cfg_hidden").input("0").run()

    def after(block, key):
        kinds = [(getattr(e, "key", None), getattr(e, "value", "")) for e in block]
        keys = [k for k, _ in kinds]
        return next(v for k, v in kinds[keys.index(key) + 1:] if isinstance(v, str) and v)

    assert after(at.sidebar, "cfg_lr").startswith("✖ lr must be")  # right under its own field
    assert after(at.sidebar.columns[0], "cfg_hidden").startswith("✖ hidden widths")
    page = " ".join(notes_of(at, "error"))
    assert "learning rate" in page and "hidden widths" in page and "2 problems" in page
    assert at.button(key="train").disabled


# -- 8. the view options travel in the link -----------------------------------------------------------------------
def test_view_options_are_in_the_link_and_band_only_with_several_seeds():
    at = finished(open_app("?wd=0,0.1&epochs=3&hidden=4&seeds=0"))
    assert not [r for r in at.radio if r.key == "main_band"]  # one seed: no spread, no band choice
    at.toggle(key="main_log_y").set_value(True).run()
    at.toggle(key="main_show_val").set_value(True).run()
    assert at.query_params["log-y"] in (["true"], "true") and at.query_params["val"] in (["true"], "true")
    norm = chart_specs(at)[1]
    assert norm["layout"]["yaxis"]["type"] == "log" and "log" in norm["layout"]["yaxis"]["title"]["text"]
    again = finished(open_app("?wd=0,0.1&epochs=3&hidden=4&seeds=0,1&log-y=true&val=true&band=std"))
    assert again.toggle(key="main_log_y").value and again.toggle(key="main_show_val").value
    assert again.radio(key="main_band").value == "std" and not notes_of(again, "warning")
    bad = open_app("?wd=0&epochs=3&hidden=4&band=wide")
    assert any("band='wide' is not valid" in w and "minmax or std" in w for w in notes_of(bad, "warning"))


# -- 9. a cached result says it was reused ------------------------------------------------------------------------
def test_a_cached_result_says_it_was_reused():
    link = "?wd=0,0.1&epochs=5&hidden=4&seeds=0"
    first = finished(open_app(link))
    assert first.success[0].value.startswith("Trained 2 models × 5 epochs")
    second = finished(open_app(link))
    text = second.success[0].value
    assert text.startswith("Reused a finished run") and "not trained again" in text and "Trained" not in text


# -- 10. names and formats ------------------------------------------------------------------------------------------
def test_download_names_differ_between_sweeps_and_mark_a_cancelled_one():
    a = SweepConfig(preset="breast-cancer", optimizers=("adam",), epochs=30, weight_decays=(0.0, 0.1))
    b = a.replace(weight_decays=(0.0, 0.01))
    names = {download_name(a), download_name(b), download_name(a, tag="table2")}
    assert len(names) == 3 and all(re.fullmatch(r"wdlab_breast-cancer_adam_30ep_[0-9a-f]{8}\.csv", n) for n in names)
    assert download_name(a) == download_name(SweepConfig(**{**a.__dict__}))  # the same sweep, the same name
    assert download_name(a, status="cancelled", epochs_done=7).endswith("_cancelled-at-epoch-7.csv")


def test_one_number_format_per_table_column():
    assert column_format(pd.Series([7.1059e-7, 1.7733e-6])) == ".3e"
    assert column_format(pd.Series([0.9883, 0.51, 1.2])) == ".4f"
    assert column_format(pd.Series([np.nan, np.nan])) == ".4g"
    table = pd.DataFrame({"weight_decay": [0.0, 1e-4], "seeds": [1, 1], "diverged": [0, 0],
                          "train_loss": [7.1059e-7, 1.7733e-6], "val_loss": [0.98, 1.02], "gap": [0.9, 1.0],
                          "l2_norm": [3.0, 2.5]})
    text = table_view(table, 1).to_string()
    assert "7.106e-07" in text and "1.773e-06" in text and "0.0000017733" not in text


def test_the_csv_preview_lists_the_target_first():
    from wdlab.data.tables import inspect_csv
    from wdlab.ui.upload import columns_frame
    raw = ("".join(f"f{i}," for i in range(12)) + "price\n" + "\n".join(
        ",".join(str((r * 7 + i) % 5) for i in range(12)) + f",{r}" for r in range(20))).encode()
    frame = columns_frame(inspect_csv(raw), "price")
    assert frame["column"].iloc[0] == "price" and frame["use"].iloc[0].startswith("target")


# -- show me the code ----------------------------------------------------------------------------------------------
def test_show_me_the_code_for_a_picked_member():
    at = finished(open_app("?preset=moons&optimizer=adamw&wd=0,0.1&epochs=4&hidden=8&seeds=0,1&batch-size=50"))
    code = at.code[0].value
    assert "weight_decay = 0.1" in code and "torch.manual_seed(0)" in code and "optim.AdamW(" in code
    frame = at.session_state["job"].snapshot().frame
    final = frame[(frame.weight_decay == 0.1) & (frame.seed == 0) & (frame.epoch == 4)]["train_loss"].item()
    assert repr(final) in code  # the value it reproduces, quoted in its header
    at.selectbox(key="main_code_seed").set_value(1)
    at.selectbox(key="main_code_wd").set_value(0.0).run()
    code = at.code[0].value
    assert "weight_decay = 0.0" in code and "torch.manual_seed(1)" in code
    assert to_query(at.session_state["job"].cfg)["wd"] in code  # the sweep's link, in the header


def test_the_gap_column_keeps_fixed_decimals_when_one_gap_is_near_zero():
    assert column_format(pd.Series([0.2334, 0.0004, -0.0312]), difference=True) == ".4f"
    assert column_format(pd.Series([0.2334, 0.0004, -0.0312])) == ".3e"   # a scale of its own elsewhere
    assert column_format(pd.Series([2e-5, 4e-4]), difference=True) == ".3e"
    table = pd.DataFrame({"weight_decay": [0.0, 1e-4], "seeds": [1, 1], "diverged": [0, 0],
                          "train_loss": [0.7, 0.75], "val_loss": [0.9334, 0.7504], "gap": [0.2334, 0.0004],
                          "l2_norm": [3.0, 2.5]})
    text = table_view(table, 1).to_string()
    assert "0.2334" in text and "0.0004" in text and "e-0" not in text
