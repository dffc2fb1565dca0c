"""The sweep's widgets, generated from the core's declared settings, and their two-way mapping to a config."""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from wdlab.settings.config import (ACTIVATIONS, DTYPES, NORMS, OPTIMIZERS, ConfigError, Limits, SweepConfig, preset_config,
                      preset_defaults)
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import BY_ATTR
from wdlab.engine.budget import validate
from wdlab.ui import presets
from wdlab.ui.state import shown, shown_index
from wdlab.ui.text import note

PREFIX = "cfg_"
SAVED = "_controls_saved"   # not a widget key: Streamlit never drops it
WD_GRID = ("0", "1e-05", "3e-05", "0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1")
LR_GRID = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1")


LABELS = {"preset": "dataset", "hidden": "hidden widths", "activation": "activation", "norm": "normalization",
          "optimizers": "optimizers", "lrs": "learning rates", "momentum": "momentum", "epochs": "epochs",
          "batch_size": "batch size",
          "weight_decays": "weight_decay values", "seeds": "seeds", "val_fraction": "validation fraction",
          "decay_bias": "decay biases", "dtype": "precision"}


class FieldError(str):
    """An error message that knows the setting (a SweepConfig attribute) it is about: shown under its widget."""

    field: str = "preset"


def _error(field: str | None, message: str) -> FieldError:
    e = FieldError(message)
    e.field = field if field in LABELS else "preset"
    return e


def wd_text(w: float) -> str:
    """λ as a tag: short (0.0003, 1e-05) when that is the exact value, else every digit (0.1234567)."""
    short = f"{w:g}"
    return short if float(short) == w else repr(float(w))


def wd_label(text: str) -> str:
    """A tag's label. It starts with "λ = " so that typed digits never prefix-match a grid value: typing 1 and
    pressing Enter adds exactly 1 (a match such as 1e-05 would be taken instead)."""
    return f"λ = {text}"


def normalize_wds(texts) -> list[str]:
    """The λ tags as the config will hold them: each number once, written as wd_text, sorted by value; text that
    is not a number stays (at the end) so that its error can be shown."""
    numbers, bad = {}, []
    for text in texts:
        text = _unlabel(text)
        try:
            w = BY_ATTR["weight_decays"].parse(text)
        except ConfigError:
            w = ()
        if len(w) == 1:
            numbers.setdefault(w[0], wd_text(w[0]))
        elif str(text) not in bad:
            bad.append(str(text))
    return [numbers[w] for w in sorted(numbers)] + bad


def _unlabel(text) -> str:
    """A tag's value without its label ("λ = 0.5" → "0.5"): a typed value can come back labelled."""
    text = str(text).strip()
    return text[1:].lstrip(" =").strip() if text.startswith("λ") else text


def _normalize_wd_widget() -> None:
    key = PREFIX + "weight_decays"
    st.session_state[key] = normalize_wds(st.session_state.get(key) or [])


def cfg_to_state(cfg: SweepConfig) -> dict[str, Any]:
    """Widget values (by key) that show `cfg`."""
    fmt = lambda attr: BY_ATTR[attr].format(getattr(cfg, attr))  # noqa: E731
    return {
        "preset": cfg.preset,
        "hidden": fmt("hidden"), "activation": cfg.activation, "norm": cfg.norm, "optimizer": list(cfg.optimizers),
        "momentum": cfg.momentum, "lr": [wd_text(lr) for lr in cfg.lrs], "epochs": cfg.epochs,
        "batch_size": fmt("batch_size"),
        "weight_decays": [wd_text(w) for w in cfg.weight_decays], "seeds": fmt("seeds"),
        "decay_bias": cfg.decay_bias, "val_fraction": fmt("val_fraction"), "dtype": cfg.dtype,
    }


