"""The Quiz page through AppTest: predict, lock in, the reveal graded from the run shown, score, links, bad links."""
import json
import re
import time
import urllib.parse

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.quiz import bank as scenarios
from wdlab.settings.params import from_query
from wdlab.quiz.bank import BANK, BY_ID, next_scenario
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
REVEAL = "What happened, and why"


def _quiz_script():
    from wdlab.ui.quiz_page import quiz_page
    quiz_page()


def quiz(scenario: str | None = None) -> AppTest:
    at = AppTest.from_function(_quiz_script, default_timeout=60)
    if scenario is not None:
        at.query_params["scenario"] = scenario
    return at.run()


def radios(at: AppTest, sid: str) -> list:
    return [at.radio(key=f"quiz_{sid}_q{i}") for i in range(len(scenarios.BY_ID[sid].questions))]


def lock_in(at: AppTest, sid: str, picks: list[str]) -> AppTest:
    for radio, pick in zip(radios(at, sid), picks):
        radio.set_value(pick)
    at.run()
    assert not at.button(key="quiz_lock").disabled
    return at.button(key="quiz_lock").click().run()


def revealed(at: AppTest, timeout: float = 120) -> AppTest:
    """AppTest never fires run_every: rerun until the reveal is drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.value == REVEAL for s in at.subheader):
            return at
        time.sleep(0.1)
        at.run()
    raise AssertionError("the scenario's run was never revealed")


def final(frame, w: float, metric: str, at: str = "final") -> float:
    """Read here independently of the grader, where the card reads it: the last epoch's value at λ = w ("final"), or
    each seed's epoch of lowest validation loss after epoch 0 ("best"), averaged over seeds."""
    rows = frame[frame.weight_decay == w]
    if at == "best":
        rows = rows[rows.epoch > 0]
        return float(rows.loc[rows.groupby("seed")["val_loss"].idxmin(), metric].mean())
    assert at == "final", at
    last = rows[rows.epoch == frame.epoch.max()]
    return float(last[metric].mean())


def expected_direction(a: float, b: float) -> str:
    r = (b - a) / abs(a)
    return "barely changes" if abs(r) <= 0.05 else ("goes up" if r > 0 else "goes down")


def metrics(at: AppTest) -> dict[str, int]:
    return {m.label: int(m.value) for m in at.metric}


def test_answer_a_scenario_see_the_grade_and_explanation_and_the_score_updates():
    sid = "adamw-how-big"   # three direction questions: λ 0 → 0.01 (norm, val loss), 0 → 3 (val loss)
    on = BY_ID[sid].at   # where the card reads its numbers
    at = quiz(sid)
    assert not at.exception and at.header[0].value.endswith(BY_ID[sid].title)
    assert any("barely changes" in c.value and "5%" in c.value for c in at.caption)  # the rule is on the page
    radios(at, sid)[0].set_value("goes up")
    at.run()
    assert at.button(key="quiz_lock").disabled  # every question first
    assert "quiz_job0" not in at.session_state and not at.get("plotly_chart")  # nothing run or shown before
    picks = ["goes up", "barely changes", "goes down"]
    at = lock_in(at, sid, picks)
    assert all(r.disabled for r in radios(at, sid)) and [r.value for r in radios(at, sid)] == picks
    at = revealed(at)
    assert not at.exception
    frame = at.session_state["quiz_job0"].snapshot().frame
    points = [("l2_norm", 0.0, 0.01), ("val_loss", 0.0, 0.01), ("val_loss", 0.0, 3.0)]
    truth = [expected_direction(final(frame, a, m, on), final(frame, b, m, on)) for m, a, b in points]
    right = [p == t for p, t in zip(picks, truth)]
    verdicts = [e.value for e in list(at.success) + list(at.error) if e.value[:1] in "✓✗"]
    assert sorted(v[:4] for v in verdicts) == sorted(f"{'✓' if ok else '✗'} Q{i + 1}" for i, ok in enumerate(right))
    q1 = next(v for v in verdicts if "Q1" in v)
    assert f"measured **{truth[0]}**" in q1 and f"{final(frame, 0.01, 'l2_norm', on):.3g}" in q1
    text = " ".join(m.value for m in at.markdown)
    assert f"{final(frame, 3.0, 'val_loss', on):.3g}" in text and "**Why:**" in text  # numbers and the reason
    streak = 0
    for ok in right:
        streak = streak + 1 if ok else 0
    assert metrics(at) == {"Answered": 3, "Correct": sum(right), "Streak": streak}
    at.run()
    assert metrics(at)["Answered"] == 3  # a rerun does not count the answers again


def test_next_moves_on_and_a_revisit_shows_the_locked_prediction_without_recounting():
    sid = "adamw-how-big"
    at = revealed(lock_in(quiz(sid), sid, ["goes up", "goes up", "goes up"]))
    at.button(key="quiz_next").click().run()
    nxt = next_scenario(sid, at.session_state["quiz_score"]).id
    assert at.query_params["scenario"] == [nxt] or at.query_params["scenario"] == nxt
    assert all(not r.disabled and r.value is None for r in radios(at, nxt))
    assert "quiz_job0" not in at.session_state  # the old run is no longer watched by this tab
    at.selectbox(key="quiz_pick").set_value(sid).run()
    assert all(r.disabled for r in radios(at, sid)) and [r.value for r in radios(at, sid)] == ["goes up"] * 3
    at = revealed(at)
    assert metrics(at)["Answered"] == 3


