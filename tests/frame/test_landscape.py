"""The landscape's numbers: cells averaged over seeds, the best λ per lr, the best share, how far it moves."""
import math

import numpy as np
import pandas as pd
import pytest

from wdlab.frame.landscape import best_per_lr, cells, movement, sentence, summary_lines, top_cells

LRS, WDS, SEEDS = (0.001, 0.01, 0.1), (0.0, 1e-3, 1e-2, 1e-1), (0, 1)


def synthetic(best_wd) -> pd.DataFrame:
    """A frame whose val_loss is lowest at λ = best_wd(optimizer, lr); seed 1 adds 0.01; over epochs 0–3 each
    member's loss is base + 0.3, 0.2, 0 (its best epoch), 0.05 (its final one)."""
    rows = []
    for opt in ("adam", "adamw"):
        for lr in LRS:
            for w in WDS:
                for s in SEEDS:
                    target = best_wd(opt, lr)
                    base = abs(math.log10(w + 1e-6) - math.log10(target + 1e-6)) + 0.01 * s
                    for e in range(4):
                        rows.append(dict(optimizer=opt, lr=lr, weight_decay=w, seed=s, epoch=e,
                                         val_loss=base + (0.3, 0.2, 0.0, 0.05)[e], diverged=False))
    return pd.DataFrame(rows)


def coupled(opt, lr):  # Adam+L2's best λ moves with lr; AdamW's stays
    return {0.001: 1e-1, 0.01: 1e-2, 0.1: 1e-3}[lr] if opt == "adam" else 1e-2


def test_cells_average_seeds_at_each_members_best_epoch_or_final():
    f = synthetic(coupled)
    c = cells(f, "val_loss", "best")
    assert len(c) == 2 * len(LRS) * len(WDS) and set(c.seeds) == {2}
    one = c[(c.optimizer == "adamw") & (c.lr == 0.01) & (c.weight_decay == 1e-2)].value.item()
    assert one == pytest.approx((0.0 + 0.01) / 2)                     # epoch 2, mean of the two seeds
    final = cells(f, "val_loss", "final")
    assert np.allclose(final.value - c.value, 0.05)                  # epoch 3
    assert np.allclose(c.lr_wd, c.lr * c.weight_decay)


def test_best_per_lr_and_how_far_it_moves():
    best = best_per_lr(cells(synthetic(coupled)))
    adam = best[best.optimizer == "adam"].set_index("lr").weight_decay.to_dict()
    assert adam == {0.001: 1e-1, 0.01: 1e-2, 0.1: 1e-3}
    moves = movement(best)
    assert moves["adam"]["factor"] == pytest.approx(100) and moves["adamw"]["factor"] == pytest.approx(1)
    in_lr_wd = movement(best, "lr_wd")
    assert in_lr_wd["adam"]["factor"] == pytest.approx(1) and in_lr_wd["adamw"]["factor"] == pytest.approx(100)
    assert "moved ×100" in sentence("Adam+L2", moves["adam"]) and "barely moved" in sentence("AdamW", moves["adamw"])


def test_a_best_lambda_of_zero_is_named_not_multiplied():
    best = best_per_lr(cells(synthetic(lambda o, lr: 0.0 if lr == 0.1 else 1e-2)))
    m = movement(best)["adam"]
    assert m["factor"] is None and m["zero_at"] == [0.1]
    assert "is 0 (no decay) at lr 0.1" in sentence("Adam+L2", m)


def test_diverged_members_count_as_the_worst_value():
    f = synthetic(coupled)
    bad = (f.optimizer == "adam") & (f.lr == 0.1) & (f.weight_decay == 1e-3) & (f.seed == 0)
    f.loc[bad & (f.epoch >= 2), "val_loss"] = float("inf")
    f = f[~(bad & (f.epoch == 3))]
    f.loc[bad & (f.epoch == 2), "diverged"] = True
    c = cells(f, which="final")
    healthy = synthetic(coupled)
    worst = healthy[healthy.epoch == 3].val_loss.max()   # the map's worst member stands in for the diverged one
    cell = c[(c.optimizer == "adam") & (c.lr == 0.1) & (c.weight_decay == 1e-3)].value.item()
    assert cell == pytest.approx((worst + (0.01 + 0.05)) / 2)   # seed 0 scored worst, seed 1 as it ended
    assert best_per_lr(c).set_index(["optimizer", "lr"]).loc[("adam", 0.1)].weight_decay != 1e-3


def test_top_cells_are_the_best_tenth_of_each_map_and_summary_lines_name_both_units():
    c = cells(synthetic(coupled))
    top = top_cells(c)
    assert top.groupby("optimizer").size().tolist() == [2, 2]   # ceil(10 % of 12)
    lines = summary_lines(synthetic(coupled), {"adam": "Adam+L2", "adamw": "AdamW"})
    assert lines[0].startswith("best λ by val_loss read at each member's best epoch") and len(lines) == 1 + 6 + 2
    assert lines[-2].startswith("in λ:") and lines[-1].startswith("in lr·λ:")


