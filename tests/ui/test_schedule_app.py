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
