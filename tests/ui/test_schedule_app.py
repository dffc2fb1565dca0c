"""The learning-rate schedule in the app: its controls (from PARAMS), a link's schedule, the lr_t figure."""
import pytest

from support import app, chart_specs, finished

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
LINK = "?preset=moons&optimizer=adamw&wd=0,0.1&seeds=0&epochs=4&hidden=8&batch-size=50"


def test_a_cosine_link_fills_the_controls_trains_the_schedule_and_draws_lr_t_and_the_shrink():
    at = finished(app(LINK + "&schedule=cosine&warmup-epochs=1"))
    assert not at.exception
    assert at.selectbox(key="cfg_schedule").value == "cosine" and at.number_input(key="cfg_warmup_epochs").value == 1
    assert not [w for w in at.number_input if w.key in ("cfg_step_period", "cfg_step_gamma")]  # step decay only
    cfg = at.session_state["job"].cfg
    assert (cfg.schedule, cfg.warmup_epochs) == ("cosine", 1)
    spec = [s for s in chart_specs(at) if "Learning rate" in str(s["layout"].get("title", ""))]
    assert len(spec) == 1
    names = [t["name"] for t in spec[0]["data"]]
    assert names[0].startswith("lr_t") and names[1:] == ["shrink lr_t·λ, λ = 0.1"]   # λ = 0 shrinks nothing


def test_step_decay_shows_its_period_and_factor_and_a_constant_lr_draws_no_schedule():
    at = app(LINK + "&schedule=step&step-period=2&step-gamma=0.5")
    assert at.number_input(key="cfg_step_period").value == 2 and at.number_input(key="cfg_step_gamma").value == 0.5
    plain = finished(app(LINK))
    assert not [s for s in chart_specs(plain) if "Learning rate" in str(s["layout"].get("title", ""))]


def test_the_summary_and_the_landscape_name_a_schedule_and_say_nothing_of_a_constant_lr():
    import time
    from streamlit.testing.v1 import AppTest
    words = "trained under cosine after 1 warmup epoch"
    at = finished(app(LINK + "&schedule=cosine&warmup-epochs=1"))
    assert any(words in c.value and "Every number is read" in c.value for c in at.caption)
    assert not any("trained under" in c.value for c in finished(app(LINK)).caption)

    def landscape():
        from wdlab.ui.landscape_page import landscape_page
        landscape_page()
    page = AppTest.from_function(landscape, default_timeout=120)
    for k, v in dict(preset="moons", optimizer="adamw", lr="0.01,0.1", wd="0,0.1", epochs="4", hidden="8",
                     schedule="cosine").items():
        page.query_params[k] = v
    page.run()
    ending = "4 epochs on Two moons (noisy 2-D classification), trained under cosine."
    assert any(c.value.endswith(ending) for c in page.caption), \
        [c.value for c in page.caption]
    deadline = time.monotonic() + 120
    while not page.session_state["landscape_job"].snapshot(with_frame=False).finished:  # AppTest never polls
        assert time.monotonic() < deadline, "the map did not finish"
        time.sleep(0.1)
    page.run()
    assert any("The best λ at an lr" in c.value and "trained under cosine." in c.value for c in page.caption)
