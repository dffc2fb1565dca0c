"""Drawing a sweep's frame: the main figure, diverged notes, the summary across λ, the table and the CSV."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from .. import grokking as grokking_rules
from .. import grokplot, plots
from ..config import SweepConfig
from ..data import DATASETS
from ..metrics import DEFINITIONS
from ..params import to_query
from .state import shown, shown_index

CHART_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class ViewOptions:
    log_y: bool = False
    show_val: bool = False
    band: str = "minmax"     # minmax | std


def view_options(key: str) -> ViewOptions:
    """The figure's display toggles (they change the drawing, never the training)."""
    c1, c2, c3 = st.columns([1, 1, 2])
    log_y = c1.toggle("log y-axis", shown(f"{key}_log_y", False), key=f"{key}_log_y")
    show_val = c2.toggle("validation loss (dashed)", shown(f"{key}_show_val", False), key=f"{key}_show_val")
    band = c3.radio("band over seeds", ("minmax", "std"), shown_index(("minmax", "std"), f"{key}_band"),
                    key=f"{key}_band", horizontal=True,
                    format_func={"minmax": "min–max", "std": "±1 std"}.get,
                    help="With several seeds each λ is drawn as the mean over seeds with this band around it.")
    return ViewOptions(log_y, show_val, band)


def group_choice(cfg: SweepConfig, key: str) -> tuple[str, float] | None:
    """With several optimizers or learning rates: which (optimizer, lr) group the figures show."""
    groups = [(o, lr) for o in cfg.optimizers for lr in cfg.lrs]
    if len(groups) == 1:
        return None
    i = st.selectbox("Show optimizer × learning rate", range(len(groups)), shown_index(range(len(groups)),
                     f"{key}_group"), key=f"{key}_group", format_func=lambda i: plots.group_label(*groups[i]),
                     help="The curves and the summary across λ show one group of the grid; the figure below "
                          "them compares every group.")
    return groups[i]


def curves(frame: pd.DataFrame, cfg: SweepConfig, options: ViewOptions, key: str) -> None:
    """The main figure: training loss and L2 norm side by side, one colour per λ (of one (optimizer, lr)
    group when the sweep has several; after the grokking view, on a preset that asks for it)."""
    group = group_choice(cfg, key)
    if group is not None and not frame.empty:
        frame = plots.select_group(frame, group)
    if DATASETS[cfg.preset].view == "grokking":
        grokking(frame, cfg, key)
    # A live view reruns every poll; building the figure costs ~50 ms against ~2 ms to send it, so an
    # unchanged frame (same object, same length) reuses the figure: many watchers then leave the CPU to training.
    memo_key = f"_fig_{key}"
    stamp = (id(frame), len(frame), options, cfg, group)
    memo = st.session_state.get(memo_key)
    if memo is not None and memo[0] == stamp and (group is not None or memo[2] is frame):
        fig = memo[1]
    else:
        fig = plots.curves_figure(frame, log_y=options.log_y, show_val=options.show_val, band=options.band,
                                  epochs_total=cfg.epochs)
        st.session_state[memo_key] = (stamp, fig, frame)
    st.plotly_chart(fig, key=f"{key}_curves", config=CHART_CONFIG)


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
        "to hide it in both panels; double-click to show it alone. "
        f"Epoch 0 is the initial weights. {DEFINITIONS['l2_norm']}."
        + (" Several seeds: the line is their mean, the band their spread." if len(cfg.seeds) > 1 else ""))


def diverged_notes(diverged: dict, cfg: SweepConfig | None = None) -> None:
    grid = cfg is not None and len(cfg.optimizers) * len(cfg.lrs) > 1
    for (o, lr, w, s), epoch in sorted(diverged.items()):
        which = f"{plots.group_label(o, lr)}, " if grid else ""
        st.warning(f"{which}λ={w:g} (seed {s}) diverged at epoch {epoch}: its loss became infinite or NaN, so it "
                   "stopped there (✕ in the figure). The other members are unaffected.", icon=":material/warning:")


def summary(frame: pd.DataFrame, cfg: SweepConfig, key: str) -> None:
    """Final metrics against λ, the best λ by validation loss, the table and the CSV of the whole frame."""
    group = _chosen(cfg, key)
    whole = frame
    if group is not None:
        st.subheader("Across the grid: every optimizer and learning rate")
        st.plotly_chart(plots.grid_figure(frame), key=f"{key}_grid", config=CHART_CONFIG)
        st.caption("**What to look for:** AdamW shrinks every weight by 1 − lr·λ per step, so its effective decay "
                   "grows with the learning rate; Adam's and RMSprop's coupled L2 is rescaled per weight, and "
                   "SGD's is an exact L2 penalty. Click a line in the legend to hide it.")
        frame = plots.select_group(frame, group)
    st.subheader("Across λ: where each run ended" + (f" ({plots.group_label(*group)})" if group else ""))
    st.plotly_chart(plots.summary_figure(frame), key=f"{key}_summary", config=CHART_CONFIG)
    best = plots.best_wd(plots.summary_frame(frame))
    table = plots.summary_frame(whole)
    st.caption(
        "**What to look for:** when decay helps, the validation loss is lowest at some λ > 0 (★ marks the lowest) "
        "and the gap (val − train) narrows as λ grows while the norm falls. λ = 0 sits left of the dotted line, "
        "the axis is logarithmic to its right. "
        + (f"Best here: λ = {best:g}. " if best is not None else "")
        + f"Gap: {DEFINITIONS['gap']}.")
    drop = [c for c in table if c.endswith("_std") or c in ("train_loss", "train_acc")]
    if group is None:
        drop += ["optimizer", "lr"]
    shown = table.drop(columns=drop).rename(columns={
        "weight_decay": "λ (weight_decay)", "train_eval_loss": "final train loss", "val_loss": "final val loss",
        "gap": "gap (val − train)", "l2_norm": "‖w‖₂", "train_eval_acc": "train acc", "val_acc": "val acc"})
    if len(cfg.seeds) > 1:
        st.caption(f"Means over {len(cfg.seeds)} seeds (diverged members excluded).")
    st.dataframe(shown, hide_index=True, key=f"{key}_table",
                 column_config={c: st.column_config.NumberColumn(format="%.5g") for c in shown.columns
                                if c not in ("seeds", "diverged", "optimizer")})
    name = "wdlab_" + "_".join(f"{k}-{v}" for k, v in to_query(cfg).items() if k in ("preset", "optimizer", "epochs"))
    st.download_button("Download the whole frame (CSV)", data=lambda: whole.to_csv(index=False).encode(),
                       file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore",
                       icon=":material/download:")
    with st.expander("Exact definitions"):
        for column, text in DEFINITIONS.items():
            st.markdown(f"- **{column}**: {text}")
        st.markdown("- Every number comes from `torch.optim` run on each (optimizer, lr, λ, seed) member; the CSV "
                    "has one row per member and epoch (epoch 0 = initial weights), with the per-layer norms "
                    "`l2_weight…`, `l2_bias…` (and `l2_gain…` with LayerNorm).")


def _chosen(cfg: SweepConfig, key: str) -> tuple[str, float] | None:
    """The group picked in curves() (the same key), without drawing the selector again."""
    groups = [(o, lr) for o in cfg.optimizers for lr in cfg.lrs]
    if len(groups) == 1:
        return None
    i = st.session_state.get(f"{key}_group", 0)
    return groups[i if isinstance(i, int) and 0 <= i < len(groups) else 0]
