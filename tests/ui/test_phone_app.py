"""Issue 27, item 8 (the phone) through AppTest and the builders: words that hold at both widths, the table's
columns in reading order, the grid's figures one per panel, τ written short. The layout itself (mode bars, stacking,
the small multiples) is measured in Chromium: tests/browser/test_browser_phone.py."""
import pandas as pd
import pytest

from support import app as open_app
from support import chart_specs, finished
from wdlab.plots import curves as plots
from wdlab.plots.law_lines import tau_number, tau_text
from wdlab.ui.tables import TAU, table_view
from wdlab.ui.text import STYLE

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
SIDEBAR = "in the sidebar (» at the top left on a phone)"


def test_the_landing_page_says_where_the_settings_are_at_both_widths():
    at = open_app()
    words = " ".join([m.value for m in at.markdown] + [i.value for i in at.info])
    assert "on the left" not in words                     # a phone has no left: its sidebar hides behind »
    assert words.count(SIDEBAR) == 2                      # the intro and the note under Train


def test_the_summary_table_puts_what_the_learner_reads_right_after_lambda():
    table = pd.DataFrame({"weight_decay": [0.0, 0.1], "seeds": [2, 2], "diverged": [0, 1],
                          "train_eval_loss": [0.2, 0.3], "train_loss": [0.21, 0.31], "val_loss": [0.5, 0.4],
                          "gap": [0.3, 0.1], "l2_norm": [9.0, 3.0], "val_acc": [0.8, 0.9],
                          "train_eval_acc": [0.9, 0.92], "train_acc": [0.9, 0.91]})
    columns = list(table_view(table, 2).columns)
    assert columns[:5] == ["λ (weight_decay)", "val loss at best epoch", "‖w‖₂", "train loss at best epoch",
                           "gap (val − train)"]
    assert columns[-2:] == ["seeds", "diverged"]
    grid = table.assign(optimizer=["adam", "adamw"], lr=[0.01, 0.01])
    columns = list(table_view(grid, 2, grid=True, tau={("adamw", 0.01, 0.1): 2.5e6}).columns)
    assert columns[:5] == ["optimizer", "lr", "λ (weight_decay)", "val loss at best epoch", "‖w‖₂"]
    assert columns[-3:] == [TAU, "seeds", "diverged"]


def test_tau_is_written_short_and_the_same_in_legends_and_the_table():
    assert [tau_number(v) for v in (0.52, 3.14159, 31.4, 2500, 1e6, 12345.0)] == \
        ["0.52", "3.1", "31", "2500", "1.0e6", "1.2e4"]
    assert tau_text(1e6) == "τ 1.0e6 ep"   # was "τ 1000000 ep"
    table = pd.DataFrame({"optimizer": ["adamw"] * 2, "lr": [0.01] * 2, "weight_decay": [1e-6, 0.1],
                          "seeds": 1, "diverged": 0, "val_loss": [0.5, 0.4], "l2_norm": [9.0, 3.0]})
    shown = table_view(table, 1, grid=False, tau={("adamw", 0.01, 1e-6): 1e6, ("adamw", 0.01, 0.1): 10.0})
    assert list(shown[TAU]) == ["1.0e6", "10"]


def test_the_phone_hides_plotlys_mode_bar():
    narrow = STYLE[STYLE.index("@media (max-width: 640px)"):]
    assert ".modebar-container{display:none!important}" in narrow


def test_across_the_grid_is_two_figures_that_stack_on_a_phone():
    at = finished(open_app("?preset=moons&optimizer=adam,adamw&lr=0.001,0.01&wd=0,0.1&epochs=3&hidden=8"))
    grid = [s for s in chart_specs(at) if {t.get("name") for t in s["data"]} >= {"AdamW, lr 0.01",
                                                                                 "Adam with L2, lr 0.001"}]
    # one panel each (Streamlit's columns stack them on a phone, each the screen's width), norm then val loss
    assert [{t["meta"]["panel"] for t in s["data"]} for s in grid] == [{"l2_norm"}, {"val_loss"}]
    for spec in grid:
        assert "xaxis2" not in spec["layout"]
        assert spec["layout"]["legend"]["y"] < 0            # under the λ axis, not in the titles' way
    assert not at.exception


def test_grid_figure_keeps_one_panel_and_its_legend_below(sweep_grid):
    fig = plots.grid_figure(sweep_grid, metrics=("val_loss",))
    assert {t.meta["panel"] for t in fig.data} == {"val_loss"} and fig.layout.legend.y < 0
    assert fig.layout.height > plots.grid_figure(sweep_grid, metrics=("val_loss",), legend=False).layout.height


@pytest.fixture(scope="module")
def sweep_grid():
    from wdlab.engine.sweep import run_sweep
    from wdlab.settings.config import SweepConfig
    cfg = SweepConfig(epochs=2, weight_decays=(0.0, 0.1), hidden=(4,), optimizers=("adam", "adamw"), lrs=(0.01,))
    return run_sweep(cfg).frame


def test_the_grokking_figures_title_starts_at_the_left_and_its_table_reads_the_grok_step_first():
    from wdlab.plots.grokking import TITLES, grok_table, grokking_figure
    rows = [dict(weight_decay=w, seed=0, epoch=e, train_acc=min(1.0, e / 3), val_acc=min(1.0, e * w),
                 l2_norm=5.0 - e * w, train_loss=1.0, val_loss=1.0, diverged=False)
            for w in (0.0, 0.2) for e in range(8)]
    frame = pd.DataFrame(rows)
    acc = grokking_figure(frame, panels=("acc",))
    # a centred subplot title ran off a phone's right edge ("…train (dotte"); the layout title starts at x = 0
    assert acc.layout.title.text == TITLES["acc"] and acc.layout.title.x == 0
    assert all(a.text != TITLES["acc"] for a in acc.layout.annotations)
    columns = list(grok_table(frame).columns)
    assert columns[:4] == ["λ (weight_decay)", "val acc ≥ 90% at step", "delay (steps)", "final val acc"]
    assert columns[-1] == "seed" and max(len(c) for c in columns) <= 24   # short enough to fit a desktop


def test_landscape_cells_shrink_where_two_columns_stand_close():
    from wdlab.frame.landscape import cells
    from wdlab.plots.landscape import landscape_figure
    rows = [dict(optimizer="adamw", lr=lr, weight_decay=w, seed=0, epoch=e, val_loss=1.0 + w + e, diverged=False)
            for lr in (0.01, 0.1) for w in (0.0, 1e-3, 1e-2, 1e-1, 0.3) for e in (0, 1)]
    c = cells(pd.DataFrame(rows)).assign(lr_wd=lambda d: d.lr * d.weight_decay)
    size = landscape_figure(c, "adamw", "AdamW").data[0].marker.size
    assert 12 <= size < 26    # 0.1 and 0.3 are half a decade apart: 26 px squares overlapped on a phone
    spread = c[c.weight_decay != 0.3]
    assert landscape_figure(spread, "adamw", "AdamW").data[0].marker.size == 26
