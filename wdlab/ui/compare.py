"""The "Adam+L2 vs AdamW" page: coupled against decoupled decay, explained and run side by side."""
from __future__ import annotations

import streamlit as st

from wdlab.engine.budget import validate
from wdlab.settings.reading import DEFAULT_AT, describe_at
from wdlab.plots import curves as plots
from wdlab.settings.config import SweepConfig
from wdlab.ui import live, results
from wdlab.ui.state import limits, shown
from wdlab.ui.text import note

# The ready-made comparison: the course's data and net, the same λ grid, only the optimizer differs.
READY = SweepConfig(preset="tutorial", optimizers=("adam",), lrs=(0.01,), epochs=100,
                    weight_decays=(0.0, 1e-3, 1e-2, 1e-1, 1.0))
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
    with st.sidebar:
        st.header("Comparison")
        st.session_state.setdefault("cmp_epochs", READY.epochs)  # defaults via state: other pages may preset them
        st.session_state.setdefault("cmp_lr", READY.lr)
        epochs = st.number_input("epochs", min_value=1, value=shown("cmp_epochs"), step=50, key="cmp_epochs",
                                 help=f"1 to {lim.max_epochs}")
        lr = st.select_slider("learning rate", options=(0.001, 0.003, 0.01, 0.03), value=shown("cmp_lr"), key="cmp_lr")
    base = READY.replace(epochs=int(epochs), lrs=(lr,))
    configs = {"Adam with L2": base, "AdamW": base.replace(optimizers=("adamw",))}
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
        frames = {name: j.snapshot().frame for name, j in zip(configs, jobs)}
        for i, (column, metric) in enumerate(zip(st.columns(2), ("l2_norm", "val_loss"))):  # stacks on a phone
            column.plotly_chart(plots.compare_figure(frames, metrics=(metric,)),
                                key="cmp_summary" if i == 0 else f"cmp_summary_{metric}", config=results.CHART_CONFIG)
        st.caption("**What to look for:** the same λ does not give the same norm. With Adam + L2, λ·w joins the "
                   "gradient and Adam then normalises the sum: once λ·w dominates a weight's gradient, that weight "
                   "moves toward 0 by about lr per step, however small λ is. AdamW multiplies every weight by "
                   "(1 − lr·λ) per step, a pull of the same strength for all weights that needs a larger λ for "
                   "the same effect (lr = 0.01, λ = 0.1: 0.1 % per step). Each point is read "
                   f"{describe_at(DEFAULT_AT)}.")
    else:
        st.caption("Appears when both sweeps have finished.")
    options = results.view_options("cmp", len(base.seeds))
    slots = tuple(f"cmp_job{i}" for i in range(len(configs)))
    st.caption("Both runs' figures share their y-scales, so their curves compare at a glance.")
    for i, name in enumerate(configs):
        st.subheader(f"{name}: training loss and ‖w‖₂")
        live.job_view(slots[i], key=f"cmp{i}", options=options, with_summary=False, shared=slots, pictures=True)
