"""The explorer page: pick a sweep, press Train, watch loss and L2 norm grow side by side for every λ."""
from __future__ import annotations

import streamlit as st

from ..params import from_query, to_query
from ..sweep import validate
from ..data import DATASETS
from . import controls, live, results
from .controls import OPTIMIZER_CHOICES
from .state import limits

INTRO = ("Train one small network per **weight_decay** value λ, all at once with `torch.optim`, and watch the "
         "**training loss** and the **L2 norm of the weights** side by side. Pick the settings on the left and "
         "press **Train**: the address bar then holds a link that reproduces the run.")


def url_settings() -> None:
    """On a visitor's first run: fill the widgets from the link; say what in it was wrong."""
    if "url_loaded" in st.session_state:
        return
    st.session_state["url_loaded"] = True
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    lim = limits()
    cfg, warnings = from_query(query, check=lambda c: validate(c, lim))
    controls.load_state(cfg)
    st.session_state["url_warnings"] = warnings
    st.session_state["autorun"] = bool(query)  # a shared link shows its results without a click


def explorer_page() -> None:
    url_settings()
    st.title("Weight Decay Lab")
    st.markdown(INTRO)
    for warning in st.session_state.get("url_warnings", []):
        st.warning(f"Link: {warning}", icon=":material/link:")
    lim = limits()
    with st.sidebar:
        st.header("Sweep")
        cfg, errors = controls.sweep_controls(lim)
        for message in errors:
            st.error(message)
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    pressed = c1.button("Train", type="primary", key="train", disabled=cfg is None, icon=":material/play_arrow:",
                        width="stretch")
    if cfg is not None:
        c2.caption(f"{len(cfg.weight_decays)} λ × {len(cfg.seeds)} seed(s) = {len(cfg.members)} models, "
                   f"{cfg.epochs} epochs, {OPTIMIZER_CHOICES[cfg.optimizer if not cfg.momentum else 'sgd-momentum']}"
                   f" on {DATASETS[cfg.preset].title}.")
    else:
        c2.caption("Fix the settings marked in red on the left to train.")
    autorun = st.session_state.pop("autorun", False)
    if cfg is not None and (pressed or autorun):
        st.session_state["url_warnings"] = [] if pressed else st.session_state.get("url_warnings", [])
        st.query_params.from_dict(to_query(cfg))  # the address bar is now a link to this run
        live.start(cfg)
    job = st.session_state.get("job")
    if job is None:
        st.info("Choose settings on the left and press **Train**. Try the default: the course's pure-noise "
                "data with Adam and five λ values.", icon=":material/arrow_back:")
        return
    if cfg is not None and cfg != job.cfg:
        st.caption("The settings on the left differ from the run shown; press **Train** to run them.")
    options = results.view_options("main")
    live.job_view("job", key="main", options=options)
