"""The quiz's picture cards through AppTest: predict, lock in, the reveal draws the model and grades from it."""
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from wdlab.settings.config import Member
from wdlab.quiz.pictures import boundary_length, largest_miss, weight_spread
from wdlab.quiz.bank import BY_ID
from support import chart_specs

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
REVEAL = "What happened, and why"


def _quiz_script():
    from wdlab.ui.quiz_page import quiz_page
    quiz_page()


def play(sid: str, picks: list[str], timeout: float = 240) -> AppTest:
    """Open the card, predict, lock in, and rerun until the reveal is drawn (AppTest never fires run_every)."""
    at = AppTest.from_function(_quiz_script, default_timeout=120)
    at.query_params["scenario"] = sid
    at.run()
    assert not at.exception and not at.get("plotly_chart")   # nothing of the run before the prediction
    for i, pick in enumerate(picks):
        at.radio(key=f"quiz_{sid}_q{i}").set_value(pick)
    at.run()
    at.button(key="quiz_lock").click().run()
    deadline = time.monotonic() + timeout
    while not any(s.value == REVEAL for s in at.subheader):
        assert time.monotonic() < deadline, "the scenario's run was never revealed"
        time.sleep(0.2)
        at.run()
    assert not at.exception
    return at


def test_the_boundary_is_measured_on_the_plane_the_panels_draw():
    from wdlab.plots import model as plots_model
    from wdlab.quiz.pictures import plane, points
    X, _, Xv, _ = points(BY_ID["which-boundary"].config)
    xs, ys = plane(np.concatenate([X, Xv]))
    dx, dy, _ = plots_model.plane(np.concatenate([X, Xv]))
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((dx[0], dx[-1], dy[0], dy[-1]))
    assert len(xs) > len(dx)   # measured finer than drawn


def traces(at, role: str) -> list[dict]:
    """The page's Plotly traces drawn as `role` (their meta says what they are)."""
    return [t for spec in chart_specs(at) for t in spec["data"] if t.get("meta", {}).get("role") == role]


def first_seed(cfg):
    """λ -> the card's member of that λ (its one optimizer, lr and first seed: the model the pictures draw)."""
    return lambda w: Member(cfg.optimizers[0], cfg.lrs[0], w, cfg.seeds[0])


def verdicts(at) -> dict[int, str]:
    return {int(e.value[3]): e.value for e in list(at.success) + list(at.error) if e.value[:3] in ("✓ Q", "✗ Q")}


def test_which_boundary_reveal_draws_the_lettered_panels_from_the_snapshots_and_grades_them():
    sid = "which-boundary"
    card = BY_ID[sid]
    at = play(sid, ["A", "goes up", "barely changes"])
    assert any("Boundary length" in c.value and "121 × 121" in c.value for c in at.caption)   # the rule, on the page
    job = at.session_state["quiz_job0"]
    snaps, cfg = job.snapshots, card.config
    assert snaps is not None and cfg.epochs in snaps.taken()
    # measured here from the job's own snapshots: each panel's boundary length, lettered longest first
    member = first_seed(cfg)
    lengths = {w: boundary_length(cfg, snaps.params(cfg.epochs, member(w))) for w in cfg.weight_decays}
    order = sorted(lengths, key=lambda w: (-lengths[w], w))
    panels = [t["meta"] for t in traces(at, "boundary") if "letter" in t["meta"]]
    assert [p["wd"] for p in panels] == order and [p["letter"] for p in panels] == list("ABCD")
    assert [p["letter"] for p in panels if p["pick"]] == ["A"]
    target = chr(65 + order.index(0.3))
    assert next(p for p in panels if p["wd"] == 0.3)["right"]
    q1 = verdicts(at)[1]
    assert q1.startswith("✓" if target == "A" else "✗") and f"panel **{target}**" in q1
    assert f"{lengths[0.0]:.3g}" in q1
    # Q2 and Q3: two panels each, before and after, from the snapshots at the epochs read
    pairs = [t["meta"] for t in traces(at, "boundary") if "side" in t["meta"]]
    assert [(p["wd"], p["epoch"]) for p in pairs] == [(0.0, 44), (0.0, 400), (0.1, 44), (0.1, 400)]
    for p in pairs:
        assert p["length"] == pytest.approx(boundary_length(cfg, snaps.params(p["epoch"], member(p["wd"]))))
    grown = (pairs[1]["length"] - pairs[0]["length"]) / pairs[0]["length"]
    assert verdicts(at)[2].startswith("✓" if grown > 0.05 else "✗")
    answered = {m.label: int(m.value) for m in at.metric}["Answered"]
    assert answered == 3


def test_weight_spread_reveal_draws_the_histograms_it_compared():
    sid = "weight-spread"
    card = BY_ID[sid]
    at = play(sid, ["goes down", "goes up", "goes up"])
    snaps, cfg = at.session_state["quiz_job0"].snapshots, card.config
    member = first_seed(cfg)
    hists = traces(at, "hist")
    assert len(hists) == 6 and {t["meta"]["question"] for t in hists} == {0, 1, 2}
    start, end = (weight_spread(snaps.params(e, member(0.01))) for e in (0, cfg.epochs))
    q3 = verdicts(at)[3]
    assert f"{start:.3g}" in q3 and f"{end:.3g}" in q3
    assert q3.startswith("✓" if (end - start) / start > 0.05 else "✗")


def test_fit_every_point_reveal_draws_each_fitted_curve_and_names_its_largest_miss():
    sid = "fit-every-point"
    card = BY_ID[sid]
    at = play(sid, ["0", "goes down", "A"])
    snaps, cfg = at.session_state["quiz_job0"].snapshots, card.config
    member = first_seed(cfg)
    miss = {w: largest_miss(cfg, snaps.params(cfg.epochs, member(w))) for w in cfg.weight_decays}
    fits = traces(at, "fit")
    assert sorted(t["meta"]["wd"] for t in fits) == sorted(cfg.weight_decays)
    for t in fits:
        assert f"largest miss {miss[t['meta']['wd']]:.3g}" in t["name"]
    through = {f"{w:g}" for w, v in miss.items() if v <= 0.15}
    assert verdicts(at)[1].startswith("✓" if "0" in through else "✗")
    assert all(f"{v:.3g}" in verdicts(at)[1] for v in miss.values())
    assert np.isfinite(list(miss.values())).all()


def test_which_filters_reveal_draws_each_lambdas_filters_lettered_by_their_measured_roughness():
    from wdlab.plots.outputs import top_units
    from wdlab.quiz.pictures import roughness
    sid = "which-filters"
    card = BY_ID[sid]
    at = play(sid, ["B", "goes down"])
    snaps, cfg = at.session_state["quiz_job0"].snapshots, card.config
    member = first_seed(cfg)
    first = {w: snaps.params(cfg.epochs, member(w)) for w in cfg.weight_decays}
    rough = {w: roughness(cfg, p) for w, p in first.items()}
    order = sorted(rough, key=lambda w: (-rough[w], w))                        # A = the roughest
    (fig,) = traces(at, "filters")
    assert fig["meta"]["wds"] == order and fig["meta"]["letters"] == ["A", "B", "C", "D"]
    assert fig["meta"]["units"] == top_units(first[0.0][0], 6)
    right = "ABCD"[order.index(0.0)]
    assert verdicts(at)[1].startswith("✓" if right == "B" else "✗")
    assert all(f"{v:.3g}" in verdicts(at)[1] for v in rough.values())
