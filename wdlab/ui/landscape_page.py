"""The Landscape page: λ × learning-rate maps, one per optimizer, filling in live; a clicked cell's curves."""
from __future__ import annotations

import streamlit as st

from wdlab.engine.budget import validate
from wdlab.settings.config import SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.frame.landscape import RULE, best_per_lr, cells, plain_line, with_tau
from wdlab.laws.predict import steps_per_epoch
from wdlab.settings.reading import AT_LABELS, COMPARED_AT, DEFAULT_AT, describe_at
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.params import from_query, to_query
from wdlab.plots.curves import PANEL_KEYS, curves_figure, select_group
from wdlab.plots.landscape import landscape_figure
from wdlab.ui import controls
from wdlab.ui import live
from wdlab.ui.results import CHART_CONFIG, trained, view_from_query
from wdlab.ui.state import POLL_SECONDS, limits, manager, owner
from wdlab.ui.text import note

SLOT = "landscape_job"
# Fits the hosted demo: 2 optimizers × 3 lrs × 4 λ × 1 seed = 24 members on the moons, 150 full-batch epochs.
DEFAULT = SweepConfig(preset="moons", hidden=(32,), optimizers=("adam", "adamw"), lrs=(0.001, 0.01, 0.1),
                      weight_decays=(0.0, 1e-3, 1e-2, 1e-1), seeds=(0,), epochs=150)
GRID = ("optimizers", "lrs")   # the page's own axes: a dataset picked (or linked) keeps them
INTRO = ("The AdamW paper's picture (Loshchilov & Hutter, Fig. 2), trained here: one map per optimizer, learning "
         "rate up, λ across, each cell coloured by how well that (lr, λ) generalized. With **coupled** decay "
         "(Adam's L2, SGD's) the best λ tends to depend on the lr; with **decoupled** decay it should move less "
         "— but torch's `AdamW` shrinks by 1 − **lr·λ** per step, so in torch's own axes the product is what acts: "
         "switch the axis to lr·λ to see it. Click a cell for its curves.")


def _url() -> None:
    if st.session_state.get("landscape_loaded"):
        return
    st.session_state["landscape_loaded"] = True
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    lim = limits()
    view, view_warnings = view_from_query({k: v for k, v in query.items() if k == "compare-at"})
    query = {k: v for k, v in query.items() if k != "compare-at"}   # a view option, not a setting
    cfg, warnings = from_query(query, check=lambda c: validate(c, lim), base=DEFAULT, keep=GRID)
    warnings += view_warnings
    if "at" in view:
        st.session_state["landscape_which"] = view["at"]
    controls.load_state(cfg)
    st.session_state["landscape_warnings"] = warnings
    st.session_state["landscape_autorun"] = True   # the page shows its map without a click, link or not


def _selected(key: str) -> tuple | None:
    """The (optimizer, lr, λ) of the cell last clicked in any map."""
    for opt in OPTIMIZERS:
        state = st.session_state.get(f"{key}_{opt}")
        points = (state or {}).get("selection", {}).get("points", []) if isinstance(state, dict) else \
            getattr(getattr(state, "selection", None), "points", []) if state is not None else []
        if points:
            data = points[0].get("customdata")
            if data:
                st.session_state["landscape_cell"] = (str(data[0]), float(data[1]), float(data[2]))
    return st.session_state.get("landscape_cell")


def _keep_in_link(which: str) -> None:
    """The reading rides in the share link (compare-at) when it is not the default."""
    if "wd" not in st.query_params:
        return
    if which == DEFAULT_AT:
        if "compare-at" in st.query_params:
            del st.query_params["compare-at"]
    elif st.query_params.get("compare-at") != which:
        st.query_params["compare-at"] = which


def landscape_page() -> None:
    _url()
    st.title("Landscape: λ × learning rate")
    st.markdown(INTRO)
    warnings = st.session_state.get("landscape_warnings", [])
    if warnings:  # a link's words stay text: one note for all of them
        note("warning", "Link: " + " · ".join(warnings))
    lim = limits()
    with st.sidebar:
        st.header("Sweep")
        cfg, errors = controls.sweep_controls(lim, keep=GRID)  # another dataset brings its settings, not its grid
        for message in errors:
            note("error", message)  # may quote what the visitor typed: plain text
    if cfg is not None and cfg.preset == "csv":
        st.info("The landscape trains on the built-in datasets; pick one in the sidebar (» at the top left on a phone).")
        cfg = None
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    pressed = c1.button("Train the map", type="primary", key="landscape_train", disabled=cfg is None,
                        icon=":material/grid_on:", width="stretch")
    if cfg is not None:
        c2.caption(f"{len(cfg.optimizers)} optimizer(s) × {len(cfg.lrs)} lr × {len(cfg.weight_decays)} λ × "
                   f"{len(cfg.seeds)} seed(s) = {len(cfg.members)} models, {cfg.epochs} epochs on "
                   f"{DATASETS[cfg.preset].title}{trained(cfg)}.")
    autorun = st.session_state.pop("landscape_autorun", False)
    if cfg is not None and (pressed or autorun):
        st.query_params.from_dict(to_query(cfg))
        st.session_state.pop("landscape_cell", None)
        live.start(cfg, slot=SLOT)
    job = st.session_state.get(SLOT)
    if job is None:
        return
    classification = DATASETS[job.cfg.preset].task == "classification"
    o1, o2, o3 = st.columns(3)
    metric = o1.radio("colour", ["val_loss", "val_acc"] if classification else ["val_loss"], key="landscape_metric",
                      horizontal=True, format_func=lambda m: {"val_loss": "validation loss",
                                                              "val_acc": "validation accuracy"}[m])
    which = o2.radio("compare at", COMPARED_AT, key="landscape_which", horizontal=True, format_func=AT_LABELS.get,
                     help="Where each member's value is read: best epoch = " + describe_at("best")
                          + "; final epoch = where training stopped; mean of the last 10 % = "
                          + describe_at("last") + ".")
    _keep_in_link(which)
    axis = o3.radio("x axis", ["weight_decay", "lr_wd", "tau_epochs"], key="landscape_axis", horizontal=True,
                    format_func=lambda a: {"weight_decay": "λ", "lr_wd": "lr·λ", "tau_epochs": "τ (epochs)"}[a],
                    help="τ = 1/(lr·λ) steps over the steps per epoch: the window AdamW's weights average their "
                         "updates over (Wang & Aitchison 2024). λ = 0 sits at ∞.")
    manager().touch(job, owner())
    if job.snapshot(with_frame=False).finished:
        _maps(metric, which, axis)
    else:
        _live_maps(metric, which, axis)


