"""Faults: a diverging sweep, a cancelled one, an abandoned one; the server goes on and frees what each held."""
import gc
import threading
import time
import weakref
from pathlib import Path

import pandas as pd
import pytest
import torch

from wdlab.settings.config import Limits, SweepConfig
from wdlab.registry.datasets import Data
from wdlab.run.jobs import JobManager
from wdlab.run.train import InProcess
from wdlab.engine.sweep import SweepResult, run_sweep
from support import GatedRunner, chromium, streamlit_server

ROOT = Path(__file__).resolve().parents[2]


def upload(n=2000, seed=0) -> Data:
    """An uploaded table's tensors (big enough that keeping them would matter)."""
    g = torch.Generator().manual_seed(seed)
    X, Xv = torch.randn(n, 20, generator=g), torch.randn(n // 4, 20, generator=g)
    return Data(X, X[:, :1] * 2, Xv, Xv[:, :1] * 2, "regression")


def manager(runner=run_sweep, concurrent=1, **kw) -> JobManager:
    return JobManager(Limits(max_concurrent_jobs=concurrent), backend=InProcess(runner), warm=False,
                      reap_every=kw.pop("reap_every", 3600), **kw)


def wait_done(job, timeout=60):
    assert job.done_event.wait(timeout), f"job still {job.status}"


def test_a_diverging_sweep_reports_its_member_and_the_next_job_completes():
    m = manager()
    try:
        wild = m.submit(SweepConfig(optimizers=("sgd",), lrs=(1.0,), epochs=10, weight_decays=(0.0, 50.0), hidden=(8,)),
                        owner="a")
        calm = m.submit(SweepConfig(epochs=5, weight_decays=(0.0, 0.1), hidden=(8,)), owner="b")
        wait_done(wild)
        wait_done(calm)
        snap = wild.snapshot()
        assert snap.status == "done" and snap.diverged == {("sgd", 1.0, 50.0, 0): 3}
        healthy = snap.frame[snap.frame["weight_decay"] == 0.0]
        assert healthy["epoch"].tolist() == list(range(11)) and healthy["train_loss"].notna().all()
        assert calm.snapshot().status == "done" and calm.snapshot().epochs_done == 5
    finally:
        m.shutdown()


def test_a_cancelled_sweep_stops_within_an_epoch_and_frees_its_data_and_rows():
    seen, reached = [], threading.Event()

    def runner(cfg, **kw):
        forward = kw["on_epoch"]

        def tap(epoch, rows):
            forward(epoch, rows)
            seen.append(epoch)
            if epoch >= 2:
                reached.set()
        return run_sweep(cfg, **{**kw, "on_epoch": tap})

    m = manager(runner)
    try:
        data = upload()
        ref_data, ref_x = weakref.ref(data), weakref.ref(data.X_train)
        job = m.submit(SweepConfig(preset="csv", epochs=2000, weight_decays=(0.0, 0.1), hidden=(64,)),
                       data=data, owner="a")
        del data
        assert reached.wait(60)
        at_cancel = max(seen)
        assert m.cancel(job, "a") is True
        wait_done(job)
        assert job.status == "cancelled" and at_cancel <= job.epochs_done <= at_cancel + 1 < 2000
        assert max(seen) <= at_cancel + 1
        gc.collect()
        assert job.data is None and job.frame().empty
        assert ref_data() is None and ref_x() is None  # nothing in the manager or its worker still holds them
        assert m.submit(job.cfg.replace(preset="tutorial", epochs=3), owner="a").done_event.wait(60)  # worker free
    finally:
        m.shutdown()


def test_an_abandoned_sweep_is_reaped_while_a_watched_one_goes_on():
    runner = GatedRunner()
    m = manager(runner, concurrent=2, heartbeat_timeout=3.0, reap_every=0.05)
    try:
        data = upload()
        ref = weakref.ref(data)
        left = m.submit(SweepConfig(preset="csv", epochs=50), data=data, owner="gone")
        kept = m.submit(SweepConfig(epochs=3), owner="here")
        del data
        deadline = time.monotonic() + 30
        while not left.done_event.is_set() and time.monotonic() < deadline:
            m.touch(kept, "here")  # this visitor's page keeps polling
            time.sleep(0.05)
        assert left.status == "cancelled" and kept.status in ("queued", "running")
        runner.gate.set()
        wait_done(kept)
        assert kept.status == "done" and kept.snapshot().frame.shape[0] == 5 * 4
        runner.calls.clear()  # the fake runner's own record of its arguments
        gc.collect()
        assert ref() is None and left.frame().empty
    finally:
        m.shutdown()


def test_a_link_reopened_while_its_sweep_is_being_cancelled_gets_a_fresh_run():
    release = threading.Event()

    def stubborn(cfg, **kw):  # notices the cancel only when the test lets it: a long batch still running
        release.wait(30)
        if kw["cancel"].is_set():
            return SweepResult(cfg, pd.DataFrame(), "cancelled")
        return GatedRunner(open_gate=True)(cfg, **kw)

    m = manager(stubborn)
    try:
        cfg = SweepConfig(epochs=2)
        old = m.submit(cfg, owner="a")
        while old.status != "running":
            time.sleep(0.01)
        m.cancel(old, "a")
        new = m.submit(cfg, owner="a")
        assert new is not old
        release.set()
        wait_done(old)
        wait_done(new)
        assert (old.status, new.status) == ("cancelled", "done")
        assert m.submit(cfg, owner="b") is new  # the old run finishing did not unregister the new one
    finally:
        m.shutdown()


# -- in the browser: a visitor closes the tab mid-sweep ---------------------------------------------------------
# The server trains one sweep at a time (WDLAB_CONCURRENT_JOBS=1) and reaps a sweep 8 s after its last poll: long
# enough that a page on a loaded machine, polling late, keeps its own sweep (with 2 s, under a CPU hog, the
# reopened link's new sweep was reaped before its page polled). LONG (about 2.9e12 multiply-adds in float64:
# a minute or more) must outlast that by far, or A may finish before it is reaped and the reopened link
# rightly shows its results; the demo's limits bound sweeps to seconds, so this server runs the full limits.
LONG = ("?preset=tutorial&optimizer=adam&wd=0,0.0001,0.0003,0.001,0.003,0.01,0.03,0.1&seeds=0,1,2"
        "&epochs=1800&hidden=512&dtype=float64")
SHORT = "?preset=tutorial&optimizer=adamw&wd=0,0.1&seeds=0&epochs=5&hidden=8"


@pytest.fixture(scope="module")
def demo_server():
    """The app training one sweep at a time, with an 8 s heartbeat, on loopback."""
    with streamlit_server({"WDLAB_DEMO": "0", "WDLAB_CONCURRENT_JOBS": "1", "WDLAB_HEARTBEAT_S": "8"}) as url:
        yield url


@pytest.mark.browser
def test_a_closed_tab_frees_the_only_worker_for_the_next_visitor(demo_server):
    with chromium() as browser:
        def step(what, page, locator, timeout=60_000):
            try:
                locator.first.wait_for(timeout=timeout)
            except Exception:
                raise AssertionError(f"{what}: the page shows: "
                                     + " ".join(page.inner_text("body").split())[-600:]) from None

        first = browser.new_context()
        a = first.new_page()
        a.goto(demo_server + LONG)
        step("A's long sweep starts", a, a.get_by_text("Training: epoch"))  # it holds the one worker
        b = browser.new_context().new_page()
        b.goto(demo_server + SHORT)
        step("B's page loads", b, b.get_by_text("Waiting in the queue"))
        first.close()  # visitor A closes the tab mid-sweep
        step("B's sweep runs once A's is reaped", b, b.get_by_text("Trained "), 120_000)
        step("B's curves are drawn", b, b.locator(".js-plotly-plot"))
        # A's sweep was cancelled, not finished: opening its link again starts it anew.
        c = browser.new_context().new_page()
        c.goto(demo_server + LONG)
        step("A's link reopened trains again", c,
             c.get_by_text("Training: epoch").or_(c.get_by_text("Waiting in the queue")))
        assert c.get_by_text("Trained ").count() == 0
