"""'Show me the code' on the page: pick a member, read (and copy) its standalone plain-PyTorch script."""
from __future__ import annotations

import math
import urllib.parse
from typing import Any

import pandas as pd
import streamlit as st

from wdlab.codegen.data import DEFAULT_FILE, plain_file_name
from wdlab.codegen.script import member_script, script_name
from wdlab.registry.datasets import DATASETS
from wdlab.settings.config import SweepConfig
from wdlab.settings.params import to_query
from wdlab.plots.curves import group_label, wd_label
from wdlab.ui.state import shown_index


def final_train_loss(frame: pd.DataFrame, w: float, s: int, optimizer: str | None = None,
                     lr: float | None = None) -> float | None:
    mask = (frame["weight_decay"] == w) & (frame["seed"] == s)
    if optimizer is not None and "optimizer" in frame:
        mask &= frame["optimizer"] == optimizer
    if lr is not None and "lr" in frame:
        mask &= frame["lr"] == lr
    rows = frame[mask]
    return float(rows.sort_values("epoch")["train_loss"].iloc[-1]) if len(rows) else None


def code_expander(cfg: SweepConfig, frame: pd.DataFrame, key: str, source: Any = None) -> None:
    """An expander holding one member's script (st.code has a copy button) and a download of it."""
    with st.expander("Show me the code: one of these models as a plain PyTorch script", icon=":material/code:"):
        if cfg.preset == "csv" and source is None:
            st.caption("The script for a table needs the table's file: upload it on this page and train again.")
            return
        opt, lr = _group(cfg, key)
        c1, c2 = st.columns(2)
        wds, seeds = list(cfg.weight_decays), list(cfg.seeds)
        w = c1.selectbox("weight_decay λ", wds, shown_index(wds, f"{key}_code_wd", len(wds) - 1),
                         key=f"{key}_code_wd", format_func=wd_label)
        s = c2.selectbox("seed", seeds, shown_index(seeds, f"{key}_code_seed"), key=f"{key}_code_seed")
        expected = final_train_loss(frame, w, s, opt, lr)
        try:
            code = member_script(cfg, w, s, csv=source, optimizer=opt, lr=lr,
                                 link=urllib.parse.urlencode(to_query(cfg), safe=","),
                                 expected=expected if expected is not None and math.isfinite(expected) else None)
        except ValueError:  # a dataset whose registry entry writes no code
            st.caption("No standalone script for this dataset yet; `wdlab run` reproduces the sweep with the "
                       "settings in the address bar.")
            return
        last = int(frame["epoch"].max()) if len(frame) else 0
        if expected is None or not math.isfinite(expected):
            note = "This model diverged here: the script shows its loss blowing up too."
        elif last < cfg.epochs:
            note = (f"This run stopped at epoch {last}; the script trains all {cfg.epochs} epochs (its epoch "
                    f"{last} prints the same training loss, {expected:.8g}).")
        else:
            note = f"It ends with `Final training loss: {expected!r}`, the final train loss of this model here."
        where = "anywhere" if source is None else "in the folder that holds your table's file" \
            if plain_file_name(source.file_name) is not None else f"in a folder holding your table's file, saved as " \
            f"{DEFAULT_FILE}"  # the script never reads a path or a URL
        name = script_name(cfg, w, s, optimizer=opt, lr=lr)
        st.caption(f"Save it and run `python {name}` ({where}; it needs torch"
                   + (", pandas and numpy" if source is not None else "")
                   + "".join(f" and {need}" for need in DATASETS[cfg.preset].code_requires)
                   + f"). It prints each epoch's training loss. {note}")
        st.code(code, language="python", line_numbers=False)
        st.download_button("Download the script", code.encode(), file_name=name,
                           mime="text/x-python", key=f"{key}_code_dl", on_click="ignore",
                           icon=":material/download:")


def _group(cfg: SweepConfig, key: str) -> tuple[str, float]:
    """The member's optimizer and lr: the sweep's own, or picked when it has several."""
    groups = [(o, lr) for o in cfg.optimizers for lr in cfg.lrs]
    if len(groups) == 1:
        return groups[0]
    i = st.selectbox("optimizer × learning rate", range(len(groups)),
                     shown_index(range(len(groups)), f"{key}_code_group"), key=f"{key}_code_group",
                     format_func=lambda i: group_label(*groups[i]))
    return groups[i]
