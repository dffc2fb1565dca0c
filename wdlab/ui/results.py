"""Drawing a sweep's frame: the main figure, diverged notes, the summary across λ, the table and the CSV."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd
import streamlit as st

from wdlab.frame import grokking as grokking_rules
from wdlab.frame.schema import DEFINITIONS
from wdlab.settings.reading import AT_LABELS, COMPARED_AT, DEFAULT_AT, describe_at
from wdlab.plots import curves as plots
from wdlab.plots import grokking as grokplot
from wdlab.plots.law_lines import drawn_predictions, legend_room, tau_by_group, tau_epochs
from wdlab.plots.schedule import schedule_figure
from wdlab.registry import schedules
from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import SweepConfig, starting_group
from wdlab.ui import law_view
from wdlab.ui.state import shown, shown_index
from wdlab.ui.text import CHART_CONFIG  # noqa: F401 (the pages' API)
from wdlab.ui.tables import diverged_notes, download_name, show_table, table_view  # noqa: F401 (the page's API)

BANDS = {"minmax": "min–max", "std": "±1 std"}
VIEW_KEYS = {"log-y": "log_y", "val": "show_val", "band": "band", "compare-at": "at"}   # URL key -> ViewOptions field
CHOICES = {"band": tuple(BANDS), "at": COMPARED_AT}   # the view options that take a name, not true/false


@dataclass(frozen=True)
class ViewOptions:
    log_y: bool = False
    show_val: bool = False
    band: str = "minmax"     # minmax | std
    at: str = DEFAULT_AT     # the epoch the summary, the table and the best-λ star read (frame.schema.compared_rows)


def view_from_query(query: Mapping[str, Sequence[str]]) -> tuple[dict, list[str]]:
    """The view options a link carries (log-y, val, band, compare-at) as ViewOptions fields, and warnings for bad
    values."""
    values, warnings = {}, []
    for key, field in VIEW_KEYS.items():
        raw = query.get(key)
        if not raw:
            continue
        text = str(raw[-1] if isinstance(raw, (list, tuple)) else raw).strip().lower()
        if field in CHOICES:
            ok = text in CHOICES[field]
            value = text
        else:
            ok = text in ("true", "false", "1", "0", "yes", "no", "on", "off")
            value = text in ("true", "1", "yes", "on")
        if ok:
            values[field] = value
        else:
            allowed = " or ".join(CHOICES[field]) if field in CHOICES else "true or false"
            warnings.append(f"{key}={text[:40]!r} is not valid: {key} takes {allowed} — using the default")
    return values, warnings


def load_view(key: str, values: Mapping[str, object]) -> None:
    """Set the view toggles of figure `key` (before they are drawn) from view_from_query's values."""
    for field, value in values.items():
        st.session_state[f"{key}_{field}"] = value


