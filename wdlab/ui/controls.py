"""The sweep's sidebar: one widget per declared setting (wdlab.settings.params.PARAMS; its kind picks the widget,
its declaration gives label, help and bounds), each bad value's message right under its own widget."""
from __future__ import annotations

import contextlib
import math
from typing import Callable

import streamlit as st

from wdlab.engine.budget import validate
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import ConfigError, Limits, SweepConfig, preset_config, preset_defaults
from wdlab.settings.params import BY_ATTR, PARAMS, Param
from wdlab.ui import presets
from wdlab.ui.fields import LISTS, applies, cfg_to_state, current_state, key, name, normalize_wds, state_to_cfg
from wdlab.ui.state import shown, shown_index
from wdlab.ui.text import note

SAVED = "_controls_saved"   # not a widget key: Streamlit never drops it
GRIDS = {"weight_decays": ("0", "1e-05", "3e-05", "0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3",
                           "1"),
         "lrs": ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1")}
# Where the widgets go: one column, two columns side by side, one column; any other setting (a new one too)
# under "More settings", in declaration order.
TOP = ("preset", "weight_decays", "optimizers", "momentum", "lrs")
SIDE = (("epochs", "hidden", "batch_size"), ("norm", "activation", "seeds"))
BOTTOM = ("decay_bias",)
HOW = {"floats": ". Pick from the grid or type any exact value (e.g. 0.25 or 3e-4) and press Enter",
       "ints": ". Comma-separated, e.g. 0,1,2"}
MORE_HELP = {"preset": ". Picking one loads its own settings, except those you changed yourself"}


def help_of(p: Param, limits: Limits) -> str:
    """A widget's help, from its declaration: its flag, what it is, its bounds, the server's cap on it."""
    text = f"--{p.key}: {p.full_help()}"
    if p.bounds():
        text += f"; {'each ' if p.kind in LISTS else ''}{p.bounds()}"
    if cap(p, limits) is not None:
        text += f" (at most {cap(p, limits)}{' values' if p.kind in LISTS else ''} here)"
    return text + HOW.get(p.kind, "") + MORE_HELP.get(p.attr, "")


def cap(p: Param, limits: Limits) -> int | None:
    """The limit on p here, or None: no such limit, or lifted (off the demo, where memory is what bounds a sweep)."""
    value = getattr(limits, p.limit) if p.limit else math.inf
    return int(value) if math.isfinite(value) else None


def wd_label(text: str) -> str:
    """A λ tag's label. It starts with "λ = " so that typed digits never prefix-match a grid value: typing 1 and
    pressing Enter adds exactly 1 (a match such as 1e-05 would be taken instead)."""
    return f"λ = {text}"


def _normalize_wd_widget() -> None:
    k = key(BY_ATTR["weight_decays"])
    st.session_state[k] = normalize_wds(st.session_state.get(k) or [])


# -- kind -> widget: each draws the declared setting `p` into `where` -----------------------------------------------
def selectbox(p, where, limits, **extra):
    names = tuple(p.choices)  # read when drawn: an entry registered at run time is listed
    where.selectbox(p.label, names, shown_index(names, key(p)), key=key(p), format_func=p.name_of,
                    help=help_of(p, limits), **extra)


def multiselect(p, where, limits, **extra):
    # the tags in the order of their choices (the registry's), the order the config and every result list them
    where.multiselect(p.label, tuple(p.choices), shown(key(p)), key=key(p), format_func=p.name_of,
                      select_all=False, on_change=_in_choice_order, args=(p,), help=help_of(p, limits), **extra)


def _in_choice_order(p) -> None:
    order = list(p.choices)
    st.session_state[key(p)] = sorted(st.session_state.get(key(p)) or [],
                                      key=lambda c: order.index(c) if c in order else len(order))


def grid(p, where, limits, **extra):
    """Numbers picked from a grid or typed (each exact); the λ picker sorts them and labels its tags."""
    k, wd = key(p), p.attr == "weight_decays"
    chosen = st.session_state.get(k) or []
    if wd and normalize_wds(chosen) != chosen:  # e.g. a link's 3e-4 shows as the table's 0.0003
        chosen = st.session_state[k] = normalize_wds(chosen)
    options = list(dict.fromkeys([*GRIDS.get(p.attr, ()), *chosen]))
    options = normalize_wds(options) if wd else options
    where.multiselect(p.label, options, shown(k), key=k, accept_new_options=True,
                      format_func=wd_label if wd else str, filter_mode="prefix", select_all=False,
                      max_selections=cap(p, limits),
                      on_change=_normalize_wd_widget if wd else None, help=help_of(p, limits), **extra)


def number(p, where, limits, **extra):
    cast = int if p.kind == "int" else float
    bound = lambda b: None if b is None else cast(b)  # noqa: E731
    where.number_input(p.label, bound(p.low), bound(p.high), shown(key(p)), step=p.step and cast(p.step),
                       key=key(p), help=help_of(p, limits), **extra)


def text(p, where, limits, **extra):
    where.text_input(p.label, shown(key(p)), key=key(p), help=help_of(p, limits), **extra)


def toggle(p, where, limits, **extra):
    where.toggle(p.label, shown(key(p)), key=key(p), help=help_of(p, limits), **extra)


WIDGETS: dict[str, Callable] = {"choice": selectbox, "choices": multiselect, "floats": grid, "int": number,
                                "float": number, "ints": text, "batch": text, "fraction": text, "bool": toggle}


# -- what some widgets show below themselves ----------------------------------------------------------------------
def _own_settings_refused(preset: str, limits: Limits) -> str:
    """Why the settings a preset brings exceed `limits`, or '' (none, or they fit)."""
    defaults = preset_defaults(preset)
    try:
        if defaults:
            validate(SweepConfig(preset=preset, **defaults), limits)
    except ConfigError as e:
        return str(e)
    return ""


def preset_notes(limits: Limits, keep) -> None:
    preset = st.session_state[key(BY_ATTR["preset"])]
    st.caption(DATASETS[preset].description + (" Upload it on the page." if preset == "csv" else ""))
    presets.own_note(preset, keep)
    too_big = _own_settings_refused(preset, limits)
    if too_big:
        fits = [DATASETS[n].title for n, s in DATASETS.items() if s.view and s.view == DATASETS[preset].view
                and not _own_settings_refused(n, limits)]
        st.caption(f":orange[Its own settings are larger than this server allows ({too_big}).]"
                   + (f" {' or '.join(fits)} fits as it is." if fits else ""))


def optimizer_notes(limits: Limits, keep) -> None:
    for name in st.session_state[key(BY_ATTR["optimizers"])] or []:
        st.caption(OPTIMIZERS[name].describe())


NOTES = {"preset": preset_notes, "optimizers": optimizer_notes}


def load_state(cfg: SweepConfig) -> None:
    """Set the widgets to show `cfg` (before they are drawn in this run): a link's sweep, or the landing one."""
    state = cfg_to_state(cfg)
    for p in PARAMS:
        st.session_state[key(p)] = state[name(p)]
    presets.remember(state)


def sweep_controls(limits: Limits, keep: tuple[str, ...] = ()) -> tuple[SweepConfig | None, list[str]]:
    """Draw the controls (in the current container); return the config they describe or the errors. Picking a
    dataset loads its own settings except the visitor's own and `keep` (a page's grid: presets.switch)."""
    # Streamlit drops the state of widgets a run did not reach (a click can interrupt the run drawing them),
    # which blanked these inputs; a plain (non-widget) copy of the last values puts back any key that vanished.
    # Each widget also gets its current value as its default (`shown`): the browser, too, can lose a widget's
    # value and then sends the default back.
    saved = st.session_state.get(SAVED)
    if saved is None and key(BY_ATTR["preset"]) not in st.session_state:
        load_state(preset_config(SweepConfig.preset))
    for p in PARAMS:
        if saved and key(p) not in st.session_state and name(p) in saved:
            st.session_state[key(p)] = saved[name(p)]
    state = current_state()
    cfg, errors = state_to_cfg(state, limits)  # checked before drawing: each error goes under its own field
    by_field: dict[str, list[str]] = {}
    for e in errors:
        by_field.setdefault(e.field, []).append(e)

    def problems(field: str) -> None:  # in the current container, right below the field's widget
        messages = by_field.pop(field, [])
        if messages:
            with st.container():
                for message in messages:
                    note("error", message, key=f"field-{field}")  # may quote what the visitor typed: plain text

    def draw(attr: str, where) -> None:
        p = BY_ATTR[attr]
        if not applies(p, current_state()):
            return
        extra = {"on_change": presets.apply_preset, "args": (keep,)} if attr == "preset" else {}
        WIDGETS[p.kind](p, where, limits, **extra)
        with contextlib.nullcontext() if where is st else where:
            if attr in NOTES:
                NOTES[attr](limits, keep)
            problems(attr)

    for attr in TOP:
        draw(attr, st)
    columns = st.columns(len(SIDE))
    for column, attrs in zip(columns, SIDE):
        for attr in attrs:
            draw(attr, column)
    for attr in BOTTOM:
        draw(attr, st)
    placed = {*TOP, *BOTTOM, *(a for attrs in SIDE for a in attrs)}
    more = [p.attr for p in PARAMS if p.attr not in placed]
    with st.expander("More settings", expanded=any(a in by_field for a in more)):
        for attr in more:
            draw(attr, st)
    for field in list(by_field):  # anything not tied to a drawn field (e.g. momentum's, its widget hidden)
        problems(field)
    st.caption(f"Limits here: {limits.describe()}.")
    st.session_state[SAVED] = state
    return cfg, errors
