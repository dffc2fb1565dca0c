"""The sidebar is the declared settings (PARAMS) drawn: a widget per setting with its declaration's label, help and
bounds; one run reports every bad field at once, each under its own widget, as plain text."""
import pytest

from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig
from wdlab.settings.params import PARAMS
from wdlab.ui.fields import cfg_to_state, key, state_to_cfg
from wdlab.ui.text import notes_of
from support import app

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
ELEMENT = {"choice": "selectbox", "choices": "multiselect", "floats": "multiselect", "int": "number_input",
           "float": "number_input", "ints": "text_input", "batch": "text_input", "fraction": "text_input",
           "bool": "toggle"}


def under(block, widget_key: str) -> list[str]:
    """The error notes (without their sign) between the keyed widget and the next settings widget."""
    found, out = False, []
    for e in block:
        k = getattr(e, "key", None) or ""
        if found and k.startswith("cfg_"):
            break
        found = found or k == widget_key
        value = getattr(e, "value", None)
        if found and isinstance(value, str) and value.startswith("✖ "):
            out.append(value[2:])
    return out


def test_every_declared_setting_is_a_widget_with_the_declarations_label_help_and_bounds():
    at = app("?optimizer=sgd&schedule=step")  # momentum shows with SGD only, step decay's period and factor with it
    for p in PARAMS:
        widget = getattr(at, ELEMENT[p.kind])(key=key(p))
        assert widget.label == p.label and f"--{p.key}: {p.help}" in widget.help, p.key
        if p.bounds():
            assert p.bounds() in widget.help, p.key
        if p.kind in ("int", "float"):
            assert widget.min == p.low and widget.max == p.high, p.key
    assert at.multiselect(key="cfg_lr").max_selections == DEFAULT_LIMITS.max_lr_values
    assert f"at most {DEFAULT_LIMITS.max_epochs} here" in at.number_input(key="cfg_epochs").help


def test_one_run_reports_every_bad_field_each_under_its_own_widget():
    at = app()
    at.multiselect(key="cfg_weight_decays").set_value(["abc", "-1", "0.1"])
    at.multiselect(key="cfg_lr").set_value(["fast"])
    at.text_input(key="cfg_seeds").input("0,-3")
    at.number_input(key="cfg_epochs").set_value(DEFAULT_LIMITS.max_epochs + 1).run()
    assert not at.exception
    wd = under(at.sidebar, "cfg_weight_decays")
    assert len(wd) == 2 and "'abc' is not a number" in wd[0] and "got -1.0" in wd[1]
    lr = under(at.sidebar, "cfg_lr")
    assert len(lr) == 1 and "learning rate 'fast' is not a number" in lr[0]
    assert under(at.sidebar.columns[1], "cfg_seeds") == ["each seed must be a whole number from 0 to 2147483647, "
                                                          "got -3"]
    epochs = under(at.sidebar.columns[0], "cfg_epochs")  # a limit, said beside the fields' own errors
    assert len(epochs) == 1 and f"at most {DEFAULT_LIMITS.max_epochs}" in epochs[0]
    assert not under(at.sidebar, "cfg_optimizer") and not under(at.sidebar.columns[0], "cfg_hidden")
    summary = [n for n in notes_of(at, "error") if n.startswith("Fix ")]
    assert summary and "these 5 problems" in summary[0]
    assert all(noun in summary[0] for noun in ("weight_decay values", "learning rates", "seeds", "epochs"))
    assert at.button(key="train").disabled and "job" not in at.session_state
    at.multiselect(key="cfg_weight_decays").set_value(["0.1"])
    at.multiselect(key="cfg_lr").set_value(["0.01"])
    at.text_input(key="cfg_seeds").input("0")
    at.number_input(key="cfg_epochs").set_value(5).run()
    assert not notes_of(at, "error") and not at.button(key="train").disabled


def test_typed_text_in_an_error_stays_plain_text():
    at = app()
    typed = "**bold** [x](http://127.0.0.1:9/x) <b>b</b> $x$"
    at.multiselect(key="cfg_lr").set_value([typed]).run()
    assert any(repr(typed[:40]) in n for n in under(at.sidebar, "cfg_lr"))  # shown as st.text, as typed
    markdown = [e.value for kind in ("markdown", "caption", "error", "warning") for e in getattr(at, kind)]
    assert not any("bold" in m or "127.0.0.1" in m for m in markdown)


def test_the_parse_collects_every_field_and_round_trips():
    cfg = SweepConfig(optimizers=("sgd", "adam"), lrs=(0.1, 3e-4), momentum=0.9, weight_decays=(0.0, 0.25),
                      seeds=(0, 5), hidden=(8, 4), batch_size=32, val_fraction=0.2, decay_bias=False, dtype="float64")
    assert state_to_cfg(cfg_to_state(cfg), DEFAULT_LIMITS) == (cfg, [])
    state = {**cfg_to_state(cfg), "hidden": "0", "batch_size": "big", "val_fraction": "0.9", "optimizer": [],
             "lr": ["0", "1e-3", "x"], "weight_decays": ["-1", "-2"]}
    got, errors = state_to_cfg(state, DEFAULT_LIMITS)
    assert got is None
    fields = [e.field for e in errors]
    assert sorted(set(fields)) == ["batch_size", "hidden", "lrs", "optimizers", "val_fraction", "weight_decays"]
    assert fields.count("lrs") == 2 and fields.count("weight_decays") == 2  # each bad value, not the first
    momentum = {**cfg_to_state(cfg), "optimizer": ["adam"]}  # its widget hidden: no momentum, no error
    assert state_to_cfg(momentum, DEFAULT_LIMITS)[0].momentum == 0.0
