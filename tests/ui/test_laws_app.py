"""The Laws page: every card's run trains through the app's jobs and shows the verdict computed from that run; its
Explorer link reproduces the run; a job queued, running, failed or cancelled shows words, never an exception."""
import dataclasses
import math
import time
import urllib.parse

import pytest
from streamlit.testing.v1 import AppTest

from support import GatedRunner, chart_specs
from wdlab.engine.budget import validate
from wdlab.laws.cards import CARDS, RUNS, headline, rows
from wdlab.laws.predict import FULL_BATCH
from wdlab.registry.datasets import DATASETS
from wdlab.run.jobs import JobManager
from wdlab.run.train import InProcess
from wdlab.settings.config import DEMO_LIMITS, SweepConfig
from wdlab.settings.params import from_query
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
# what each card's run is built to show: the headline's kind and words of it
EXPECTED = {("ridge", "ridge-sgd"): ("success", "Holds for all 2"),
            ("ridge_loss", "ridge-sgd"): ("success", "Holds for all 2"),
            ("box", "box-adamw"): ("success", "λ 10 on its edge"),
            ("rotation", "rotation-minibatch"): ("success", "Holds for all 6"),
            ("rotation", "rotation-full-batch"): ("warning", FULL_BATCH),
            ("rotation", "rotation-adam-l2"): ("info", "no fixed rate"),
            ("norm", "norm-course"): ("success", "Holds for all 6"),
            ("norm", "rotation-minibatch"): ("warning", "Does not hold for"),
            ("norm", "rotation-full-batch"): ("warning", FULL_BATCH),
            ("timescale", "timescale-adamw"): ("info", "τ in epochs: 333 (λ 0.03), 33.3 (λ 0.3), 3.33 (λ 3)")}


def _script():
    from wdlab.ui.laws_page import laws_page
    laws_page()


def opened() -> AppTest:
    return AppTest.from_function(_script, default_timeout=120).run()


def press(at: AppTest, law: str, run_id: str) -> AppTest:
    return at.button(key=f"laws_{law}_{run_id}_run").click().run()


def until(at: AppTest, done, timeout: float = 600) -> AppTest:
    """AppTest never fires run_every: rerun the page until `done(at)`."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, "the page did not get there"
        assert not at.exception, at.exception[0].value
        time.sleep(0.2)
        at.run()
    return at


def job(at, run_id):
    return at.session_state[f"laws_{run_id}"] if f"laws_{run_id}" in at.session_state else None


def test_every_card_has_a_run_within_the_hosted_demos_limits_and_every_law_a_card():
    from wdlab.laws.catalog import LAWS
    assert [c.law for c in CARDS] == list(LAWS)
    for run in RUNS.values():
        validate(run.cfg, DEMO_LIMITS)        # raises ConfigError if the demo server would refuse it


def test_nothing_trains_until_asked_and_every_run_then_shows_its_verdict_from_the_run(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")      # the hosted demo's limits: each job is checked against them
    at = opened()
    assert not at.exception and not at.get("plotly_chart") and not notes_of(at, "success")
    assert all(job(at, r) is None for r in RUNS)                # page load starts no job
    for card in CARDS:
        for run in card.runs:
            if job(at, run.id) is None:                          # a run shared by two cards starts once
                press(at, card.law, run.id)
                assert job(at, run.id).cfg == run.cfg
    until(at, lambda a: all(job(a, r).snapshot(with_frame=False).status == "done" for r in RUNS))
    at.run()
    assert not at.exception
    for (law, run_id), (kind, words) in EXPECTED.items():
        run = RUNS[run_id]
        frame = job(at, run_id).frame()
        want = headline(law, run.cfg, rows(law, run.cfg, frame))   # the verdict, read from the job's own rows
        assert want[0] == kind and words in want[1], (law, run_id, want)
        assert want[1] in notes_of(at, kind), (law, run_id)
    # one figure per run shown (the shared runs once in each of their cards), a dashed prediction in each
    specs = chart_specs(at)
    assert len(specs) == len(EXPECTED)
    for spec in specs:
        roles = {t["meta"]["role"] for t in spec["data"]}
        assert "measured" in roles
    assert sum("predicted" in {t["meta"]["role"] for t in s["data"]} for s in specs) == 8   # not Adam+L2, τ


def test_the_rotation_verdict_matches_the_law_computed_here_from_the_frame():
    """Independently of wdlab.laws: AdamW's rate √(2·lr·λ·(1−β₁)/(1+β₁)) and the mean of rot{k} from 2/(2·lr·λ)
    steps on, against what the card's table shows."""
    at = opened()
    press(at, "rotation", "rotation-minibatch")
    until(at, lambda a: job(a, "rotation-minibatch").snapshot(with_frame=False).status == "done")
    at.run()
    cfg = RUNS["rotation-minibatch"].cfg
    lr, wd = cfg.lrs[0], cfg.weight_decays[0]
    want = math.sqrt(2 * lr * wd * 0.1 / 1.9)
    steps = math.ceil(DATASETS[cfg.preset].sizes(cfg.val_fraction)[0] / cfg.batch_size)
    start = math.ceil(2 / (2 * lr * wd) / steps)
    frame = job(at, "rotation-minibatch").frame()
    shown = "\n".join(t.value for t in at.text)
    for seed in cfg.seeds:
        for k in (1, 2):
            got = frame[(frame.seed == seed) & (frame.epoch >= start)][f"rot{k}"].mean()
            assert abs(got - want) / want <= 0.15
            assert f"AdamW, λ {wd:g}, seed {seed}, layer {k}: predicted {want:.4g}, measured {got:.4g} — holds " \
                   "within" in shown