def view_options(key: str, n_seeds: int = 2, link: bool = False, preset: str | None = None) -> ViewOptions:
    """The figure's display toggles (they change the drawing, never the training). link=True keeps them in the
    address bar's share link (only values that differ from the defaults). preset: the shown run's dataset; one
    whose loss falls by decades after an early spike (the sine's) starts on log y-axes, whenever it is switched to."""
    c1, c2, c3 = st.columns([1, 1, 2])
    log_default = bool(preset is not None and preset in DATASETS and DATASETS[preset].log_loss)
    seen = st.session_state.get(f"_{key}_log_preset")
    if preset is not None and seen is not None and seen != preset:
        st.session_state[f"{key}_log_y"] = log_default  # a new dataset: its own default, not the last one's choice
    if preset is not None:
        st.session_state[f"_{key}_log_preset"] = preset
    log_y = c1.toggle("log y-axes (loss and ‖w‖₂)", shown(f"{key}_log_y", log_default), key=f"{key}_log_y",
                      help="Both panels' y-axes logarithmic.")
    show_val = c2.toggle("validation loss (dashed)", shown(f"{key}_show_val", False), key=f"{key}_show_val")
    band = shown(f"{key}_band", "minmax") or "minmax"
    if n_seeds > 1:  # with one seed there is no spread to draw
        band = c3.radio("band over seeds", tuple(BANDS), shown_index(tuple(BANDS), f"{key}_band"), key=f"{key}_band",
                        horizontal=True, format_func=BANDS.get,
                        help="With several seeds each λ is drawn as the mean over seeds with this band around it.")
    at = shown(f"{key}_at", DEFAULT_AT)   # drawn by summary(), beside the numbers it changes
    options = ViewOptions(log_y, show_val, band, at if at in COMPARED_AT else DEFAULT_AT)
    if link and "wd" in st.query_params:  # the address bar holds a run's link: it reproduces the view too
        defaults = ViewOptions(log_y=log_default)
        for url_key, field in VIEW_KEYS.items():
            value = getattr(options, field)
            text = value if isinstance(value, str) else ("true" if value else "false")
            if value == getattr(defaults, field) or (field == "band" and n_seeds == 1):
                if url_key in st.query_params:
                    del st.query_params[url_key]
            elif st.query_params.get(url_key) != text:
                st.query_params[url_key] = text
    return options


def group_choice(cfg: SweepConfig, key: str) -> tuple[str, float] | None:
    """With several optimizers or learning rates: which (optimizer, lr) group the figures show."""
    groups = [(o, lr) for o in cfg.optimizers for lr in cfg.lrs]
    if len(groups) == 1:
        return None
    first = groups.index(starting_group(cfg))  # the group the learner started from, not the grid's corner
    i = st.selectbox("Show optimizer × learning rate", range(len(groups)), shown_index(range(len(groups)),
                     f"{key}_group", first), key=f"{key}_group", format_func=lambda i: plots.group_label(*groups[i]),
                     help="The curves and the summary across λ show one group of the grid; the figure below "
                          "them compares every group.")
    return groups[i]


def curves(frame: pd.DataFrame, cfg: SweepConfig, options: ViewOptions, key: str,
           shared: Sequence[pd.DataFrame] | None = None, laws: Sequence | None = None, live: bool = False) -> None:
    """The main figure: training loss and L2 norm side by side (stacked on a narrow screen), one colour per λ
    (of one (optimizer, lr) group when the sweep has several; after the grokking view, on a preset that asks
    for it). `shared`: frames of runs compared with this one (it included): one y-scale for all of them.
    laws: the members' predictions (law_view.job_predictions): drawn dashed on the curves they predict, with the
    max|w|, rotation and layer-norm figures under the curves; None: neither (a page comparing runs). live: the
    view polls while training (steady_chart keeps the last drawing on screen while the next one mounts)."""
    group = group_choice(cfg, key)
    if group is not None and not frame.empty:
        frame = plots.select_group(frame, group)
        # compared runs differ in their optimizer (Adam+L2 vs AdamW): theirs at this group's lr share the scale
        shared = [f[f["lr"] == group[1]] for f in shared] if shared else shared
    if DATASETS[cfg.preset].view == "grokking":
        grokking(frame, cfg, key)
    # A live view reruns every poll; building the figures costs ~50 ms against ~2 ms to send them, so an
    # unchanged frame (same object, same length) reuses them: many watchers then leave the CPU to training.
    memo_key = f"_fig_{key}"
    stamp = (id(frame), len(frame), options, cfg, group, tuple((id(f), len(f)) for f in shared or ()), id(laws))
    memo = st.session_state.get(memo_key)
    if memo is not None and memo[0] == stamp and (group is not None or memo[2] is frame):
        figs = memo[1]
    else:
        n_wd = frame["weight_decay"].nunique() if not frame.empty else len(cfg.weight_decays)
        n_laws = len({p.law for p in drawn_predictions(frame, laws or (), "l2_norm")})
        rows = plots.legend_rows_for(legend_room(n_wd * (2 if options.show_val else 1),
                                                 len(tau_epochs(frame, laws or ())), n_laws))
        figs = [plots.curves_figure(frame, log_y=options.log_y, show_val=options.show_val, band=options.band,
                                    epochs_total=cfg.epochs, panels=(panel,), shared=shared, legend=i == 0,
                                    legend_rows=rows, laws=laws or ())
                for i, panel in enumerate(plots.PANEL_KEYS)]
        st.session_state[memo_key] = (stamp, figs, frame)
    # Two figures in columns, not one two-panel figure: Streamlit stacks columns on a narrow screen, and each
    # panel then gets the full width (a figure cannot know the width it will be drawn at).
    for column, fig, panel in zip(st.columns(2), figs, plots.PANEL_KEYS):
        steady_chart(column, fig, f"{key}_curves" if panel == "train_loss" else f"{key}_curves_{panel}", live)
    if schedules.scheduled(cfg):
        lr_schedule(cfg, group, key)
    if laws is not None:
        law_view.law_panels(frame, cfg, laws, key)
    if any((fig.layout.meta or {}).get("clipped") for fig in figs):
        st.caption(":material/vertical_align_top: Diverging curves leave the top of the scale on their way to "
                   "infinity; the axis keeps the finite part readable, and ✕ marks (on the top edge) where each "
                   "one stopped. Hover a ✕ for its last finite value.")


