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


def curves(frame: pd.DataFrame, cfg: SweepConfig, options: ViewOptions, key: str) -> None:
    """The main figure: training loss and L2 norm side by side, one colour per λ (after the grokking view, on
    a preset that asks for it)."""
    if DATASETS[cfg.preset].view == "grokking":
        grokking(frame, cfg, key)
    # A live view reruns every poll; building the figure costs ~50 ms against ~2 ms to send it, so an
    # unchanged frame (same object, same length) reuses the figure: many watchers then leave the CPU to training.
    memo_key = f"_fig_{key}"
    stamp = (id(frame), len(frame), options, cfg)
    memo = st.session_state.get(memo_key)
    if memo is not None and memo[0] == stamp and memo[2] is frame:
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


def diverged_notes(diverged: dict) -> None:
    for (w, s), epoch in sorted(diverged.items()):
        st.warning(f"λ={w:g} (seed {s}) diverged at epoch {epoch}: its loss became infinite or NaN, so it "
                   "stopped there (✕ in the figure). The other members are unaffected.", icon=":material/warning:")


def summary(frame: pd.DataFrame, cfg: SweepConfig, key: str) -> None:
    """Final metrics against λ, the best λ by validation loss, the table and the CSV of the whole frame."""
    st.subheader("Across λ: where each run ended")
    st.plotly_chart(plots.summary_figure(frame), key=f"{key}_summary", config=CHART_CONFIG)
    table = plots.summary_frame(frame)
    best = plots.best_wd(table)
    st.caption(
        "**What to look for:** when decay helps, the validation loss is lowest at some λ > 0 (★ marks the lowest) "
        "and the gap (val − train) narrows as λ grows while the norm falls. λ = 0 sits left of the dotted line, "
        "the axis is logarithmic to its right. "
        + (f"Best here: λ = {best:g}. " if best is not None else "")
        + f"Gap: {DEFINITIONS['gap']}.")
    shown = table.drop(columns=[c for c in table if c.endswith("_std")]).rename(columns={
        "weight_decay": "λ (weight_decay)", "train_loss": "final train loss", "val_loss": "final val loss",
        "gap": "gap (val − train)", "l2_norm": "‖w‖₂", "train_acc": "train acc", "val_acc": "val acc"})
    if len(cfg.seeds) > 1:
        st.caption(f"Means over {len(cfg.seeds)} seeds (diverged members excluded).")
    st.dataframe(shown, hide_index=True, key=f"{key}_table",
                 column_config={c: st.column_config.NumberColumn(format="%.5g") for c in shown.columns
                                if c not in ("seeds", "diverged")})
    name = "wdlab_" + "_".join(f"{k}-{v}" for k, v in to_query(cfg).items() if k in ("preset", "optimizer", "epochs"))
    st.download_button("Download the whole frame (CSV)", data=lambda: frame.to_csv(index=False).encode(),
                       file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore",
                       icon=":material/download:")
    with st.expander("Exact definitions"):
        for column, text in DEFINITIONS.items():
            st.markdown(f"- **{column}**: {text}")
        st.markdown("- Every number comes from `torch.optim` run on each (λ, seed) member; the CSV has one row "
                    "per member and epoch (epoch 0 = initial weights), with the per-layer norms `l2_layer…`.")
