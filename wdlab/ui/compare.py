"""The "Adam+L2 vs AdamW" page: coupled against decoupled decay, explained and run side by side."""
from __future__ import annotations

import math

import streamlit as st

from wdlab.engine.budget import validate
from wdlab.settings.reading import DEFAULT_AT, describe_at
from wdlab.plots import curves as plots
from wdlab.plots import headtohead as h2h
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig, preset_config
from wdlab.ui import live, results
from wdlab.ui.state import limits, shown
from wdlab.ui.quiz_page import describe
from wdlab.ui.text import note

# The ready-made comparison: two moons (a validation loss that means something, unlike the course's pure noise),
# the preset's net, two learning rates (so that equal λ and equal lr·λ differ), the same λ grid; only the
# optimizer differs between the two runs.
READY = preset_config("moons").replace(optimizers=("adam",), lrs=(0.001, 0.01),
                                       weight_decays=(0.0, 1e-3, 1e-2, 1e-1, 1.0))
LRS = (0.001, 0.003, 0.01, 0.03, 0.1)
WDS = (0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
LABELS = {name: OPTIMIZERS[name].label for name in ("adam", "adamw")}
EXPLAIN = r"""
Both use the same Adam step; they differ in **where λ enters**.

* **Adam with L2** (`torch.optim.Adam(weight_decay=λ)`, *coupled*): the decay is added to the gradient,
  $g \leftarrow g + \lambda w$, *before* Adam divides by $\sqrt{\hat v}+\epsilon$. Weights with large
  gradients get a large $\hat v$, so their decay is scaled down: they decay **less**.
* **AdamW** (`torch.optim.AdamW(weight_decay=λ)`, *decoupled*): the weights shrink directly,
  $w \leftarrow w\,(1 - \text{lr}\cdot\lambda)$, then the plain Adam step runs. Every weight decays at the
  same rate whatever its gradient.

So the same λ does not mean the same regularization: compare the norms below. For plain SGD the two
forms are exactly the same update, $w - \text{lr}\,(g + \lambda w) = w\,(1 - \text{lr}\cdot\lambda) - \text{lr}\,g$,
which is why the difference was only noticed with Adam (Loshchilov & Hutter, *Decoupled Weight Decay
Regularization*, 2019).
"""


def compare_page() -> None:
    st.title("Adam with L2 vs AdamW")
    st.markdown(EXPLAIN)
    lim = limits()
    base = _settings(lim)
    configs = {LABELS["adam"]: base, LABELS["adamw"]: base.replace(optimizers=("adamw",))}
    st.caption(f"**What this trains:** {describe(base).replace(LABELS['adam'], 'each optimizer')} — twice, once "
               f"with {LABELS['adam']} and once with {LABELS['adamw']}; nothing else differs (the same data, "
               "initial weights and batches). " + DATASETS[base.preset].description)
    try:
        for cfg in configs.values():
            validate(cfg, lim)
    except Exception as e:  # ConfigError: say what is allowed, run nothing
        note("error", str(e))
        return
    for i, (name, cfg) in enumerate(configs.items()):
        slot = f"cmp_job{i}"
        held = st.session_state.get(slot)
        if held is None or held.cfg != cfg:  # the ready-made pair starts by itself; visitors share it
            live.start(cfg, slot=slot)
    st.subheader("Norm and validation loss against λ")
    jobs = [st.session_state.get(f"cmp_job{i}") for i in range(len(configs))]
    if all(j is not None and j.snapshot().status == "done" for j in jobs):
        _head_to_head({name: j.snapshot().frame for name, j in zip(configs, jobs)}, base)
    else:
        st.caption("Appears when both sweeps have finished.")
    options = results.view_options("cmp", len(base.seeds))
    slots = tuple(f"cmp_job{i}" for i in range(len(configs)))
    st.caption("Both runs' figures share their y-scales, so their curves compare at a glance.")
    for i, name in enumerate(configs):
        st.subheader(f"{name}: training loss and ‖w‖₂")
        live.job_view(slots[i], key=f"cmp{i}", options=options, with_summary=False, shared=slots, pictures=True)


def _settings(lim) -> SweepConfig:
    """The sidebar: dataset, epochs, learning rates and λ values; both runs take them."""
    presets = [n for n in DATASETS if n != "csv"]
    with st.sidebar:
        st.header("Comparison")
        st.session_state.setdefault("cmp_preset", READY.preset)  # defaults via state: other pages may preset them
        preset = st.selectbox("dataset", presets, format_func=lambda n: DATASETS[n].title, key="cmp_preset",
                              index=presets.index(shown("cmp_preset", READY.preset)))
        own = preset_config(preset)
        st.session_state.setdefault("cmp_epochs", READY.epochs)
        epochs = st.number_input("epochs", min_value=1, value=shown("cmp_epochs"), step=50, key="cmp_epochs",
                                 help=f"1 to {lim.max_epochs}" if math.isfinite(lim.max_epochs) else "1 or more")
        st.session_state.setdefault("cmp_lrs", list(READY.lrs))
        lrs = st.multiselect("learning rates", LRS, default=shown("cmp_lrs"), key="cmp_lrs", format_func="{:g}".format,
                             help="Two or more tell equal λ from equal lr·λ apart.")
        st.session_state.setdefault("cmp_wds", list(READY.weight_decays))
        wds = st.multiselect("λ values", WDS, default=shown("cmp_wds"), key="cmp_wds", format_func="{:g}".format)
    return own.replace(optimizers=("adam",), lrs=tuple(sorted(lrs)) or READY.lrs, epochs=int(epochs),
                       weight_decays=tuple(sorted(wds)) or READY.weight_decays, seeds=own.seeds[:1])


def _head_to_head(frames: dict, base: SweepConfig) -> None:
    """Both optimizers on one chart: at equal λ, at equal lr·λ, and by epoch at one λ; in words under each."""
    rows = h2h.table(frames, DEFAULT_AT)
    where = f"Each point is read {describe_at(DEFAULT_AT)}, the mean over seeds."
    for column, metric in zip(st.columns(2), ("l2_norm", "val_loss")):  # stacks on a phone
        column.plotly_chart(h2h.against_figure(rows, metric, "weight_decay"), config=results.CHART_CONFIG,
                            key="cmp_summary" if metric == "l2_norm" else "cmp_summary_val_loss")
    st.markdown("**At equal λ.** " + " ".join(h2h.equal_wd_words(rows, LABELS)))
    st.caption("**What to look for:** the same λ does not give the same norm. With Adam + L2, λ·w joins the "
               "gradient and Adam then normalises the sum: once λ·w dominates a weight's gradient, that weight "
               "moves toward 0 by about lr per step, however small λ is. AdamW multiplies every weight by "
               "(1 − lr·λ) per step, a pull of the same strength for all weights. " + where)
    for column, metric in zip(st.columns(2), ("l2_norm", "val_loss")):
        column.plotly_chart(h2h.against_figure(rows, metric, "lr_wd"), config=results.CHART_CONFIG,
                            key=f"cmp_prod_{metric}")
    st.markdown("**At equal lr·λ.** " + " ".join(h2h.equal_lr_wd_words(rows, LABELS)))
    st.caption("**What to look for:** lr·λ is the fraction AdamW takes off every weight per step; if a curve's "
               "learning rates line up here rather than above, its decay depends on lr·λ, not on λ alone. " + where)
    wds = [w for w in base.weight_decays if w > 0] or list(base.weight_decays)
    c1, c2 = st.columns(2)
    wd = c1.selectbox("λ", wds, index=wds.index(shown("cmp_epoch_wd", wds[len(wds) // 2]))
                      if shown("cmp_epoch_wd", wds[len(wds) // 2]) in wds else 0, key="cmp_epoch_wd",
                      format_func=lambda w: f"λ = {w:g}")
    metric = c2.radio("curve", ("l2_norm", "val_loss"), format_func=h2h.TITLES.get, horizontal=True,
                      key="cmp_epoch_metric")
    st.plotly_chart(h2h.epochs_figure(frames, wd, metric), config=results.CHART_CONFIG, key="cmp_epochs_chart")