def test_each_map_draws_one_square_cell_per_lr_and_lambda_with_the_best_starred_and_outlined():
    from wdlab.plots.landscape import landscape_figure
    c = cells(synthetic(coupled))
    fig = landscape_figure(c, "adam", "Adam+L2", range_=(c.value.min(), c.value.max()), selected=("adam", 0.01, 1e-2))
    roles = {t.meta["role"]: t for t in fig.data}
    cell = roles["cells"]
    assert cell.marker.symbol == "square" and len(cell.x) == len(LRS) * len(WDS)
    assert sorted({tuple(d) for d in cell.customdata}) == sorted((("adam", lr, w) for lr in LRS for w in WDS))
    assert sum(w == 3 for w in cell.marker.line.width) == 2            # the best 10 % of this optimizer's map
    best = c[c.optimizer == "adam"].sort_values("value").iloc[0]
    assert list(roles["best"].y) == [best.lr]
    ticks = dict(zip(fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext))
    assert ticks[min(ticks)] == "0" and len(ticks) == len(WDS)           # λ = 0 as its own column
    assert list(roles["best_per_lr"].y) == sorted(LRS) and "selected" in roles
    lrwd = landscape_figure(c, "adamw", "AdamW", axis="lr_wd")
    assert len(set(lrwd.data[0].x)) > len(WDS)                           # lr·λ differs along each row


def test_the_halve_the_lr_question_reads_the_best_lambda_off_the_map():
    from wdlab.quiz.cards import grade
    from wdlab.quiz.bank import BY_ID
    card = BY_ID["landscape-halve-lr"]
    best = {("adam", 0.01): 1e-2, ("adam", 0.02): 1e-2, ("adamw", 0.01): 1e-1, ("adamw", 0.02): 1e-2}
    rows = [dict(optimizer=o, lr=lr, weight_decay=w, seed=0, epoch=e, diverged=False,
                 val_loss=1 + abs(math.log10(w + 1e-6) - math.log10(best[o, lr] + 1e-6)) - e / 1000)
            for (o, lr) in best for w in card.config.weight_decays for e in (0, card.config.epochs)]
    adam, adamw = grade(card, pd.DataFrame(rows))
    assert adam.answer == "stays" and adamw.answer == "moves up"      # a larger λ is best at the halved lr
    assert "at lr 0.01 it was 0.1" in adamw.facts[0]


def test_tau_in_epochs_is_one_over_lr_lambda_steps_and_a_map_axis_with_lambda_zero_at_infinity():
    from wdlab.frame.landscape import with_tau
    from wdlab.plots.landscape import landscape_figure
    c = with_tau(cells(synthetic(coupled)), steps_per_epoch=4)
    row = c[(c.optimizer == "adamw") & (c.lr == 0.01) & (c.weight_decay == 0.1)].iloc[0]
    assert row.tau_epochs == pytest.approx(1 / (0.01 * 0.1 * 4))                  # 250 epochs
    assert (c[c.weight_decay == 0].tau_epochs == math.inf).all()
    fig = landscape_figure(c, "adamw", "AdamW", axis="tau_epochs", selected=("adamw", 0.01, 0.1))
    cell = next(t for t in fig.data if t.meta["role"] == "cells")
    ticks = dict(zip(fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext))
    assert ticks[max(ticks)] == "∞ (λ = 0)" and "τ = 1/(lr·λ) in epochs" in fig.layout.xaxis.title.text
    at = [x for x, d in zip(cell.x, cell.customdata) if tuple(d) == ("adamw", 0.01, 0.1)][0]
    assert at == pytest.approx(math.log10(250))
    assert "τ 250 epochs" in cell.text and "%{text}" in cell.hovertemplate
    selected = next(t for t in fig.data if t.meta["role"] == "selected")
    assert list(selected.x) == [pytest.approx(math.log10(250))]
    adam = landscape_figure(c, "adam", "Adam+L2", axis="tau_epochs")
    assert "only for decoupled decay" in adam.layout.xaxis.title.text                   # coupled: no timescale
    assert landscape_figure(c, "adamw", "AdamW").data[0].text is None                     # λ axis: no τ hover


def test_the_best_lambda_per_lr_is_a_white_line_on_a_dark_edge_with_a_marker_per_lr():
    from wdlab.plots.landscape import landscape_figure
    c = cells(synthetic(coupled))
    fig = landscape_figure(c, "adam", "Adam+L2")
    roles = {t.meta["role"]: t for t in fig.data}
    edge, line = roles["best_per_lr_edge"], roles["best_per_lr"]
    assert list(edge.x) == list(line.x) and list(edge.y) == list(line.y) == sorted(LRS)
    assert edge.line.color == "#111" and edge.line.width > line.line.width and line.line.color == "white"
    assert line.mode == "lines+markers" and line.line.dash is None           # solid, not the faint dotted line
    assert [t.meta["role"] for t in fig.data].index("best_per_lr_edge") < [t.meta["role"] for t in fig.data].index(
        "best_per_lr")                                                       # the edge under the line


def test_the_pages_summary_is_one_plain_line_per_optimizer():
    from wdlab.frame.landscape import plain_line, trend
    best = best_per_lr(cells(synthetic(coupled)))
    adam = plain_line("Adam+L2", best[best.optimizer == "adam"])
    assert adam == ("Adam+L2: best λ 0.1 at lr 0.001, then 0.01 at lr 0.01, then 0.001 at lr 0.1 — it fell ×100 as "
                    "the lr grew; as lr·λ (0.0001 → 0.0001) it stayed the same.")
    zeros = best_per_lr(cells(synthetic(lambda o, lr: 0.0 if lr < 0.1 else 1e-2)))
    assert plain_line("AdamW", zeros[zeros.optimizer == "adamw"]).startswith(
        "AdamW: best λ 0 at lr 0.001 and 0.01, then 0.01 at lr 0.1 — it grew from 0 as the lr grew")
    assert [trend(v) for v in ([1.0, 1.2], [0.1, 0.0], [2.0, 60.0], [3.0])] == \
        ["barely moved (×1.2)", "fell to 0", "grew ×30", "had one lr only"]
