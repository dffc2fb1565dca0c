"""The sine's loss falls four decades after an early spike (issue #27, item 9), a grokking run's while it memorises:
their curves start on log y-axes, the link keeps a visitor's choice, and another dataset gets its own default back."""
import pytest

from support import app, chart_specs, finished

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def _loss_axis(at) -> str:
    spec = next(s for s in chart_specs(at) if any((t.get("meta") or {}).get("panel") == "train_loss"
                                                   for t in s["data"]))
    return spec["layout"]["yaxis"].get("type", "linear")


def test_the_sine_starts_on_log_axes_and_the_link_keeps_a_change():
    at = finished(app("?preset=sine&epochs=40"))
    assert at.toggle(key="main_log_y").value and _loss_axis(at) == "log"
    assert "log-y" not in at.query_params  # the sine's own default: nothing to carry
    at.toggle(key="main_log_y").set_value(False).run()
    assert _loss_axis(at) == "linear" and at.query_params["log-y"] in ("false", ["false"])


def test_a_link_with_linear_axes_stays_linear_and_other_datasets_start_linear():
    at = finished(app("?preset=sine&epochs=40&log-y=false"))
    assert not at.toggle(key="main_log_y").value and _loss_axis(at) == "linear"
    other = finished(app("?preset=moons&epochs=5"))
    assert not other.toggle(key="main_log_y").value and _loss_axis(other) == "linear"


def test_every_grokking_preset_starts_on_log_axes():
    """Its training loss falls from 3.4 to 2e-4 within ~50 of 2,000 steps (measured, modular-addition): on a
    linear axis the first steps fill the panel and the rest lies on zero."""
    from wdlab.registry.datasets import DATASETS
    grok = [n for n, s in DATASETS.items() if s.view == "grokking"]
    assert len(grok) == 3 and all(DATASETS[n].log_loss for n in grok)
    at = finished(app("?preset=modular-addition-p23&epochs=20"))
    assert at.toggle(key="main_log_y").value and _loss_axis(at) == "log" and "log-y" not in at.query_params