def steady_chart(where, fig, key: str, live: bool = False) -> None:
    """A chart in a box of the figure's own height, so the page never collapses or jumps while training.

    Streamlit gives every new figure a new element id (it hashes the spec), so each live update unmounts the
    old chart and mounts a new one, which is hidden until Plotly has measured and drawn it (issue #27: a chart
    had zero height in 9 of 40 samples). Live, the box holds two charts on one spot, drawn alternately: a new
    figure goes to the one not showing the latest, on top, while the other is sent again unchanged (same spec,
    same id: not remounted) and stays drawn beneath until the new one covers it."""
    box = where.container(height=int(fig.layout.height or 450), border=False, key=f"{key}_box")
    if not live:
        st.session_state.pop(f"_steady_{key}", None)
        box.plotly_chart(fig, key=key, config=CHART_CONFIG)
        return
    slots, top = st.session_state.get(f"_steady_{key}", ([None, None], 1))
    if slots[top] is not fig:
        top = 1 - top
        slots = [fig, slots[1]] if top == 0 else [slots[0], fig]
    st.session_state[f"_steady_{key}"] = (slots, top)
    names = (key, f"{key}_alt")
    # one grid cell the box's full width, both charts in it; the newer one above
    box.html(f"<style>.st-key-{key}_box{{display:grid!important;grid-template-columns:minmax(0,1fr)}}"
             f".st-key-{key}_box>*{{grid-area:1/1;width:100%!important;min-width:0}}"
             f".st-key-{names[top]}{{z-index:1}}</style>")
    for name, slot in zip(names, slots):
        if slot is not None:
            box.plotly_chart(slot, key=name, config=CHART_CONFIG)


def lr_schedule(cfg: SweepConfig, group: tuple[str, float] | None, key: str) -> None:
    """lr_t under the loss and ‖w‖₂ curves (steps per epoch from the preset's split; a CSV's are estimated)."""
    n_train = DATASETS[cfg.preset].sizes(cfg.val_fraction)[0]
    st.plotly_chart(schedule_figure(cfg, n_train, group), key=f"{key}_schedule", config=CHART_CONFIG)
    st.caption("**What to look for:** lr_t, the learning rate of each step. AdamW shrinks every weight by "
               "1 − lr_t·λ per step (dotted: right axis), so its decay follows the schedule and fades with it; "
               "Adam's, SGD's and RMSprop's coupled λ is added to the gradient whatever lr_t is.")


