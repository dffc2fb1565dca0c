"""Picking a dataset: its own settings replace the last one's in every field the visitor did not set by hand."""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import preset_config
from wdlab.ui.fields import NAMES, NOUNS, PREFIX, cfg_to_state, current_state

LOADED = "_controls_loaded"   # the widget values the app itself last put there (a link, a dataset pick, a reset)
OWN = "_controls_own"         # the fields the visitor changed by hand since: a dataset pick keeps them


def switch(current: Mapping[str, Any], loaded: Mapping[str, Any], own, target: Mapping[str, Any],
           keep=()) -> tuple[dict[str, Any], list[str]]:
    """The rule, on widget values: a field is the visitor's own once its value differs from what the app last
    put there (and stays so until a reset); every other field, except `keep` (a page's own grid), takes the
    picked preset's value (`target`, its preset_config as widget values). Returns (new values, own fields)."""
    own = set(own) | {n for n, v in current.items() if n != "preset" and n in loaded and v != loaded[n]}
    keep = {NAMES.get(k, k) for k in keep}
    new = {n: (current.get(n, v) if n in own or n in keep else v) for n, v in target.items()}
    return {**new, "preset": target["preset"]}, sorted(own)


def remember(values: Mapping[str, Any], own=()) -> None:
    """What the app just put into the widgets (own: the fields that are the visitor's)."""
    st.session_state[LOADED] = dict(values)
    st.session_state[OWN] = list(own)


def apply_preset(keep=()) -> None:
    """The selectbox's on_change: the picked preset's settings, the visitor's own values kept."""
    current = current_state()
    target = cfg_to_state(preset_config(current["preset"]))
    new, own = switch(current, st.session_state.get(LOADED, {}), st.session_state.get(OWN, ()), target, keep)
    for name, value in new.items():
        st.session_state[PREFIX + name] = value
    remember(new, own)


def reset_to_preset(keep=()) -> None:
    """The button's on_click: every field (but a page's grid) back to the preset's own settings."""
    st.session_state[OWN] = []
    st.session_state[LOADED] = {}
    apply_preset(keep)


def differing(keep=()) -> list[str]:
    """The visitor's own fields whose value is not the current preset's (what the note names)."""
    current = current_state()
    target = cfg_to_state(preset_config(current["preset"]))
    skip = {NAMES.get(k, k) for k in keep}
    own = set(st.session_state.get(OWN, ()))
    return [n for n in current if n in own and n not in skip and current[n] != target.get(n)]  # sidebar order


def own_note(preset: str, keep=()) -> None:
    """Under the dataset: which of the visitor's own settings differ from the preset's, and a button to take
    the preset's instead."""
    names = differing(keep)
    if not names:
        return
    st.caption(f"Kept as you set them, not {DATASETS[preset].name}'s own: " + ", ".join(NOUNS[n] for n in names) + ".")
    st.button(f"Use {DATASETS[preset].name}'s own settings", key="preset_reset", on_click=reset_to_preset,
              args=(keep,), icon=":material/restart_alt:",
              help="every setting above and below as this dataset brings it (its network, optimizer, lr, epochs, λ)")
