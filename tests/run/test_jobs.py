"""The job manager: dedupe, queue limit, cancel, LRU bounds, heartbeats, threads, and the real engine's frame."""
import threading
import time

import pandas as pd
import pytest
import torch

from support import GatedRunner
from wdlab.settings.config import Limits, SweepConfig
from wdlab.registry.datasets import Data
from wdlab.run.jobs import JobManager, QueueFull
from wdlab.run.train import InProcess
from wdlab.engine.sweep import run_sweep

CFG = SweepConfig(epochs=3, weight_decays=(0.0, 0.1))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(runner, concurrent=1, queued=4, **kw):
    limits = Limits(max_concurrent_jobs=concurrent, max_queued_jobs=queued)
    return JobManager(limits, backend=InProcess(runner), warm=False, reap_every=3600, **kw)


def cfg(i):
    return CFG.replace(epochs=2 + i)


def wait_done(job, timeout=20):
    assert job.done_event.wait(timeout), f"job still {job.status}"


def test_same_config_from_two_visitors_runs_once(gated_runner):
    m = make(gated_runner)
    try:
        a = m.submit(CFG, owner="alice")
        b = m.submit(CFG, owner="bob")
        assert a is b and set(a.watchers) == {"alice", "bob"}
        gated_runner.gate.set()
        wait_done(a)
        assert m.submit(CFG, owner="carol") is a  # finished: served from the results
        assert len(gated_runner.calls) == 1
        assert a.snapshot().status == "done" and a.snapshot().epochs_done == 3
    finally:
        m.shutdown()


def test_uploaded_data_is_never_shared_between_visitors(gated_runner):
    data = Data(torch.ones(4, 2), torch.ones(4, 1), torch.ones(2, 2), torch.ones(2, 1), "regression")
    other = Data(torch.zeros(4, 2), torch.ones(4, 1), torch.ones(2, 2), torch.ones(2, 1), "regression")
    m = make(gated_runner, concurrent=2)
    try:
        a = m.submit(CFG, data=data, owner="alice")
        assert m.submit(CFG, data=data, owner="bob") is not a
        assert m.submit(CFG, data=data, owner="alice") is a
        assert m.submit(CFG, data=other, owner="alice") is not a
        assert m.submit(CFG, owner="alice") is not a   # the preset's own data is another job
        with pytest.raises(ValueError, match="owner"):
            m.submit(CFG, data=data)
    finally:
        m.shutdown()


def test_queue_limit_and_positions(gated_runner):
    m = make(gated_runner, concurrent=1, queued=2)
    try:
        running = m.submit(cfg(0), owner="v")
        assert gated_runner.started.acquire(timeout=10)
        q1, q2 = m.submit(cfg(1), owner="v"), m.submit(cfg(2), owner="v")
        assert (running.status, q1.snapshot().position, q2.snapshot().position) == ("running", 1, 2)
        with pytest.raises(QueueFull, match="at most 2"):
            m.submit(cfg(3), owner="v")
        assert m.submit(cfg(1), owner="w") is q1  # joining a queued job needs no new place
        m.cancel(q1)
        assert q1.status == "cancelled" and q2.snapshot().position == 1
        m.submit(cfg(3), owner="v")  # the freed place can be taken
    finally:
        m.shutdown()


def test_cancel_running_job_frees_the_worker(gated_runner):
    m = make(gated_runner, concurrent=1)
    try:
        a = m.submit(cfg(0), owner="alice")
        b = m.submit(cfg(1), owner="alice")
        assert gated_runner.started.acquire(timeout=10)
        assert m.cancel(a, "alice") is True
        wait_done(a)
        assert a.snapshot().status == "cancelled" and a.snapshot().epochs_done == 0
        assert gated_runner.started.acquire(timeout=10)  # the next job got the worker
        assert b.status == "running"
        assert m.submit(cfg(0), owner="alice") is not a  # a cancelled sweep is not kept as a result
    finally:
        m.shutdown()


def test_cancel_by_one_watcher_keeps_the_job_for_the_other(gated_runner):
    m = make(gated_runner)
    try:
        a = m.submit(CFG, owner="alice")
        m.submit(CFG, owner="bob")
        assert m.cancel(a, "alice") is False and a.status in ("queued", "running")
        assert m.cancel(a, "bob") is True
        wait_done(a)
        assert a.status == "cancelled"
    finally:
        m.shutdown()


def test_results_lru_bounded_by_entries():
    runner = GatedRunner(open_gate=True)
    m = make(runner, max_results=2)
    try:
        jobs = [m.submit(cfg(i), owner="v") for i in range(3)]
        for j in jobs:
            wait_done(j)
        assert m.stats()["results"] == 2
        assert m.get(jobs[0].key) is None and m.get(jobs[2].key) is jobs[2]
        assert m.submit(cfg(0), owner="v") is not jobs[0]  # evicted: trained again
    finally:
        m.shutdown()


