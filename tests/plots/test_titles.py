"""A figure's title says what it holds (issue #27, item 9): the loss panel with validation lines is not titled
"Training loss"."""
import pandas as pd

from wdlab.plots.curves import curves_figure


def _frame():
    return pd.DataFrame([dict(weight_decay=w, seed=0, epoch=e, train_loss=1.0 / (e + 1), val_loss=1.2 / (e + 1),
                              l2_norm=2.0, diverged=False) for w in (0.0, 0.1) for e in range(5)])


def test_the_loss_panel_names_validation_when_it_draws_it():
    alone = curves_figure(_frame(), panels=("train_loss",))
    both = curves_figure(_frame(), panels=("train_loss",), show_val=True)
    assert alone.layout.title.text == "Training loss (mean during each epoch)"
    # shortened from "…(solid, mean during each epoch)…", which ran off a phone's screen (issue 27, item 8)
    assert both.layout.title.text == "Loss: training (solid, epoch mean), validation (dashed)"
    assert {t.meta["role"] for t in both.data} == {"line", "val"}
    two = curves_figure(_frame(), show_val=True)
    assert [a.text for a in two.layout.annotations][:1] == [both.layout.title.text]


def test_log_axes_label_decades_only_when_they_span_one():
    frame = _frame().assign(train_loss=lambda f: 10.0 ** -f["epoch"])   # 1 … 1e-4: four decades
    fig = curves_figure(frame, panels=("train_loss",), log_y=True)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.minor.ticks == "outside"
    narrow = frame.assign(train_loss=1.0 + frame["epoch"] / 10)          # 1.0 … 1.4: within a decade
    fig = curves_figure(narrow, panels=("train_loss",), log_y=True)
    assert fig.layout.yaxis.dtick is None                                  # Plotly's own, full-number ticks
    assert curves_figure(frame, panels=("train_loss",)).layout.yaxis.dtick is None   # linear: untouched


def test_grok_step_labels_close_together_are_stacked_not_overlapping():
    from wdlab.plots.grokking import LABEL_GAP, _free_level
    placed = []
    for step in (1500, 1600, 1700, 4000):
        placed.append((step, _free_level(placed, step, LABEL_GAP * 5000)))
    assert placed == [(1500, 0), (1600, 1), (1700, 2), (4000, 0)]
