"""Background sweeps for the app: a fixed worker pool, a bounded queue, dedupe, an LRU of results, heartbeats."""
from __future__ import annotations

import hashlib
import itertools
import threading
import time
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from wdlab.engine.snapshots import Snapshots
from wdlab.run.train import Backend, InProcess, Rows, prepare, train
from wdlab.settings.config import DEFAULT_LIMITS, ConfigError, Limits, SweepConfig

ACTIVE = ("queued", "running")


class QueueFull(ConfigError):
    """Every worker is busy and the waiting line is at its limit."""


@dataclass(frozen=True)
class JobStatus:
    """What a page shows of a job at one instant (a consistent copy, safe to read without the lock)."""

    status: str                    # queued | running | done | cancelled | failed
    frame: pd.DataFrame
    epochs_done: int
    epochs_total: int
    position: int                  # 1-based place in the queue while queued, else 0
    elapsed: float                 # seconds since training started
    eta: float | None              # seconds left, estimated from the epochs so far
    error: str = ""
    diverged: dict = field(default_factory=dict)
    snapshots: Snapshots | None = None   # the models' parameters at some epochs (filled while it trains)

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


class Job:
    """One sweep. Its backend gathers rows (run.train.Rows); pages read consistent JobStatus copies."""

    def __init__(self, key: tuple, cfg: SweepConfig, data: Any, clock: Callable[[], float]):
        self.key, self.cfg, self.data, self._clock = key, cfg, data, clock
        self.status, self.error = "queued", ""
        self.cancel_event = threading.Event()
        self.watchers: dict[str, float] = {}   # watcher id -> last time it polled
        self.epochs_done, self.started, self.ended = 0, None, None
        self.diverged: dict = {}
        self.snapshots: Snapshots | None = None  # planned when it starts, within the sweep's memory budget
        self.let_go = False   # its snapshots were let go to keep the server's results within their bound
        self._rows: Rows | None = None  # while running: the rows so far, as the backend delivered them
        self._frame: pd.DataFrame | None = None
        self._frame_epoch = -1  # the epoch _frame was built at
        # No rows yet (queued, starting) or none kept: one empty frame, the same object at every call. A live view
        # keys its figures on the frame object; a new one per poll rebuilt them at every poll of every waiting page
        # (~85 ms each: 11 waiting visitors held the GIL and training stalled, benchmarks/load.py).
        self._empty = pd.DataFrame()
        self._marks: list[tuple[int, float]] = []  # (epoch, clock) of the first and the latest progress call
        self._lock = threading.Lock()
        self.done_event = threading.Event()
        self.position = 0

    def progress(self, epoch: int, _rows) -> None:
        """The backend's per-epoch call, after it gathered that epoch's rows: they become a DataFrame only when
        someone looks."""
        with self._lock:
            self.epochs_done = epoch
            self._marks = self._marks[:1] + [(epoch, self._clock())]

    def wait_for_epochs(self, epochs: int, timeout: float) -> bool:
        """Wait up to `timeout` s until `epochs` epochs are done or the job has ended, unless it is queued
        behind another; True if that happened."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.epochs_done >= epochs or self.status not in ACTIVE:
                    return True
                if self.status == "queued" and self.position > 1:
                    return False
            left = deadline - time.monotonic()
            if left <= 0 or self.done_event.wait(min(left, 0.01)):
                return self.done_event.is_set()

    def frame(self) -> pd.DataFrame:
        """The rows so far: the same object until a new epoch lands (a live view then reuses its figure)."""
        with self._lock:
            if self._rows is not None and self._frame_epoch != self.epochs_done:
                self._frame, self._frame_epoch = self._rows.frame(), self.epochs_done
            return self._frame if self._frame is not None else self._empty

    def snapshot(self, with_frame: bool = True) -> JobStatus:
        """The job's state; with_frame=False skips assembling the rows (a cheap progress check)."""
        frame = self.frame() if with_frame else pd.DataFrame()
        with self._lock:
            now = self._clock()
            elapsed = ((self.ended or now) - self.started) if self.started is not None else 0.0
            total = self.cfg.epochs
            eta = self._eta(now, total) if self.status == "running" else None
            return JobStatus(self.status, frame, self.epochs_done, total, self.position, elapsed, eta,
                            self.error, dict(self.diverged), self.snapshots)

    def _eta(self, now: float, total: int) -> float | None:
        """Seconds left at the rate measured between epochs (the set-up before the first one left out), counted
        down between them: it never rises while the next epoch trains. None until two epochs have landed."""
        if len(self._marks) < 2 or self._marks[-1][0] <= self._marks[0][0]:
            return None
        (e0, t0), (e1, t1) = self._marks[0], self._marks[-1]
        return max(0.0, (t1 - t0) / (e1 - e0) * (total - e1) - (now - t1))

    def nbytes(self) -> int:
        snaps = self.snapshots
        return int(self.frame().memory_usage(deep=False).sum()) + (snaps.nbytes() if snaps is not None else 0)