def test_results_lru_bounded_by_bytes():
    runner = GatedRunner(open_gate=True)
    m = make(runner, max_result_bytes=1)
    try:
        first = m.submit(cfg(0), owner="v")
        wait_done(first)
        second = m.submit(cfg(1), owner="v")
        wait_done(second)
        assert m.stats()["results"] == 0 and first.nbytes() > 1
        assert second.snapshot().frame.shape[0] == 2 * 4  # a watcher keeps its own copy of the result
    finally:
        m.shutdown()


def test_an_evicted_or_cancelled_job_nobody_watches_is_freed_with_its_rows():
    """Beyond the results' bound the manager keeps no reference to a job (its worker thread neither): once no
    page holds it, its frame and snapshots are freed (issue 26, item 6: the server's memory after visitors left)."""
    import gc
    import weakref
    runner = GatedRunner(open_gate=True)
    m = make(runner, max_results=1)
    try:
        first = m.submit(cfg(0), owner="v")
        wait_done(first)
        frame = weakref.ref(first.frame())
        second = m.submit(cfg(1), owner="v")
        wait_done(second)
        assert m.stats()["results"] == 1 and m.get(first.key) is None   # evicted
        gone = weakref.ref(first)
        first = None
        gc.collect()
        assert gone() is None and frame() is None
        queued = m.submit(cfg(2), owner="v")
        m.cancel(queued)
        wait_done(queued)
        gone = weakref.ref(queued)
        queued = None
        gc.collect()
        assert gone() is None
    finally:
        m.shutdown()


def test_abandoned_job_is_cancelled_by_heartbeat(gated_runner):
    clock = Clock()
    m = make(gated_runner, concurrent=1, heartbeat_timeout=30, clock=clock)
    try:
        watched = m.submit(cfg(0), owner="alice")
        left = m.submit(cfg(1), owner="bob")
        clock.now += 20
        m.touch(watched, "alice")
        clock.now += 20
        assert m.reap() == [left]
        assert left.status == "cancelled" and watched.status in ("queued", "running")
        clock.now += 31
        assert m.reap() == [watched]
        wait_done(watched)
        assert watched.status == "cancelled"
    finally:
        m.shutdown()


def test_concurrent_submissions_from_threads():
    runner = GatedRunner(open_gate=True)
    m = make(runner, concurrent=2, queued=64)
    got, barrier = [], threading.Barrier(16)

    def visit(i):
        barrier.wait()
        got.append((i % 4, m.submit(cfg(i % 4), owner=f"v{i}")))

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(16)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        by_cfg = {}
        for k, job in got:
            by_cfg.setdefault(k, set()).add(id(job))
        assert len(got) == 16 and all(len(ids) == 1 for ids in by_cfg.values())
        for _, job in got:
            wait_done(job)
        assert sorted(c.epochs for c, _ in runner.calls) == [2, 3, 4, 5]
    finally:
        m.shutdown()


def test_failing_sweep_is_reported_and_worker_survives():
    m = make(GatedRunner(fail=True))
    try:
        job = m.submit(CFG, owner="v")
        wait_done(job)
        assert job.snapshot().status == "failed" and "boom" in job.snapshot().error
        m.backend = InProcess(GatedRunner(open_gate=True))
        job2 = m.submit(cfg(1), owner="v")
        wait_done(job2)
        assert job2.status == "done"
    finally:
        m.shutdown()


def test_shutdown_stops_every_thread(gated_runner):
    before = threading.active_count()
    m = make(gated_runner, concurrent=2)
    job = m.submit(CFG, owner="v")
    m.shutdown()
    assert job.status == "cancelled"
    assert not any(t.is_alive() for t in m._threads)
    assert threading.active_count() == before


def test_real_engine_frame_is_shown_unchanged():
    small = SweepConfig(epochs=3, weight_decays=(0.0, 1e-2, 1.0), seeds=(0, 1), hidden=(8,))
    m = JobManager(Limits(max_concurrent_jobs=1), reap_every=3600)
    try:
        job = m.submit(small, owner="v")
        wait_done(job, 120)
        snap = job.snapshot()
        direct = run_sweep(small)
        pd.testing.assert_frame_equal(snap.frame, direct.frame)
        assert snap.epochs_done == 3 and snap.status == "done"
    finally:
        m.shutdown()


