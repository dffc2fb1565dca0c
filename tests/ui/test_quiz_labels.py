"""The which-curve reveal's labels fit beside the plot (issue #27, item 9: "C ← your pick" was clipped)."""
import pandas as pd

from wdlab.quiz.cards import Outcome, WhichCurve
from wdlab.ui.quiz_reveal import RIGHT, curve_figure


def test_the_picked_letter_and_your_pick_fit_in_the_right_margin():
    q = WhichCurve("l2_norm", 0.1, (0.0, 0.1, 1.0))
    frame = pd.DataFrame([dict(weight_decay=w, seed=0, epoch=e, l2_norm=5.0 / (1 + w * e))
                          for w in q.weight_decays for e in range(20)])
    o = Outcome(q, "graded", frozenset({"B"}), "B", {f"λ = {w:g}": 5.0 / (1 + w * 19) for w in q.weight_decays})
    fig = curve_figure(q, o, "C", frame)
    notes = {a.name: a for a in fig.layout.annotations}
    pick = notes["pick"].text.split("<br>")
    assert pick == ["<b>C</b>", "your pick"] and notes["pick"].xanchor == "left"
    # every label line fits in the margin at 13-14 px type (about 8 px a character, plus the 6 px shift)
    longest = max(len(line.replace("<b>", "").replace("</b>", "")) for a in fig.layout.annotations
                  for line in a.text.split("<br>"))
    assert 6 + 8 * longest <= RIGHT == fig.layout.margin.r