def data_fingerprint(data: Any) -> str:
    """A digest of an uploaded table's tensors: the same upload by the same visitor reuses its job."""
    h = hashlib.sha1()
    for name in ("X_train", "y_train", "X_val", "y_val"):
        t = getattr(data, name, None)
        if t is not None:
            h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


class JobManager:
    """Runs sweeps on `limits.max_concurrent_jobs` worker threads; at most `limits.max_queued_jobs` wait.

    submit() returns the existing job for an equal request (dedupe), or a finished one from the LRU.
    Watchers touch() a job on every poll; reap() cancels an active job whose watchers all went silent for
    `heartbeat_timeout` seconds (a janitor thread calls it every `reap_every` seconds); release() drops a
    departed visitor at once.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, backend: Backend | None = None,
                 max_results: int | None = None, max_result_bytes: int | None = None, heartbeat_timeout: float = 30.0,
                 reap_every: float = 5.0, clock: Callable[[], float] = time.monotonic, warm: bool = True,
                 torch_threads: int | None = None):
        # where sweeps train (default: in this process, which alone keeps parameter snapshots for the pictures)
        self.backend = backend or InProcess()
        self.limits, self.clock = limits, clock
        # finished results kept for reuse: by default the limits' bounds (entries and bytes); the bytes bound also
        # covers every ended job a page still holds (_fit_locked)
        self.max_results = limits.max_results if max_results is None else max_results
        self.max_result_bytes = limits.max_result_mb * 2**20 if max_result_bytes is None else max_result_bytes
        self.heartbeat_timeout = heartbeat_timeout
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._active: dict[tuple, Job] = {}
        self._results: OrderedDict[tuple, Job] = OrderedDict()
        # every ended job still alive anywhere (the results above, or a page that shows it): together within
        # max_result_bytes, or pages would hold what the store let go (12 visitors' 30 MB snapshots: 360 MB)
        self._ended: weakref.WeakSet[Job] = weakref.WeakSet()
        self._closed = False
        self._stop = threading.Event()
        if torch_threads is not None:
            # Process-wide, before the workers' first op. More intra-op threads than free cores makes
            # OpenMP spin against the browser and the other sweeps: measured 1.4–62 s vs 0.6 s for one sweep.
            self.backend.set_threads(torch_threads)
        if warm:  # here, not in a worker: with a crowd polling, a worker importing the engine got too
            self.backend.warm_up()  # little of the GIL and the queue stood still for minutes (benchmarks/load.py)
        n = max(1, limits.max_concurrent_jobs)
        self._threads = [threading.Thread(target=self._work, daemon=True,
                                          name=f"wdlab-worker-{i}") for i in range(n)]
        self._threads.append(threading.Thread(target=self._janitor, args=(reap_every,), daemon=True,
                                              name="wdlab-janitor"))
        for t in self._threads:
            t.start()

    # -- what pages call -------------------------------------------------------------------------------
    def key(self, cfg: SweepConfig, data: Any = None, owner: str | None = None) -> tuple:
        if data is None:
            return (cfg,)
        if owner is None:
            raise ValueError("a job on uploaded data needs an owner (the visitor's session id)")
        # An upload stays its owner's: equal configs on two visitors' data never share a job.
        return (cfg, owner, data_fingerprint(data))

    def submit(self, cfg: SweepConfig, data: Any = None, owner: str | None = None) -> Job:
        """The job for this request: a finished or active equal one, else a new one in the queue."""
        key = self.key(cfg, data, owner)
        with self._cond:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            if key in self._results:
                self._results.move_to_end(key)
                job = self._results[key]
            elif key in self._active and not self._active[key].cancel_event.is_set():
                job = self._active[key]   # a job being cancelled is not joined: the request gets a new one
            else:
                if len(self._queue) >= self.limits.max_queued_jobs:
                    raise QueueFull(f"the server is busy: {len(self._queue)} sweeps are already waiting "
                                    f"(at most {self.limits.max_queued_jobs}); try again in a minute")
                job = Job(key, cfg, data, self.clock)
                self._active[key] = job
                self._queue.append(job)
                self._renumber()
                self._cond.notify()
            if owner is not None:
                job.watchers[owner] = self.clock()
            return job

    def touch(self, job: Job, watcher: str) -> None:
        """A page polled the job: it is still wanted."""
        with self._cond:
            job.watchers[watcher] = self.clock()

    def cancel(self, job: Job, watcher: str | None = None) -> bool:
        """Stop watching; the job stops when no other watcher remains (watcher None: stop it outright).
        Returns True when the job was cancelled."""
        with self._cond:
            if watcher is not None:
                job.watchers.pop(watcher, None)
                if job.watchers:
                    return False
            return self._cancel_locked(job)

    def release(self, watcher: str) -> list[Job]:
        """A visitor left (its tab closed): it watches no job any more, and its active jobs that no one else
        watches are cancelled now rather than after the heartbeat. Returns those cancelled."""
        with self._cond:
            left = [j for j in self._active.values() if j.watchers.pop(watcher, None) is not None and not j.watchers]
            return [j for j in left if self._cancel_locked(j)]

    def get(self, key: tuple) -> Job | None:
        with self._cond:
            return self._results.get(key) or self._active.get(key)

    def reap(self) -> list[Job]:
        """Cancel active jobs whose every watcher stopped polling `heartbeat_timeout` seconds ago."""
        now = self.clock()
        with self._cond:
            silent = [j for j in self._active.values()
                      if j.watchers and all(now - t > self.heartbeat_timeout for t in j.watchers.values())]
            for job in silent:
                self._cancel_locked(job)
            return silent

    def training(self) -> int:
        """How many sweeps train now (cheap: a waiting page asks at every poll)."""
        with self._cond:
            return len(self._active) - len(self._queue)

    def stats(self) -> dict:
        with self._cond:
            return {"queued": len(self._queue), "running": len(self._active) - len(self._queue),
                    "results": len(self._results), "result_bytes": sum(j.nbytes() for j in self._results.values())}

    def shutdown(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closed = True
            for job in list(self._active.values()):
                self._cancel_locked(job)
            self._stop.set()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout)

    # -- inside ------------------------------------------------------------------------------------------
    def _cancel_locked(self, job: Job) -> bool:
        if job.status not in ACTIVE:
            return False
        job.cancel_event.set()
        if job.status == "queued":  # never started: finish it here, its worker will not see it
            self._queue.remove(job)
            self._renumber()
            self._finish_locked(job, "cancelled")
        return True

    def _renumber(self) -> None:
        for i, job in enumerate(self._queue, 1):
            job.position = i

    def _finish_locked(self, job: Job, status: str, error: str = "") -> None:
        with job._lock:
            job.status, job.error, job.position = status, error, 0
            job.ended = self.clock()
        if self._active.get(job.key) is job:
            del self._active[job.key]
        job.data = None  # the result is the frame; an upload need not stay in memory with it
        if status == "done":
            self._results[job.key] = job
            self._evict_locked()
        else:  # cancelled, abandoned or failed: nobody is shown its rows, so they are freed now
            with job._lock:
                job._frame, job._rows = None, None
        self._ended.add(job)
        self._fit_locked(job)
        job.done_event.set()

    def _fit_locked(self, newest: Job) -> None:
        """Every ended job alive — kept for reuse or held by a page — within max_result_bytes. Step by step, the
        older result with the largest snapshots gives up one step of them (Snapshots.thinner: the other seeds, then
        about half the epochs), the least recently watched first among equals; only once every older one is at its
        least are they let go, least recently watched first; the newest result comes after all of them. So every
        page keeps some pictures for as long as the bound allows. A thinned job leaves the results (the same
        request trains a whole one again). Curves (frames) always stay."""
        alive = list(self._ended)
        total = sum(j.nbytes() for j in alive)
        seen = {id(j): max(j.watchers.values(), default=j.ended or 0.0) for j in alive}
        for group in ([j for j in alive if j is not newest], [newest]):
            while total > self.max_result_bytes:
                kept = [j for j in group if j.snapshots is not None]
                if not kept:
                    break
                thin = [j for j in kept if not j.snapshots.smallest()]
                job = max(thin, key=lambda j: (j.snapshots.nbytes(), -seen[id(j)])) if thin else \
                    min(kept, key=lambda j: seen[id(j)])
                before = job.nbytes()
                smaller = job.snapshots.thinner()
                with job._lock:
                    job.snapshots, job.let_go = smaller, smaller is None
                if self._results.get(job.key) is job:
                    del self._results[job.key]
                total -= before - job.nbytes()

    def _evict_locked(self) -> None:
        total = sum(j.nbytes() for j in self._results.values())
        while self._results and (len(self._results) > self.max_results or total > self.max_result_bytes):
            _, old = self._results.popitem(last=False)
            total -= old.nbytes()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop.is_set():
                    self._cond.wait()
                if self._stop.is_set():
                    return
                job = self._queue.popleft()
                self._renumber()
                with job._lock:
                    job.status, job.position, job.started = "running", 0, self.clock()
            status, error = "done", ""
            try:
                work = prepare(job.cfg, data=job.data, limits=self.limits, snapshots=self.backend.snapshots)
                work.check()
                plan = work.plans[0]
                with job._lock:   # a page sees the rows and the snapshots while it trains
                    job.snapshots, job._rows = plan.snapshots, work.rows
                result = train(work, backend=self.backend, on_progress=job.progress, cancel=job.cancel_event)
                outcome = result.outcomes[0]
                with job._lock:   # the whole frame, built once
                    job._frame, job._frame_epoch, job._rows = result.frame, job.epochs_done, None
                    job.diverged = dict(outcome.diverged)
                status = outcome.status
                error = f"internal error: {outcome.error}" if status == "failed" else ""
            except ConfigError as e:
                status, error = "failed", str(e)
            except Exception as e:  # a worker must survive any one sweep's failure
                status, error = "failed", f"internal error: {type(e).__name__}: {e}"
            work = plan = result = None  # this thread waits for its next job holding nothing of the last one
            with self._cond:
                self._finish_locked(job, status, error)
            job = None

    def _janitor(self, every: float) -> None:
        while not self._stop.wait(every):
            self.reap()


_ids = itertools.count()


def new_watcher_id() -> str:
    """A process-unique id for a visitor's session."""
    return f"w{next(_ids)}-{time.time_ns()}"