def state_to_cfg(state: Mapping[str, Any], limits: Limits) -> tuple[SweepConfig | None, list[FieldError]]:
    """Widget values -> (config, []) or (None, every error found, each a FieldError naming its setting)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {"preset": state["preset"], "activation": state["activation"],
                              "norm": state["norm"] or "none", "dtype": state["dtype"],
                              "decay_bias": bool(state["decay_bias"])}
    opts = [o for o in (state["optimizer"] or []) if o in OPTIMIZERS]
    if not opts:
        errors.append(_error("optimizers", "pick at least one optimizer"))
    values["optimizers"] = tuple(opts)
    values["momentum"] = float(state["momentum"] or 0.0) if any(OPTIMIZERS[o].momentum for o in opts) else 0.0
    lrs = []
    for text in state["lr"] or []:
        try:
            lrs.append(BY_ATTR["lrs"].parse(str(text))[0])
        except (ConfigError, IndexError):
            errors.append(_error("lrs", f"learning rate {str(text)[:40]!r} is not a number: type values like 0.01 "
                                        "or 3e-4"))
    if not lrs and not any(e.field == "lrs" for e in errors):
        errors.append(_error("lrs", "pick at least one learning rate"))
    values["lrs"] = tuple(dict.fromkeys(lrs))
    for attr in ("hidden", "batch_size", "seeds", "val_fraction"):
        try:
            values[attr] = BY_ATTR[attr].parse(state[attr])
        except ConfigError as e:
            errors.append(_error(attr, str(e)))
    epochs = state["epochs"]
    values["epochs"] = int(epochs) if epochs is not None else 0
    wds = []
    for text in state["weight_decays"]:
        try:
            wds.append(BY_ATTR["weight_decays"].parse(_unlabel(text))[0])
        except (ConfigError, IndexError):
            errors.append(_error("weight_decays", f"weight_decay {str(text)[:40]!r} is not a number: type values "
                                                  "like 0, 1e-4 or 0.05"))
    if not wds and not errors:
        errors.append(_error("weight_decays", "pick at least one weight_decay value (0 = no decay)"))
    values["weight_decays"] = tuple(dict.fromkeys(wds)) or (0.0,)  # 1e-3 typed next to the grid's 0.001 is one
    # Every setting's own check, not only the first failing one: a failing value is swapped for its default and
    # the rest checked again.
    defaults = SweepConfig()
    for attr in {e.field for e in errors}:
        values[attr] = getattr(defaults, attr)
    cfg = None
    for _ in range(len(LABELS) + 1):
        try:
            cfg = SweepConfig(**values)
            break
        except ConfigError as e:
            errors.append(_error(e.field, str(e)))
            if e.field not in values or values[e.field] == getattr(defaults, e.field):
                return None, errors
            values[e.field] = getattr(defaults, e.field)
    if errors or cfg is None:
        return None, errors
    try:
        validate(cfg, limits)
    except ConfigError as e:
        return None, [_error(e.field, str(e))]
    return cfg, []


def load_state(cfg: SweepConfig) -> None:
    """Set the widgets to show `cfg` (before they are drawn in this run): a link's sweep, or the landing one."""
    state = cfg_to_state(cfg)
    for name, value in state.items():
        st.session_state[PREFIX + name] = value
    presets.remember(state)


def _own_settings_refused(preset: str, limits: Limits) -> str:
    """Why the settings a preset brings exceed `limits`, or '' (none, or they fit)."""
    defaults = preset_defaults(preset)
    try:
        if defaults:
            validate(SweepConfig(preset=preset, **defaults), limits)
    except ConfigError as e:
        return str(e)
    return ""


def current_state() -> dict[str, Any]:
    return {name: st.session_state.get(PREFIX + name) for name in cfg_to_state(SweepConfig())}


