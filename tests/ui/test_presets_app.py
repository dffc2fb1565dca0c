"""Picking a dataset in the app (AppTest) shows its own settings and an estimate within the demo's limits;
another pick replaces them, except the fields the visitor changed by hand, until "Use X's own settings"."""
import pytest

from wdlab.settings.config import preset_config
from wdlab.registry.datasets import DATASETS
from support import app
from wdlab.ui.fields import cfg_to_state
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
WIDGETS = {"preset": "selectbox", "hidden": "text_input", "activation": "selectbox", "norm": "selectbox",
           "optimizer": "multiselect", "lr": "multiselect", "epochs": "number_input", "batch_size": "text_input",
           "weight_decays": "multiselect", "seeds": "text_input", "decay_bias": "toggle", "dtype": "selectbox",
           "val_fraction": "text_input"}
# every built-in preset in turn, each after one with other settings: modular-addition-p23's x², sine's tanh, ...
ORDER = ["modular-addition-p23", "moons", "sine", "highdim-linear", "spirals", "digits", "diabetes", "breast-cancer",
         "tutorial"]


def shown(at) -> dict:
    return {name: getattr(at, kind)(key="cfg_" + name).value for name, kind in WIDGETS.items()}


def expected(name: str, **own) -> dict:
    state = {k: v for k, v in cfg_to_state(preset_config(name)).items() if k in WIDGETS}
    return {**state, **own}


def pick(at, name: str):
    return at.selectbox(key="cfg_preset").select(name).run()


def test_the_landing_page_is_the_tutorials_own_sweep():
    at = app()
    assert shown(at) == expected("tutorial") and at.number_input(key="cfg_epochs").value == 100
    assert not [c for c in at.caption if "Kept as you set them" in c.value]


def test_each_pick_shows_that_datasets_settings_and_an_estimate_within_the_demo(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "true")
    at = app()
    assert set(ORDER) == {n for n in DATASETS if n not in ("csv", "modular-addition", "modular-addition-p59")}
    for name in ORDER:
        pick(at, name)
        assert not at.exception and shown(at) == expected(name), name
        assert not notes_of(at, "error") and not at.button(key="train").disabled, name
        estimate = [t.value for t in at.text if " models, " in t.value]
        assert len(estimate) == 1 and "about" in estimate[0] and DATASETS[name].title in estimate[0], name
        assert not [c for c in at.caption if "larger than this server allows" in c.value], name
    pick(at, "modular-addition-p23")
    pick(at, "moons")
    assert at.selectbox(key="cfg_activation").value == "relu"          # x² does not stick on the moons


def test_what_the_visitor_set_by_hand_stays_across_picks_until_reset():
    at = pick(app(), "moons")
    at.multiselect(key="cfg_lr").set_value(["0.02"])
    at.number_input(key="cfg_epochs").set_value(40).run()
    pick(at, "spirals")
    assert shown(at) == expected("spirals", lr=["0.02"], epochs=40)
    kept = [c.value for c in at.caption if "Kept as you set them" in c.value]
    assert kept == ["Kept as you set them, not spirals's own: learning rates, epochs."]
    pick(at, "sine")                                                   # still the visitor's, one pick later
    assert shown(at) == expected("sine", lr=["0.02"], epochs=40)
    at.button(key="preset_reset").click().run()
    assert shown(at) == expected("sine") and not [c for c in at.caption if "Kept as you set them" in c.value]
    pick(at, "moons")
    assert shown(at) == expected("moons")


def test_a_value_set_back_by_hand_to_the_presets_own_is_not_named():
    at = pick(app(), "moons")
    at.number_input(key="cfg_epochs").set_value(40).run()
    pick(at, "spirals")
    at.number_input(key="cfg_epochs").set_value(preset_config("spirals").epochs).run()
    assert not [c for c in at.caption if "Kept as you set them" in c.value]


def test_a_links_settings_give_way_to_the_next_datasets():
    at = app("?preset=moons&epochs=7&hidden=16&activation=tanh")
    assert at.number_input(key="cfg_epochs").value == 7 and at.text_input(key="cfg_hidden").value == "16"
    pick(at, "spirals")
    assert shown(at) == expected("spirals")                           # a link is a sweep, not the visitor's edits


def test_a_link_with_only_a_preset_shows_and_trains_its_own_settings():
    at = app("?preset=sine")
    assert shown(at) == expected("sine") and not notes_of(at, "warning")
    assert at.session_state["job"].cfg == preset_config("sine")       # a link starts its run without a click
