"""The Adam+L2 vs AdamW page as a head-to-head (issue #27, item 3): it says what it trains, takes any dataset and
settings, and overlays both optimizers at equal λ and at equal lr·λ with words computed from the runs."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from support import chart_specs

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def _script():
    import streamlit as st

    from wdlab.ui.compare import compare_page
    st.session_state.setdefault("cmp_epochs", 4)
    compare_page()


def _done(at: AppTest) -> AppTest:
    jobs = [at.session_state["cmp_job0"], at.session_state["cmp_job1"]]
    deadline = time.monotonic() + 120
    while not all(j.snapshot().finished for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.2)
    return at.run()


def test_it_says_what_it_trains_and_follows_the_chosen_dataset_and_settings():
    at = _done(AppTest.from_function(_script, default_timeout=60).run())
    said = next(c.value for c in at.caption if c.value.startswith("**What this trains:**"))
    assert "Two moons" in said and "Adam with L2" in said and "AdamW" in said and "4 epochs" in said
    at.selectbox(key="cmp_preset").set_value("sine").run()
    at.multiselect(key="cmp_lrs").set_value([0.003, 0.03]).run()
    at.multiselect(key="cmp_wds").set_value([0.0, 0.01, 0.1]).run()
    at = _done(at)
    assert not at.exception
    jobs = [at.session_state["cmp_job0"], at.session_state["cmp_job1"]]
    assert [(j.cfg.preset, j.cfg.optimizers, j.cfg.lrs, j.cfg.weight_decays) for j in jobs] == [
        ("sine", ("adam",), (0.003, 0.03), (0.0, 0.01, 0.1)), ("sine", ("adamw",), (0.003, 0.03), (0.0, 0.01, 0.1))]
    assert jobs[0].cfg.replace(optimizers=("adamw",)) == jobs[1].cfg  # nothing else differs
    said = next(c.value for c in at.caption if c.value.startswith("**What this trains:**"))
    assert "sine" in said.lower() and "lr 0.003, 0.03" in said
    h2h = [s for s in chart_specs(at) if any((t.get("meta") or {}).get("role") == "h2h" for t in s["data"])]
    assert [s["layout"]["title"]["text"] for s in h2h] == [
        "‖w‖₂ at equal λ", "Validation loss at equal λ", "‖w‖₂ at equal lr·λ", "Validation loss at equal lr·λ"]
    for spec in h2h:
        assert sorted(t["name"] for t in spec["data"]) == [
            "Adam with L2, lr 0.003", "Adam with L2, lr 0.03", "AdamW, lr 0.003", "AdamW, lr 0.03"]
    words = " ".join(m.value for m in at.markdown)
    assert "**At equal λ.** At lr 0.003, the same λ holds ‖w‖₂ lower with" in words
    assert "**At equal lr·λ.** Adam with L2: its learning rates' ‖w‖₂ differ by" in words
    # by epoch at one λ, both optimizers on one chart
    at.selectbox(key="cmp_epoch_wd").set_value(0.1).run()
    epoch = next(s for s in chart_specs(at) if any((t.get("meta") or {}).get("role") == "h2h_epoch"
                                                   for t in s["data"]))
    assert {(t["meta"]["optimizer"], t["meta"]["wd"]) for t in epoch["data"]} == {("adam", 0.1), ("adamw", 0.1)}


def test_the_two_runs_curves_share_one_y_scale_at_the_shown_lr():
    at = _done(AppTest.from_function(_script, default_timeout=60).run())
    lines = [s for s in chart_specs(at) if any((t.get("meta") or {}).get("role") == "line" for t in s["data"])]
    assert len(lines) == 4   # each run's loss | norm, of its group at lr 0.01
    ranges = [s["layout"]["yaxis"].get("range") for s in lines]
    assert ranges[0] is not None and ranges[0] == ranges[2] and ranges[1] == ranges[3]