def test_the_explorer_link_opens_the_same_settings():
    at = opened()
    press(at, "box", "box-adamw")
    until(at, lambda a: job(a, "box-adamw").snapshot(with_frame=False).status == "done")
    at.run()
    [url] = [b.proto.url for b in at.get("link_button")]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    cfg, warnings = from_query(query, check=lambda c: validate(c, DEMO_LIMITS))
    assert cfg == RUNS["box-adamw"].cfg and not warnings

    def explorer():
        from wdlab.ui.explorer import explorer_page
        explorer_page()
    there = AppTest.from_function(explorer, default_timeout=120)
    for k, v in query.items():
        there.query_params[k] = v
    there.run()
    assert not there.exception and not notes_of(there, "warning")
    assert there.session_state["job"].cfg == RUNS["box-adamw"].cfg      # the explorer trains exactly this run


def _manager(monkeypatch, runner, blocked: bool = False):
    import wdlab.ui.state as state

    def build(limits, **kw):
        m = JobManager(dataclasses.replace(limits, max_concurrent_jobs=1), backend=InProcess(runner), warm=False,
                       heartbeat_timeout=600, reap_every=600)
        if blocked:                              # another visitor's sweep holds the one worker
            m.submit(SweepConfig(epochs=3, weight_decays=(0.0,), seeds=(0,)), owner="someone else")
            assert runner.started.acquire(timeout=60)
        return m
    monkeypatch.setattr(state, "JobManager", build)


def test_a_queued_run_waits_with_its_position(monkeypatch):
    _manager(monkeypatch, GatedRunner(), blocked=True)
    at = press(opened(), "box", "box-adamw")
    assert not at.exception and job(at, "box-adamw").status == "queued"
    assert any("Waiting in the queue: position 1" in p.proto.text for p in at.get("progress"))
    assert any("1st in line behind 1 training" in p.proto.text for p in at.get("progress"))


def test_a_failed_run_says_why_and_offers_to_run_again(monkeypatch):
    _manager(monkeypatch, GatedRunner(fail=True))
    at = press(opened(), "box", "box-adamw")
    until(at, lambda a: job(a, "box-adamw").snapshot(with_frame=False).finished)
    at.run()
    assert not at.exception
    assert any(n.startswith("This run could not run: ") and "boom" in n for n in notes_of(at, "error"))
    assert at.button(key="laws_box_box-adamw_again")


def test_a_cancelled_run_says_so_and_can_run_again(monkeypatch):
    runner = GatedRunner()
    _manager(monkeypatch, runner)
    at = press(opened(), "rotation", "rotation-full-batch")
    assert runner.started.acquire(timeout=60)
    at.run()
    assert any("Training: epoch" in p.proto.text for p in at.get("progress"))
    at.button(key="laws_rotation_rotation-full-batch_cancel").click().run()
    assert not at.exception
    assert any("cancelled before it finished" in i.value for i in at.info)
    until(at, lambda a: job(a, "rotation-full-batch").snapshot(with_frame=False).finished)
    press(at, "rotation", "rotation-full-batch")             # runs again: a new job
    assert not at.exception and job(at, "rotation-full-batch").status in ("queued", "running")
