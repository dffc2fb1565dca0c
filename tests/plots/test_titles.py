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
    assert both.layout.title.text == "Loss: training (solid, mean during each epoch), validation (dashed)"
    assert {t.meta["role"] for t in both.data} == {"line", "val"}
    two = curves_figure(_frame(), show_val=True)
    assert [a.text for a in two.layout.annotations][:1] == [both.layout.title.text]