@st.fragment(run_every=POLL_SECONDS)
def _live_maps(metric: str, which: str, axis: str) -> None:
    job = st.session_state.get(SLOT)
    if job is None:
        return
    manager().touch(job, owner())
    snap = job.snapshot(with_frame=False)
    if snap.finished:
        st.rerun(scope="app")
    st.progress(snap.epochs_done / max(snap.epochs_total, 1),
                text=live.waiting(snap.position) if snap.status == "queued"
                else f"Training: epoch {snap.epochs_done} of {snap.epochs_total} — the cells fill in as it trains")
    _draw(job, metric, which, axis, live_view=True)


def _maps(metric: str, which: str, axis: str) -> None:
    job = st.session_state.get(SLOT)
    snap = job.snapshot(with_frame=False)
    if snap.status == "failed":
        note("error", f"This map could not be trained: {snap.error}")
        return
    if snap.status == "cancelled":
        st.info(f"This map was cancelled after {snap.epochs_done} of {snap.epochs_total} epochs.")
    _draw(job, metric, which, axis, live_view=False)


def _draw(job, metric: str, which: str, axis: str, live_view: bool) -> None:
    frame = job.frame()
    if frame.empty:
        st.caption("The first epochs are on their way…")
        return
    c = with_tau(cells(frame, metric, which), steps_per_epoch(job.cfg, DATASETS[job.cfg.preset].sizes(
        job.cfg.val_fraction)[0]))
    rng = (float(c.value.min()), float(c.value.max()))
    key = "landscape_map"
    chosen = None if live_view else _selected(key)
    cols = st.columns(len(job.cfg.optimizers))
    for col, opt in zip(cols, job.cfg.optimizers):
        fig = landscape_figure(c, opt, OPTIMIZERS[opt].label, metric=metric, axis=axis, range_=rng, selected=chosen)
        with col:
            if live_view:
                st.plotly_chart(fig, key=f"{key}_live_{opt}", config=CHART_CONFIG)
            else:
                st.plotly_chart(fig, key=f"{key}_{opt}", config=CHART_CONFIG, on_select="rerun",
                                selection_mode="points")
    best = best_per_lr(c, metric)
    # one plain line per optimizer (one sentence for all of them, in λ and again in lr·λ, was hard to parse)
    st.markdown("**Where the best λ sits** (the white line: each lr's best cell)\n\n" + "\n".join(
        f"- {plain_line(OPTIMIZERS[o].label, best[best.optimizer == o])}" for o in job.cfg.optimizers
        if (best.optimizer == o).any()))   # in the maps' order
    st.caption(RULE.format(what=describe_at(which) + trained(job.cfg), metric=metric,
                           best="lowest" if metric.endswith("loss") else "highest"))
    if live_view or chosen is None:
        if not live_view:
            st.caption("Click a cell to see its curves.")
        return
    opt, lr, w = chosen
    st.subheader(f"{OPTIMIZERS[opt].label}, lr {lr:g}, λ {w:g}")
    member = select_group(frame, (opt, lr))
    member = member[member.weight_decay == w]
    # two figures in columns (a phone stacks them, each titled from its left edge: one two-panel figure centred
    # its titles off the screen); room for two legend rows: "λ = 0.1 (validation)" wraps on a narrow screen
    for column, panel in zip(st.columns(2), PANEL_KEYS):
        column.plotly_chart(curves_figure(member, show_val=True, legend_rows=2, panels=(panel,),
                                          legend=panel == PANEL_KEYS[0]),
                            key="landscape_curves" if panel == PANEL_KEYS[0] else f"landscape_curves_{panel}",
                            config=CHART_CONFIG)
    link = job.cfg.replace(optimizers=(opt,), lrs=(lr,), weight_decays=(w,))
    query = "&".join(f"{k}={v}" for k, v in to_query(link).items())
    st.link_button("Open these settings in the explorer", f"./?{query}", icon=":material/open_in_new:")