def sweep_controls(limits: Limits, keep: tuple[str, ...] = ()) -> tuple[SweepConfig | None, list[str]]:
    """Draw the controls (in the current container); return the config they describe or the errors. Picking a
    dataset loads its own settings except the visitor's own and `keep` (a page's grid: presets.switch)."""
    k = lambda name: PREFIX + name  # noqa: E731
    # Streamlit drops the state of widgets a run did not reach (a click can interrupt the run drawing them),
    # which blanked these inputs; a plain (non-widget) copy of the last values puts back any key that vanished.
    # Each widget also gets its current value as its default (`shown`): the browser, too, can lose a widget's
    # value and then sends the default back.
    saved = st.session_state.get(SAVED)
    if saved is None and k("preset") not in st.session_state:
        load_state(preset_config(SweepConfig.preset))
    for name, value in (saved or {}).items():
        if k(name) not in st.session_state:
            st.session_state[k(name)] = value
    state = current_state()
    cfg, errors = state_to_cfg(state, limits)  # checked before drawing: each error goes under its own field
    by_field: dict[str, list[str]] = {}
    for e in errors:
        by_field.setdefault(e.field, []).append(e)

    def problems(field: str, where=None) -> None:
        messages = by_field.pop(field, [])
        if not messages:
            return
        with where if where is not None else st.container():
            for message in messages:
                note("error", message, key=f"field-{field}")  # may quote what the visitor typed: plain text

    names = tuple(DATASETS)  # read when drawn: a dataset registered at run time is listed; "csv" comes last
    st.selectbox("Experiment (dataset)", names, shown_index(names, k("preset")), key=k("preset"),
                 format_func=lambda n: DATASETS[n].title, on_change=presets.apply_preset, args=(keep,),
                 help="--preset. Picking one loads its own settings, except those you changed yourself")
    preset = st.session_state[k("preset")]
    st.caption(DATASETS[preset].description + (" Upload it on the page." if preset == "csv" else ""))
    presets.own_note(preset, LABELS, keep)
    too_big = _own_settings_refused(preset, limits)
    if too_big:
        fits = [DATASETS[n].title for n, s in DATASETS.items() if s.view and s.view == DATASETS[preset].view
                and not _own_settings_refused(n, limits)]
        st.caption(f":orange[Its own settings are larger than this server allows ({too_big}).]"
                   + (f" {' or '.join(fits)} fits as it is." if fits else ""))
    chosen = normalize_wds(st.session_state[k("weight_decays")])
    if chosen != st.session_state[k("weight_decays")]:  # e.g. a link's 3e-4 shows as the table's 0.0003
        st.session_state[k("weight_decays")] = chosen
    options = normalize_wds([*WD_GRID, *chosen])
    options = options + [t for t in chosen if t not in options]
    st.multiselect("weight_decay values λ (one model each)", options, shown(k("weight_decays")),
                   key=k("weight_decays"), accept_new_options=True, format_func=wd_label,
                   max_selections=limits.max_wd_values, on_change=_normalize_wd_widget,
                   filter_mode="prefix", select_all=False,
                   help=f"--wd. Pick from the log grid or type any exact value (e.g. 0.25 or 3e-4) and press Enter "
                        f"(at most {limits.max_wd_values} values).")
    problems("weight_decays")
    st.multiselect("Optimizers (one model each)", tuple(OPTIMIZERS), shown(k("optimizer")),
                   key=k("optimizer"), format_func=lambda o: OPTIMIZERS[o].label, select_all=False,
                   help="--optimizer: several train side by side in the same sweep")
    for name in st.session_state[k("optimizer")] or []:
        st.caption(OPTIMIZERS[name].describe())
    problems("optimizers")
    if any(OPTIMIZERS[o].momentum for o in st.session_state[k("optimizer")] or []):
        st.number_input("SGD momentum (0 = plain SGD)", 0.0, 0.999, shown(k("momentum")), step=0.05,
                        key=k("momentum"), help="--momentum: applies to the SGD members")
    problems("momentum")
    lr_options = list(dict.fromkeys([*LR_GRID, *st.session_state[k("lr")]]))
    st.multiselect("learning rates (one model each)", lr_options, shown(k("lr")), key=k("lr"),
                   accept_new_options=True, format_func=str, max_selections=limits.max_lr_values,
                   filter_mode="prefix", select_all=False,
                   help=f"--lr: pick from the grid or type any number > 0 and ≤ 10 and press Enter "
                        f"(at most {limits.max_lr_values}). Members = optimizers × lrs × λ × seeds.")
    problems("lrs")
    c1, c2 = st.columns(2)
    c1.number_input("epochs", min_value=1, value=shown(k("epochs")), step=10, key=k("epochs"),
                    help=f"--epochs: 1 to {limits.max_epochs}")
    problems("epochs", c1)
    c2.selectbox("normalization", tuple(NORMS), shown_index(tuple(NORMS), k("norm")), key=k("norm"),
                 format_func=lambda n: NORMS[n].label,
                 help="--norm: " + "; ".join(f"{s.label}: {s.help}" for s in NORMS.values()))
    problems("norm", c2)
    c1.text_input("hidden widths", shown(k("hidden")), key=k("hidden"),
                  help=f"--hidden: comma-separated widths, e.g. 64 or 128,64 (≤ {limits.max_layers} layers, "
                       f"each ≤ {limits.max_width}); empty = a linear model")
    problems("hidden", c1)
    c2.selectbox("activation", tuple(ACTIVATIONS), shown_index(tuple(ACTIVATIONS), k("activation")),
                 key=k("activation"), format_func=lambda a: ACTIVATIONS[a].label,
                 help="--activation: " + "; ".join(f"{s.label} = {s.help}" for s in ACTIVATIONS.values()))
    problems("activation", c2)
    c1.text_input("batch size", shown(k("batch_size")), key=k("batch_size"),
                  help="--batch-size: a whole number, or full (the whole set)")
    problems("batch_size", c1)
    c2.text_input("seeds", shown(k("seeds")), key=k("seeds"),
                  help=f"--seeds: comma-separated, e.g. 0,1,2 (at most {limits.max_seeds})")
    problems("seeds", c2)
    st.toggle("decay biases too", shown(k("decay_bias")), key=k("decay_bias"),
              help="--decay-bias: on = torch's default (every parameter decays); off = only weight matrices")
    with st.expander("More settings", expanded="val_fraction" in by_field or "dtype" in by_field):
        st.text_input("validation fraction", shown(k("val_fraction")), key=k("val_fraction"),
                      help="--val-fraction: 0.05 to 0.5, or default (the dataset's own split)")
        problems("val_fraction")
        st.selectbox("precision", DTYPES, shown_index(DTYPES, k("dtype")), key=k("dtype"), help="--dtype")
        problems("dtype")
    for field in list(by_field):  # anything not tied to a drawn field (e.g. the dataset)
        problems(field)
    st.caption(f"Limits here: {limits.describe()}.")
    st.session_state[SAVED] = state
    return cfg, errors