def grokking(frame: pd.DataFrame, cfg: SweepConfig, key: str) -> None:
    """Accuracy and ‖w‖₂ by step with each λ's grok step starred; the steps themselves in a table."""
    memo_key = f"_grokfig_{key}"
    stamp = (id(frame), len(frame), cfg)
    memo = st.session_state.get(memo_key)
    if memo is not None and memo[0] == stamp and memo[2] is frame:
        fig, table = memo[1]
    else:
        # two figures in two columns: side by side on a desktop, stacked (each full width) on a phone
        fig = [grokplot.grokking_figure(frame, epochs_total=cfg.epochs, panels=(p,)) for p in ("acc", "norm")]
        table = grokplot.grok_table(frame)
        st.session_state[memo_key] = (stamp, (fig, table), frame)
    st.subheader("Grokking: memorise first, generalize later")
    for column, figure, name in zip(st.columns(2), fig, ("acc", "norm")):
        column.plotly_chart(figure, key=f"{key}_grok_{name}", config=CHART_CONFIG)
    st.caption(
        "**What to look for:** every λ fits its training set within a few dozen steps (dotted lines reach 1, ○). "
        "Validation accuracy (solid) lags far behind; then, only with weight decay, it climbs to nearly 100 % — "
        "the ★ marks the step it first reaches 90 %, on the norm too. ‖w‖₂ shoots up while the network "
        "memorises, then falls while decay pulls it towards the smaller-norm solution that generalizes; λ = 0 "
        f"keeps its large memorising weights and stays low. {grokking_rules.DEFINITION}")
    if not table.empty:
        st.dataframe(table, hide_index=True, key=f"{key}_grok_table",
                     column_config={c: st.column_config.NumberColumn(format="%.4g") for c in table.columns
                                    if c.startswith(("‖", "best", "final"))})


def curves_caption(cfg: SweepConfig) -> None:
    st.caption(
        "**What to look for:** how far each λ holds ‖w‖₂ below the λ = 0 curve (darkest), and what that costs "
        "in training loss: decay trades fitting the training set for smaller weights. Click a λ in the legend "
        "to hide it; double-click to show it alone. "
        f"Epoch 0 is the initial weights. {DEFINITIONS['l2_norm']}."
        + (" Several seeds: the line is their mean, the band their spread." if len(cfg.seeds) > 1 else ""))


def compare_at(key: str) -> str:
    """Where the summary reads each member: its best epoch (default), the final one, or the mean of the last 10 %."""
    return st.radio("Compare the λ values at", COMPARED_AT, shown_index(COMPARED_AT, f"{key}_at"), key=f"{key}_at",
                    horizontal=True, format_func=AT_LABELS.get,
                    help="Where each member's numbers are read for the summary, its table and the best-λ star: "
                         f"best epoch = {describe_at('best')}, a checkpoint's; final epoch = where training "
                         f"stopped; mean of the last 10 % = {describe_at('last')}. The curves and the CSV keep "
                         "every epoch.")


