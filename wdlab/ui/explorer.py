"""The explorer page: pick a sweep, press Train, watch loss and L2 norm grow side by side for every λ."""
from __future__ import annotations

import streamlit as st

from wdlab.settings.config import ConfigError
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import BY_ATTR, from_query, to_query
from wdlab.engine.budget import plan, validate
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.ui import controls
from wdlab.ui import fields
from wdlab.ui import live
from wdlab.ui import results
from wdlab.ui import upload
from wdlab.ui.state import limits, manager, owner
from wdlab.ui.text import note

# Where the settings are, worded for both widths: a phone hides the sidebar behind » at the top left.
SIDEBAR = "in the sidebar (» at the top left on a phone)"
INTRO = ("Train one small network per **weight_decay** value λ, all at once with `torch.optim`, and watch the "
         "**training loss** and the **L2 norm of the weights** side by side. Pick the settings "
         f"{SIDEBAR} and press **Train**: the address bar then holds a link that reproduces the run.")


def url_settings() -> None:
    """On a visitor's first run: fill the widgets from the link; say what in it was wrong."""
    if "url_loaded" in st.session_state:
        return
    st.session_state["url_loaded"] = True
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    view, view_warnings = results.view_from_query(query)  # the view options (log-y, val, band, compare-at) ride along
    results.load_view("main", view)
    query = {k: v for k, v in query.items() if k not in results.VIEW_KEYS}
    lim = limits()
    cfg, warnings = from_query(query, check=lambda c: validate(c, lim))
    controls.load_state(cfg)
    st.session_state["url_warnings"] = warnings + view_warnings
    st.session_state["autorun"] = bool(query)  # a shared link shows its results without a click
    st.session_state["url_csv"] = cfg.preset == "csv"  # ... except on a table, which no link carries


def explorer_page() -> None:
    url_settings()
    st.title("Weight Decay Lab")
    st.markdown(INTRO)
    link_warnings = st.session_state.get("url_warnings", [])
    if link_warnings:  # one note for the whole link, however many keys were bad; its words stay text
        note("warning", "Link: " + link_warnings[0] if len(link_warnings) == 1 else
             f"Link: {len(link_warnings)} problems:\n" + "\n".join(f"• {w}" for w in link_warnings))
    lim = limits()
    with st.sidebar:
        st.header("Sweep")
        cfg, errors = controls.sweep_controls(lim)  # each error is shown under its field
    table = None
    if fields.current_state()["preset"] == "csv":
        st.subheader("Your table")
        if st.session_state.get("url_csv"):
            upload.link_notice()
        table = upload.upload_section(lim, cfg.val_fraction if cfg is not None else None)
        if table is not None and cfg is not None:
            try:
                validate(cfg, lim, table.data)  # limits that depend on the table's size
            except ConfigError as e:
                note("error", f"{e} — for this table.")
                cfg = None
    else:
        upload.forget()
    ready = cfg is not None and (cfg.preset != "csv" or table is not None)
    data = table.data if table is not None else None
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    pressed = c1.button("Train", type="primary", key="train", disabled=not ready, icon=":material/play_arrow:",
                        width="stretch")
    if ready:
        on = f"your table {table.name!r}" if table is not None else DATASETS[cfg.preset].title
        est = plan(cfg, lim, data)  # what run_sweep will do with it: the same estimate, the same pieces
        pieces = f" (trained {est.max_chunk_members} models at a time)" if est.max_chunk_members else ""
        grid = "".join(f"{len(v)} {name} × " for v, name in ((cfg.optimizers, "optimizers"), (cfg.lrs, "lrs"))
                       if len(v) > 1)
        opts = " / ".join(OPTIMIZERS[o].label for o in cfg.optimizers)
        lrs = ", ".join(f"{lr:g}" for lr in cfg.lrs)
        with c2:
            note("caption", f"{grid}{len(cfg.weight_decays)} λ × {len(cfg.seeds)} seed(s) = {len(cfg.members)} "
                 f"models, {cfg.epochs} epochs, {opts} at lr {lrs} on {on}: {est.describe()}{pieces}.", key="estimate")
    elif cfg is not None:
        c2.caption("Upload a usable table above to train.")
    else:
        names = ", ".join(dict.fromkeys(BY_ATTR[e.field].noun for e in errors))
        with c2:
            note("error", f"Fix {'this setting' if len(errors) == 1 else f'these {len(errors)} problems'} "
                          f"{SIDEBAR} (in red under each field) to train: {names}.")
    autorun = st.session_state.pop("autorun", False) and cfg is not None and cfg.preset != "csv"
    if ready and (pressed or autorun):
        st.session_state["url_warnings"] = [] if pressed else st.session_state.get("url_warnings", [])
        st.session_state["url_csv"] = False
        st.query_params.from_dict(to_query(cfg))  # the address bar is now a link to this run
        live.start(cfg, data=data)  # a table's job is keyed by this visitor's id: nobody else can reach it
        st.session_state["job_source"] = table.source if table is not None else None  # for its script
    job = st.session_state.get("job")
    if job is None:
        if cfg is None or cfg.preset != "csv":
            st.info(f"Choose settings {SIDEBAR} and press **Train**. Try the default: the course's pure-noise "
                    "data with Adam and five λ values.", icon=":material/tune:")
        return
    if job.cfg.preset == "csv":
        upload.share_note()
    if ready and manager().key(cfg, data, owner()) != job.key:
        what = "The settings in the sidebar differ" if cfg != job.cfg else "Your table differs"
        st.caption(f"{what} from the run shown; press **Train** to run them.")
    options = results.view_options("main", len(job.cfg.seeds), link=True, preset=job.cfg.preset)
    live.job_view("job", key="main", options=options, source=st.session_state.get("job_source"), pictures=True,
                  data=data, laws=True)
