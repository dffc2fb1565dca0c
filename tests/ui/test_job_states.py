"""No page raises on a job in any state: every result view (the explorer's on a regression, a classification and
a grokking preset, the comparison, the landscape) opened on a job that is queued, starting (no rows yet),
training, cancelled (by this visitor, or elsewhere before it started), failed, diverging, diverged or done.

The app's one JobManager is built here on the real engine held at an epoch (HeldSweep below), so each state
lasts as long as the test looks at it."""
import dataclasses
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.run.jobs import JobManager
from wdlab.run.train import InProcess
from wdlab.settings.config import SweepConfig

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
SMALL = {"epochs": "8", "hidden": "8", "seeds": "0"}
DIVERGING = {"optimizer": "sgd", "lr": "1", "wd": "0,50", "epochs": "40"}   # λ = 50 at lr 1: inf within 30 epochs
BLOCKER = SweepConfig(epochs=3, weight_decays=(0.0,), seeds=(0,))   # holds the one worker: the page's job waits


class HeldSweep:
    """The real engine (run_sweep) held in a state, for the app's views (InProcess(HeldSweep(...))): it forwards
    epochs before `hold_at` (None: every epoch), then waits at that epoch (`held` set) until `gate` opens or the
    job is cancelled; fail=True raises before the first epoch (a failed job)."""

    def __init__(self, hold_at: int | None = None, fail: bool = False):
        self.hold_at, self.fail, self.gate, self.held = hold_at, fail, threading.Event(), threading.Event()

    def __call__(self, cfg, *, on_epoch, cancel, **kw):
        from wdlab.engine.sweep import run_sweep
        if self.fail:
            raise RuntimeError("this sweep was made to fail")

        def listen(epoch, rows):
            if self.hold_at is not None and epoch >= self.hold_at:
                self.held.set()
                while not self.gate.wait(0.005) and not cancel.is_set():
                    pass
            on_epoch(epoch, rows)
        return run_sweep(cfg, on_epoch=listen, cancel=cancel, **kw)


def _explorer():
    from wdlab.ui.explorer import explorer_page
    explorer_page()


def _compare():
    import streamlit as st
    from wdlab.ui.compare import compare_page
    st.session_state.setdefault("cmp_epochs", 8)
    compare_page()


def _landscape():
    from wdlab.ui.landscape_page import landscape_page
    landscape_page()


# page id -> (script, its link, the slots its jobs live in)
PAGES = {
    "regression": (_explorer, {"preset": "tutorial", "wd": "0,0.1", **SMALL}, ("job",)),
    "classification": (_explorer, {"preset": "moons", "wd": "0,0.1", **SMALL}, ("job",)),
    "grokking": (_explorer, {"preset": "modular-addition-p23", "wd": "0,0.21,0.26", **SMALL}, ("job",)),
    "compare": (_compare, {}, ("cmp_job0", "cmp_job1")),
    "landscape": (_landscape, {"preset": "moons", "optimizer": "adam,adamw", "lr": "0.01,0.1", "wd": "0,0.1",
                               **SMALL}, ("landscape_job",)),
}


def held_app(monkeypatch, runner: HeldSweep, *, blocked: bool = False):
    """The app's JobManager on `runner` (one worker; blocked: a job of its own holds that worker first)."""
    import wdlab.ui.state as state

    def build(limits, **kw):
        limits = dataclasses.replace(limits, max_concurrent_jobs=1)
        m = JobManager(limits, backend=InProcess(runner), warm=False, heartbeat_timeout=600, reap_every=600)
        if blocked:
            m.submit(BLOCKER, owner="someone else")
            assert runner.held.wait(60)
        return m
    monkeypatch.setattr(state, "JobManager", build)


def opened(page: str, link: dict | None = None) -> AppTest:
    script, query, _ = PAGES[page]
    at = AppTest.from_function(script, default_timeout=120)
    for k, v in {**query, **(link or {})}.items():
        at.query_params[k] = v
    return at.run()


def jobs(at: AppTest, page: str) -> list:
    return [at.session_state[s] for s in PAGES[page][2] if s in at.session_state]


def looks_fine(at: AppTest, times: int = 2) -> AppTest:
    """A few reruns (AppTest never polls by itself), none of them raising."""
    for _ in range(times):
        assert not at.exception, at.exception[0].value if at.exception else ""
        at.run()
    assert not at.exception, [e.value for e in at.exception] + [str(e.stack_trace)[-3000:] for e in at.exception]
    return at


