"""Adam with L2 against AdamW overlaid (plots.headtohead): one line per (optimizer, lr), at equal λ or lr·λ, and
the words computed from the numbers."""
import pandas as pd

from wdlab.plots import headtohead as h2h

LABELS = {"adam": "Adam with L2", "adamw": "AdamW"}


def rows(norm) -> pd.DataFrame:
    """A summary row per (optimizer, lr, λ) with ‖w‖₂ = norm(optimizer, lr, λ)."""
    out = [dict(optimizer=o, lr=lr, weight_decay=w, l2_norm=norm(o, lr, w), val_loss=1.0 + w)
           for o in ("adam", "adamw") for lr in (0.001, 0.01) for w in (0.0, 0.01, 0.1, 1.0)]
    frame = pd.DataFrame(out)
    return frame.assign(lr_wd=frame["lr"] * frame["weight_decay"])


def test_against_lambda_or_lr_times_lambda_one_line_per_group_coloured_by_optimizer():
    r = rows(lambda o, lr, w: 10.0 / (1 + w))
    for x in ("weight_decay", "lr_wd"):
        fig = h2h.against_figure(r, "l2_norm", x)
        names = [t.name for t in fig.data]
        assert names == ["Adam with L2, lr 0.001", "Adam with L2, lr 0.01", "AdamW, lr 0.001", "AdamW, lr 0.01"]
        assert len({t.line.color for t in fig.data}) == 2 and {t.meta["x"] for t in fig.data} == {x}
    assert "equal lr·λ" in h2h.against_figure(r, "l2_norm", "lr_wd").layout.title.text


def test_words_say_which_optimizer_holds_the_norm_lower_and_which_product_it_follows():
    # AdamW's norm depends on lr·λ only, Adam's on λ only: the words must say so
    r = rows(lambda o, lr, w: 10.0 / (1 + 100 * (lr * w if o == "adamw" else w)))
    lines = h2h.equal_lr_wd_words(r, LABELS)
    assert lines[0].startswith("Adam with L2:") and lines[0].endswith("its decay follows λ.")
    assert lines[1].startswith("AdamW:") and lines[1].endswith("its decay follows lr·λ.")
    words = " ".join(h2h.equal_wd_words(r, LABELS))
    assert "lower with Adam with L2 at 3 of 3 λ > 0" in words and "Lowest validation loss" in words
    same = rows(lambda o, lr, w: 5.0)
    assert all("do not tell" in line for line in h2h.equal_lr_wd_words(same, LABELS))
    one_lr = r[r["lr"] == 0.01]
    assert "add a second learning rate" in h2h.equal_lr_wd_words(one_lr, LABELS)[0]