def summary(frame: pd.DataFrame, cfg: SweepConfig, key: str, tag: str = "", status: str = "done",
            epochs_done: int | None = None, laws: Sequence | None = None) -> None:
    """Metrics against λ read where the visitor compares them (compare_at: each member's best epoch by default;
    of the chosen (optimizer, lr) group of a grid, after a figure comparing every group), the best λ by
    validation loss, the table and the CSV of the whole frame. laws: the members' predictions — the table then
    gives AdamW's timescale τ in epochs."""
    group = chosen_group(cfg, key)
    whole = frame
    at = compare_at(key)
    where = describe_at(at)
    if group is not None:
        st.subheader("Across the grid: every optimizer and learning rate")
        # two figures in columns, not one of two panels: a phone stacks them, each the screen's width (squeezed
        # into one figure they got ~160 px each and their titles ran into each other)
        for column, metric in zip(st.columns(2), ("l2_norm", "val_loss")):
            column.plotly_chart(plots.grid_figure(whole, at=at, metrics=(metric,), legend=metric == "l2_norm"),
                                key=f"{key}_grid" if metric == "l2_norm" else f"{key}_grid_{metric}",
                                config=CHART_CONFIG)
        st.caption("**What to look for:** AdamW shrinks every weight by 1 − lr·λ per step, so its effective decay "
                   "grows with the learning rate; Adam's and RMSprop's coupled L2 is rescaled per weight, and "
                   "SGD's is an exact L2 penalty. Click a line in the legend to hide it. "
                   f"Each point is read {where}{trained(cfg)}.")
        frame = plots.select_group(frame, group)
    st.subheader("Across λ" + (f" ({plots.group_label(*group)})" if group else "") + f", {where}")
    best = plots.best_wd(plots.summary_frame(frame, at))
    table = plots.summary_frame(whole, at)
    if table["val_loss"].notna().any() or table["train_eval_loss"].notna().any():
        metrics = [m for m, _ in plots.SUMMARY]
        for pair in (metrics[:2], metrics[2:]):  # a 2 × 2 grid that stacks on a narrow screen
            for column, metric in zip(st.columns(2), pair):
                column.plotly_chart(plots.summary_figure(frame, height=300, metrics=(metric,), at=at),
                                    key=f"{key}_summary" if metric == metrics[0] else f"{key}_summary_{metric}",
                                    config=CHART_CONFIG)
        st.caption(
            "**What to look for:** when decay helps, the validation loss is lowest at some λ > 0 (★ marks the "
            "lowest) and the gap (val − train) narrows as λ grows while the norm falls. λ = 0 sits left of the "
            "dotted line, the axis is logarithmic to its right. "
            + (f"Best here: λ = {best:g}. " if best is not None else "")
            + f"Every number is read {where}{trained(cfg)}. Gap: {DEFINITIONS['gap']}.")
    else:
        st.warning("Nothing to compare across λ: every model diverged, so none has a value to compare. The CSV "
                   "below holds what each one logged until then.", icon=":material/warning:")
    if len(cfg.seeds) > 1:
        st.caption(f"Means over {len(cfg.seeds)} seeds (diverged members excluded).")
    show_table(table, len(cfg.seeds), f"{key}_table", grid=group is not None, at=at, tau=tau_by_group(laws or ()))
    st.download_button("Download the whole frame (CSV)" + (" — cancelled run" if status == "cancelled" else ""),
                       data=lambda: whole.to_csv(index=False).encode(),
                       file_name=download_name(cfg, tag, status, epochs_done), mime="text/csv", key=f"{key}_csv",
                       on_click="ignore", icon=":material/download:")
    with st.expander("Exact definitions"):
        for column, text in DEFINITIONS.items():
            st.markdown(f"- **{column}**: {text}")
        st.markdown("- Every number comes from `torch.optim` run on each (optimizer, lr, λ, seed) member; the CSV "
                    "has one row per member and epoch (epoch 0 = initial weights), with the per-layer norms "
                    "`l2_weight…`, `l2_bias…` (and `l2_gain…` with LayerNorm).")


def trained(cfg: SweepConfig) -> str:
    """", trained under cosine after 10 warmup epochs" when lr was scheduled; "" at a constant lr."""
    words = schedules.under(cfg)
    return f", trained {words}" if words else ""


def chosen_group(cfg: SweepConfig, key: str) -> tuple[str, float] | None:
    """The group picked in curves() (the same key), without drawing the selector again."""
    groups = [(o, lr) for o in cfg.optimizers for lr in cfg.lrs]
    if len(groups) == 1:
        return None
    i = st.session_state.get(f"{key}_group")
    return groups[i] if isinstance(i, int) and 0 <= i < len(groups) else starting_group(cfg)