def test_which_curve_reveal_letters_the_curves_as_graded_and_marks_the_pick():
    sid = "which-adam-curve"   # Q1: which val-loss curve is λ = 0.01; Q2: which norm curve is λ = 1
    on = BY_ID[sid].at   # where the card reads its numbers
    at = revealed(lock_in(quiz(sid), sid, ["A", "D"]))
    assert not at.exception
    frame = at.session_state["quiz_job0"].snapshot().frame
    wds = (0.0, 0.01, 0.1, 1.0)
    lettered = [json.loads(c.proto.spec) for c in at.get("plotly_chart")[2:]]  # [0], [1]: the run's loss and norm
    assert len(lettered) == 2
    for spec, (metric, target, pick) in zip(lettered, [("val_loss", 0.01, "A"), ("l2_norm", 1.0, "D")]):
        curves = [t["meta"] for t in spec["data"] if t.get("meta", {}).get("role") == "curve"]
        by_end = sorted(wds, key=lambda w: -final(frame, w, metric, on))
        assert [c["wd"] for c in curves] == by_end and [c["letter"] for c in curves] == list("ABCD")
        assert [c["letter"] for c in curves if c["pick"]] == [pick]
        assert next(c for c in curves if c["wd"] == target)["right"]
    assert metrics(at)["Answered"] == 2


def test_two_run_scenario_grades_both_runs_and_links_each_to_the_explorer():
    sid = "adam-l2-vs-adamw"
    on = BY_ID[sid].at   # where the card reads its numbers
    scenario = BY_ID[sid]
    at = revealed(lock_in(quiz(sid), sid, ["goes up", "goes up", "goes down"]))
    assert not at.exception
    jobs = [at.session_state[f"quiz_job{i}"] for i in range(2)]
    assert [j.cfg for j in jobs] == [r.config for r in scenario.runs]
    adam, adamw = (j.snapshot().frame for j in jobs)
    q1 = next(e.value for e in list(at.success) + list(at.error) if "Q1" in e.value[:5])
    assert f"{final(adam, 0.1, 'l2_norm', on):.3g} → {final(adamw, 0.1, 'l2_norm', on):.3g}" in q1
    links = [link for m in at.markdown for link in re.findall(r"in the explorer\]\((.*?)\)", m.value)]
    assert len(links) == 2 and all(link.startswith("./?") for link in links)
    for link, run in zip(links, scenario.runs):
        query = dict(urllib.parse.parse_qsl(link[3:], keep_blank_values=True))
        assert from_query(query) == (run.config, [])  # the explorer opens exactly the run shown
    assert any(c.value.endswith(f"quiz?scenario={sid}") for c in at.code)


def test_unknown_scenario_in_the_link_is_named_and_the_first_one_is_shown():
    at = quiz("bogus[x](y)")
    assert not at.exception
    warning = " ".join(w for w in notes_of(at, "warning"))
    assert "no scenario “bogus[x](y)”" in warning and all(s.id in warning for s in BANK)
    assert at.header[0].value == f"1. {BANK[0].title}"
    assert all(not r.disabled for r in radios(at, BANK[0].id))


@pytest.fixture
def bank(monkeypatch):
    """Replace the bank with the given scenarios (the page and the link parser read it by name)."""
    import wdlab.ui.quiz_page as page

    def use(*cards):
        by_id = {s.id: s for s in cards}
        for module, name, value in ((page, "BANK", cards), (page, "BY_ID", by_id), (scenarios, "BY_ID", by_id)):
            monkeypatch.setattr(module, name, value)
    return use


def card(sid: str, cfg, *questions):
    from wdlab.quiz.cards import Run, Scenario
    return Scenario(sid, sid, "A test card.", (Run(cfg),), questions)


def test_a_diverged_run_is_not_graded_and_not_counted(bank):
    from wdlab.settings.config import SweepConfig
    from wdlab.quiz.bank import d
    cfg = SweepConfig(optimizers=("sgd",), lrs=(1.0,), epochs=10, weight_decays=(0.0, 50.0), hidden=(8,), seeds=(0,))
    bank(card("blows-up", cfg, d("train_loss", 0.0, 50.0)))
    at = revealed(lock_in(quiz("blows-up"), "blows-up", ["goes up"]))
    assert not at.exception
    assert any(i.value.startswith("Not graded: λ = 50 diverged") for i in at.info)
    assert metrics(at) == {"Answered": 0, "Correct": 0, "Streak": 0}


def test_a_cancelled_run_can_be_started_again(bank):
    from wdlab.settings.config import SweepConfig
    from wdlab.quiz.bank import d
    cfg = SweepConfig(epochs=2000, weight_decays=(0.0, 0.1), hidden=(8,), seeds=(0,))
    bank(card("long-run", cfg, d("l2_norm", 0.0, 0.1)))
    at = lock_in(quiz("long-run"), "long-run", ["goes down"])
    first = at.session_state["quiz_job0"]
    at.button(key="quiz0_cancel").click().run()
    assert not at.exception
    assert first.done_event.wait(30) and first.status == "cancelled"
    assert any("stopped before it finished" in i.value for i in at.info)
    at.button(key="quiz_rerun0").click().run()
    assert at.session_state["quiz_job0"] is not first and at.session_state["quiz_job0"].cfg == cfg
    assert all(r.disabled for r in radios(at, "long-run"))  # still locked in
    at.button(key="quiz0_cancel").click().run()  # leave no sweep running after the test