def until(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the job did not get there"
        time.sleep(0.05)


@pytest.mark.parametrize("page", PAGES)
def test_queued_then_cancelled_before_it_started(monkeypatch, page):
    held_app(monkeypatch, HeldSweep(hold_at=0), blocked=True)
    at = looks_fine(opened(page))
    assert {j.status for j in jobs(at, page)} == {"queued"}
    waiting = [p.proto.text for p in at.get("progress") if "queue" in p.proto.text]
    assert waiting and all("position 1" in t or "position 2" in t for t in waiting), waiting  # its place in line
    assert all(("1st in line" in t or "2nd in line" in t) and "behind" in t for t in waiting), waiting
    from wdlab.ui.state import manager
    for job in jobs(at, page):
        manager().cancel(job)          # stopped elsewhere (the janitor, a shutdown): finished with no rows
    looks_fine(at)


@pytest.mark.parametrize("page", PAGES)
def test_starting_with_no_rows_yet(monkeypatch, page):
    runner = HeldSweep(hold_at=0)
    held_app(monkeypatch, runner)
    at = opened(page)
    assert runner.held.wait(60)
    at = looks_fine(at)
    assert "running" in {j.status for j in jobs(at, page)} and all(j.frame().empty for j in jobs(at, page))


@pytest.mark.parametrize("page", PAGES)
def test_training_then_cancelled_by_the_visitor(monkeypatch, page):
    runner = HeldSweep(hold_at=3)
    held_app(monkeypatch, runner)
    at = opened(page)
    assert runner.held.wait(60)
    at = looks_fine(at)
    assert "running" in {j.status for j in jobs(at, page)}
    cancel = [b for b in at.button if b.key and b.key.endswith("_cancel")]
    if cancel:
        cancel[0].click().run()
    from wdlab.ui.state import manager
    for job in jobs(at, page):   # a page's other runs, or one without a Cancel button: the visitor leaves
        manager().cancel(job)
    looks_fine(at)
    until(lambda: all(j.snapshot(with_frame=False).finished for j in jobs(at, page)))
    looks_fine(at)


@pytest.mark.parametrize("page", PAGES)
def test_failed(monkeypatch, page):
    held_app(monkeypatch, HeldSweep(fail=True))
    at = opened(page)
    until(lambda: all(j.snapshot(with_frame=False).finished for j in jobs(at, page)))
    at = looks_fine(at)
    assert {j.status for j in jobs(at, page)} == {"failed"}


@pytest.mark.parametrize("page", [p for p in PAGES if p != "compare"])   # the comparison's lr is its own
def test_diverging_then_diverged(monkeypatch, page):
    runner = HeldSweep(hold_at=30)
    held_app(monkeypatch, runner)
    at = opened(page, DIVERGING)
    assert runner.held.wait(60)
    at = looks_fine(at)
    assert any(j.frame()["diverged"].any() for j in jobs(at, page))
    runner.gate.set()
    until(lambda: all(j.snapshot(with_frame=False).finished for j in jobs(at, page)))
    looks_fine(at)


@pytest.mark.parametrize("page", PAGES)
def test_done(monkeypatch, page):
    runner = HeldSweep()
    held_app(monkeypatch, runner)
    at = opened(page)
    until(lambda: all(j.snapshot(with_frame=False).finished for j in jobs(at, page)))
    at = looks_fine(at)
    assert {j.status for j in jobs(at, page)} == {"done"}


@pytest.mark.parametrize("page", PAGES)
def test_done_then_thinned_then_let_go_by_the_results_bound(monkeypatch, page):
    """The server's results bound thins a shown result's snapshots, then lets them go (JobManager._fit_locked, as
    when other visitors' results finish): the page keeps drawing, and says why the pictures show less."""
    runner = HeldSweep()
    held_app(monkeypatch, runner)
    at = opened(page, {"seeds": "0,1"} if page != "compare" else None)
    until(lambda: all(j.snapshot(with_frame=False).finished for j in jobs(at, page)))
    at = looks_fine(at)
    for job in jobs(at, page):  # the other seed's models go (one seed: about half the epochs)
        job.snapshots = job.snapshots.thinner()
    at = looks_fine(at)
    words = " ".join([c.value for c in at.caption] + [t.value for t in at.text])   # a note: plain text
    if page != "landscape":   # the landscape draws no pictures of the models
        assert "to stay within its memory" in words, words
    for job in jobs(at, page):
        job.snapshots, job.let_go = None, True
    at = looks_fine(at)
    if page != "landscape":
        assert "let go of this run's parameter snapshots" in " ".join(c.value for c in at.caption)


def test_each_waiting_page_shows_its_place_in_line_and_it_moves_as_the_queue_does(monkeypatch):
    """The comparison's two runs wait 1st and 2nd behind a running sweep; when the first leaves the line the
    second's text says 1st (issue 26, item 6: a waiting page showed no position)."""
    held_app(monkeypatch, HeldSweep(hold_at=0), blocked=True)
    at = looks_fine(opened("compare"))
    texts = [p.proto.text for p in at.get("progress")]
    assert any("position 1 (1st in line behind 1 training)" in t for t in texts), texts
    assert any("position 2 (2nd in line behind 1 waiting and 1 training)" in t for t in texts), texts
    from wdlab.ui.state import manager
    manager().cancel(at.session_state["cmp_job0"])   # the first leaves the line
    at.run()
    texts = [p.proto.text for p in at.get("progress")]
    assert any("position 1 (1st in line behind 1 training)" in t for t in texts), texts
    assert not any("position 2" in t for t in texts), texts


def test_the_quiz_waiting_on_its_run_shows_its_place_in_line(monkeypatch):
    from test_quiz_app import lock_in, quiz
    held_app(monkeypatch, HeldSweep(hold_at=0), blocked=True)
    at = lock_in(quiz("adamw-how-big"), "adamw-how-big", ["goes up"] * 3)
    looks_fine(at)
    texts = [p.proto.text for p in at.get("progress")]
    assert any("Waiting in the queue: position 1 (1st in line behind 1 training)" in t for t in texts), texts


@pytest.mark.parametrize("blocked", [True, False], ids=["queued", "starting"])
def test_a_page_waiting_for_its_first_rows_builds_its_figures_once(monkeypatch, blocked):
    """Each poll of a page whose job has no rows yet redrew the same empty figures from scratch (~85 ms of the
    GIL each): 11 such pages of a 12-visitor class starved the one training sweep, and no page showed a curve
    in 300 s (docs/BUDGET.md). The empty axes are built once and reused while nothing changes."""
    from wdlab.plots import curves as plots
    runner = HeldSweep(hold_at=0)
    held_app(monkeypatch, runner, blocked=blocked)
    built = []
    real = plots.curves_figure
    monkeypatch.setattr(plots, "curves_figure", lambda *a, **kw: built.append(1) or real(*a, **kw))
    at = opened("regression")
    assert runner.held.wait(60)
    at = looks_fine(at, times=4)
    assert {j.status for j in jobs(at, "regression")} == {"queued" if blocked else "running"}
    assert all(j.frame().empty for j in jobs(at, "regression"))
    assert len(built) == len(plots.PANEL_KEYS), f"{len(built)} figures built over 5 runs of one page"


def _pictures_after_let_go():
    """The pictures' fragment rerun alone (its slider moved) after the server let go of the job's snapshots."""
    from wdlab.run.jobs import JobManager
    from wdlab.settings.config import SweepConfig
    from wdlab.ui import model_view
    m = JobManager(warm=False, reap_every=3600)
    job = m.submit(SweepConfig(preset="moons", hidden=(8,), epochs=8, weight_decays=(0.0, 0.1), seeds=(0,)))
    job.done_event.wait(120)
    m.shutdown()
    job.snapshots, job.let_go = None, True
    model_view._pictures(job, job.frame(), "k", None, False)


def test_the_pictures_fragment_rerun_after_its_snapshots_were_let_go():
    """Drawn by the fragment on its own (a slider moved after other visitors' results filled the bound): it read
    job.snapshots afresh and raised on None in the browser (AttributeError: 'NoneType' object has no attribute
    'taken'), where the whole page's rerun had said so."""
    at = AppTest.from_function(_pictures_after_let_go, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "let go of this run's parameter snapshots" in " ".join(c.value for c in at.caption)