def test_wait_for_epochs_returns_at_the_epoch_or_the_end_and_not_for_a_queued_job(gated_runner):
    m = make(gated_runner)
    try:
        first = m.submit(cfg(0))
        assert gated_runner.started.acquire(timeout=10)
        # the gate holds epoch 0: epoch 2 never comes within the timeout
        assert first.wait_for_epochs(2, timeout=0.2) is False and first.epochs_done == 0
        second = m.submit(cfg(1))
        third = m.submit(cfg(2))
        assert third.position == 2
        t = time.monotonic()
        assert third.wait_for_epochs(1, timeout=60) is False  # behind another in the queue: no waiting
        assert time.monotonic() - t < 30
        gated_runner.gate.set()
        assert first.wait_for_epochs(2, timeout=20) is True and first.epochs_done >= 2
        assert third.wait_for_epochs(10**6, timeout=20) is True and third.snapshot().status == "done"
        wait_done(second)
    finally:
        m.shutdown()


def test_a_job_with_no_rows_gives_the_same_empty_frame_at_every_call(gated_runner):
    """A live view keys its figures on the frame object: a new empty frame per poll rebuilt them at every poll of
    every waiting page, and a class's waiting pages then held the GIL while the one training sweep crawled."""
    m = make(gated_runner, concurrent=1)
    try:
        running = m.submit(cfg(0), owner="alice")
        queued = m.submit(cfg(1), owner="bob")
        assert queued.status == "queued" and queued.frame().empty and queued.frame() is queued.frame()
        assert running.frame() is running.frame()
        m.cancel(queued)
        assert queued.frame().empty and queued.frame() is queued.frame()
    finally:
        m.shutdown()


def test_a_visitor_who_leaves_releases_its_jobs_at_once(gated_runner):
    """Its tab closed: its running and queued jobs stop now, not after the heartbeat; a job another visitor still
    watches goes on, and a finished result stays for reuse."""
    m = make(gated_runner, concurrent=1, queued=8, heartbeat_timeout=3600)
    try:
        done = m.submit(cfg(5), owner="bob")
        gated_runner.gate.set()
        wait_done(done)
        gated_runner.gate.clear()
        running = m.submit(cfg(0), owner="bob")
        assert gated_runner.started.acquire(timeout=20)
        queued = m.submit(cfg(1), owner="bob")
        shared = m.submit(cfg(2), owner="bob")
        m.submit(cfg(2), owner="alice")
        alices = m.submit(cfg(3), owner="alice")
        assert m.release("bob") == [running, queued]
        wait_done(running)
        assert (running.status, queued.status) == ("cancelled", "cancelled")
        assert shared.status == "queued" and list(shared.watchers) == ["alice"] and alices.status == "queued"
        assert done.status == "done" and m.get(done.key) is done
        assert m.release("bob") == [] and m.release("nobody") == []
    finally:
        m.shutdown()


def test_every_result_a_page_holds_stays_within_the_results_bound():
    """Pages hold their finished jobs past the store's eviction: the bound counts every ended job still alive,
    thinning the least recently watched one's snapshots, then letting them go, and never the curves (issue 26,
    item 6: twelve visitors each held a 30 MB result, 360 MB outside the server's memory plan)."""
    m = JobManager(Limits(max_sweep_mb=1), warm=False, reap_every=3600)
    try:
        def run(i):
            job = m.submit(SweepConfig(preset="moons", hidden=(128,), epochs=40, weight_decays=(0.0, 0.1),
                                       seeds=(0, 1), lrs=(0.01 + 0.001 * i,)), owner=f"v{i}")
            wait_done(job, 120)
            return job
        held = [run(0)]
        whole = held[0].snapshots
        assert whole is not None and len(whole.members) == 4
        m.max_result_bytes = int(2.5 * held[0].nbytes())
        frames, notes = [], []
        for i in range(1, 6):
            held.append(run(i))
            frames.append(len(held[-1].frame()))
            assert sum(j.nbytes() for j in held) <= m.max_result_bytes
            newest = held[-1].snapshots
            assert newest.taken() == newest.epochs and len(newest.members) == 4   # the newest result is whole
            notes += [j.snapshots.note for j in held if j.snapshots is not None and j.snapshots.origin is not None]
        oldest = held[0]
        assert len(oldest.frame()) == frames[0]                                      # curves stay
        assert oldest.snapshots is None or oldest.snapshots.origin is not None       # pictures thinned or let go
        let_go = [j for j in held[:-1] if j.snapshots is None]
        assert all(j.let_go for j in let_go) and let_go == held[:len(let_go)]        # the least recent first
        # the largest thinned first: none is let go while another older one could still give up a step
        assert not let_go or all(j.snapshots.smallest() for j in held[len(let_go):-1] if j.snapshots)
        assert notes and all("to stay within its memory" in n for n in notes)       # thinned on the way
        assert m.get(oldest.key) is None                       # a thinned result is not handed to a new request
        again = m.submit(oldest.cfg, owner="v9")
        assert again is not oldest
        wait_done(again, 120)
        assert again.snapshots is not None and len(again.snapshots.members) == 4
    finally:
        m.shutdown()
