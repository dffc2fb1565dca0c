"""The page `wdlab view FILE` opens: a result written by `wdlab run` (WDLAB_VIEW), shown with the app's views."""
from __future__ import annotations

import os

import streamlit as st

from wdlab.cli.view import read_result
from wdlab.frame.landscape import cells
from wdlab.plots.landscape import landscape_figure
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import ConfigError
from wdlab.ui import results


@st.cache_data(show_spinner=False, max_entries=2)
def _load(path: str, stamp: float):
    return read_result(path)


def view_page() -> None:
    path = os.environ.get("WDLAB_VIEW", "")
    st.title("Result file")
    try:
        frame, archs, cfgs = _load(path, os.path.getmtime(path) if os.path.isfile(path) else 0.0)
    except ConfigError as e:
        st.error(str(e), icon=":material/error:")
        return
    i = 0
    if len(archs) > 1:
        i = st.selectbox("Architecture (hidden widths)", range(len(archs)), format_func=lambda k: str(archs[k]),
                         key="view_arch")
        frame = frame[frame.arch == archs[i]].drop(columns="arch").reset_index(drop=True)
    cfg = cfgs[i]
    st.text(f"{os.path.basename(path)}: {len(cfg.members)} members ({', '.join(cfg.optimizers)}; "
            f"{len(cfg.lrs)} learning rates, {len(cfg.weight_decays)} λ values, {len(cfg.seeds)} seeds), "
            f"{cfg.epochs} epochs")
    results.curves(frame, cfg, results.view_options("view"), "view")
    results.summary(frame, cfg, "view")
    if len(cfg.lrs) > 1:
        st.subheader("Landscape: learning rate × λ")
        metric = "val_acc" if "val_acc" in frame.columns else "val_loss"
        c = cells(frame, metric)
        rng = (float(c.value.min()), float(c.value.max()))
        for col, opt in zip(st.columns(len(cfg.optimizers)), cfg.optimizers):
            col.plotly_chart(landscape_figure(c, opt, OPTIMIZERS[opt].label, metric=metric, range_=rng),
                             key=f"view_map_{opt}", config=results.CHART_CONFIG)
