"""The grokking view in the app (AppTest): picking the preset loads its settings, a short run draws accuracy
and ‖w‖₂ with every grok step starred, and a demo-sized server says which variant fits."""
import json

import pytest

from wdlab.settings.config import DEMO_LIMITS, SweepConfig, preset_config, preset_defaults
from wdlab.engine.budget import validate
from wdlab.frame.grokking import events
from wdlab.settings.params import from_query
from support import finished, values
from support import app

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def test_picking_the_preset_shows_its_own_settings():
    at = app()
    at.selectbox(key="cfg_preset").select("modular-addition").run()
    d = preset_defaults("modular-addition")
    assert at.selectbox(key="cfg_activation").value == "quadratic"
    assert at.multiselect(key="cfg_optimizer").value == ["adamw"]
    assert at.text_input(key="cfg_hidden").value == "128" and at.number_input(key="cfg_epochs").value == d["epochs"]
    assert at.multiselect(key="cfg_weight_decays").value == [f"{w:g}" for w in d["weight_decays"]]
    assert not at.error
    # a setting changed afterwards by hand stays changed; the rest becomes the next preset's (x² does not stick)
    at.multiselect(key="cfg_lr").set_value(["0.02"]).run()
    at.selectbox(key="cfg_preset").select("moons").run()
    assert at.multiselect(key="cfg_lr").value == ["0.02"]
    assert at.selectbox(key="cfg_activation").value == preset_config("moons").activation != "quadratic"


def test_a_grokking_link_draws_accuracy_and_norm_with_the_grok_steps_starred():
    at = finished(app("?preset=modular-addition-p23&epochs=400&wd=0,0.3"), timeout=180)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    acc = next(s for s in specs if any(t.get("meta", {}).get("panel") == "acc" for t in s["data"]))
    norm = next(s for s in specs if all(t.get("meta", {}).get("panel") == "norm" for t in s["data"]
                                        if "meta" in t) and any(t.get("meta", {}).get("role") == "grok"
                                                                for t in s["data"]))
    grok = [t for t in acc["data"] if t["meta"]["role"] == "grok"]
    assert [t["meta"]["wd"] for t in grok] == [0.3]                      # λ = 0 never groks
    cfg = SweepConfig(preset="modular-addition-p23", **dict(preset_defaults("modular-addition-p23"), epochs=400,
                                                              weight_decays=(0.0, 0.3)))
    from wdlab.engine.sweep import run_sweep
    ev = events(run_sweep(cfg).frame).set_index("weight_decay")           # the same numbers, trained again
    assert values(grok[0]["x"]) == [ev.loc[0.3, "grokked"]]
    assert values(grok[0]["y"])[0] >= 0.9
    assert [t["meta"]["wd"] for t in norm["data"] if t["meta"]["role"] == "grok"] == [0.3]
    table = at.dataframe[0].value
    assert list(table["val acc ≥ 90% at step"]) == ["never", str(ev.loc[0.3, "grokked"])]
    assert "memorise first" in at.subheader[0].value


def test_on_a_demo_sized_server_the_default_is_refused_with_the_variant_that_fits():
    ck = lambda c: validate(c, DEMO_LIMITS)  # noqa: E731
    cfg, warnings = from_query({"preset": "modular-addition"}, check=ck)
    assert cfg.preset == "tutorial" and len(warnings) == 1 and "modular-addition brings" in warnings[0]
    cfg, warnings = from_query({"preset": "modular-addition-p23"}, check=ck)
    assert cfg == SweepConfig(preset="modular-addition-p23", **preset_defaults("modular-addition-p23"))
    assert warnings == []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WDLAB_DEMO", "true")
        at = app()
        at.selectbox(key="cfg_preset").select("modular-addition").run()
        notes = " ".join(c.value for c in at.caption)
        assert "larger than this server allows" in notes and "(a + b) mod 23 (small) fits" in notes
        at.selectbox(key="cfg_preset").select("modular-addition-p23").run()
        assert "larger than this server allows" not in " ".join(c.value for c in at.caption) and not at.error
