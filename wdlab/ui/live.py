"""Starting a sweep and watching it: the live fragment that polls a job, and the finished view."""
from __future__ import annotations

import dataclasses
import time
from typing import Any

import streamlit as st

from wdlab.run.jobs import Job
from wdlab.settings.config import ConfigError, SweepConfig
from wdlab.ui import code_view, law_view, model_view, results
from wdlab.ui.state import POLL_SECONDS, manager, owner
from wdlab.ui.text import note

# A waiting page's place in line moves only when a sweep ends: it polls this often (each poll of each page holds
# the GIL the training sweep needs: 11 waiting pages polling every 0.4 s took more of it than the sweep got).
QUEUED_POLL_SECONDS = 2.0


def start(cfg: SweepConfig, slot: str = "job", data: Any = None) -> Job | None:
    """Submit cfg (shared with any visitor asking the same; uploads stay this visitor's) and remember it."""
    try:
        job = manager().submit(cfg, data=data, owner=owner())
    except ConfigError as e:  # QueueFull too: what is wrong and what to do (may quote a table's names)
        note("error", str(e), key=slot)  # a page starting two runs may be refused twice
        return None
    previous = st.session_state.get(slot)
    if previous is not None and previous is not job:  # this tab now watches another run: free the old one
        manager().cancel(previous, owner())
    st.session_state[slot] = job
    st.session_state.pop(f"{slot}_stopped", None)
    # what the finished view says: trained for this request, joined while training, or reused when done
    st.session_state[f"{slot}_asked"] = (job, manager().clock(), job.snapshot(with_frame=False).finished)
    # A moment's wait draws the first curves in this run, or a short sweep's final view at once, rather than
    # empty axes and then, a poll later, the curves.
    job.wait_for_epochs(2, timeout=0.3)
    return job


def job_view(slot: str = "job", *, key: str = "main", options: results.ViewOptions | None = None,
             with_summary: bool = True, shared: tuple[str, ...] = (), source: Any = None,
             pictures: bool = False, data: Any = None, laws: bool = False) -> Job | None:
    """Show the job kept in st.session_state[slot]: live while it runs, then the full results.

    pictures: the models themselves under the curves (boundaries or fitted curves, weights, more curves); data:
    the visitor's table on screen (a finished job lets go of its own), whose points they draw if it is the job's.
    laws: the laws' predictions dashed on the curves, and the max|w| / rotation figures (the Explorer).

    shared: the slots of runs compared with this one (this one included): their figures share one y-scale.
    source: how an uploaded table was read (codegen's CsvSource), for the "show me the code" script."""
    job: Job | None = st.session_state.get(slot)
    if job is None:
        return None
    options = options or results.ViewOptions()
    stopped = st.session_state.get(f"{slot}_stopped")
    if stopped is not None and stopped[0] is job:  # this visitor cancelled it: what it had then, marked cancelled
        _finished(job, key, options, with_summary, slot, shared, source, stopped[1], pictures, data, laws)
        return job
    manager().touch(job, owner())
    snap = job.snapshot(with_frame=False)
    if not snap.finished:
        queued = snap.status == "queued"
        st.fragment(_live, run_every=QUEUED_POLL_SECONDS if queued else POLL_SECONDS)(slot, key, options, shared,
                                                                                      laws, queued)
        if pictures:  # a fragment of its own, polling less often than the curves: the pictures cost more to send
            model_view.model_view(job, None, key, live=True)
        return job
    _finished(job, key, options, with_summary, slot, shared, source, pictures=pictures, data=data, laws=laws)
    return job


def _shared_frames(shared: tuple[str, ...]):
    """The frames of the compared runs, once each has rows (else None: each figure scales on its own)."""
    jobs = [st.session_state.get(s) for s in shared]
    frames = [j.frame() for j in jobs if j is not None]
    return frames if len(frames) > 1 and all(not f.empty for f in frames) else None


def _live(slot: str, key: str, options: results.ViewOptions, shared: tuple[str, ...] = (),
          laws: bool = False, queued: bool = False) -> None:
    """The polling fragment (queued: it polls at the waiting rate)."""
    job: Job | None = st.session_state.get(slot)
    if job is None:
        return
    manager().touch(job, owner())  # the heartbeat: a tab that stops polling lets its job be cancelled
    snap = job.snapshot(with_frame=False)
    if snap.finished or (queued and snap.status != "queued"):
        # finished: the finished view, which has no polling fragment (polling stops); started: the training rate
        st.rerun(scope="app")
    c1, c2 = st.columns([5, 1])
    with c1:
        if snap.status == "queued":
            st.progress(0.0, text=waiting(snap.position))
        else:
            left = time_left(snap.eta)
            st.progress(snap.epochs_done / max(snap.epochs_total, 1),
                        text=f"Training: epoch {snap.epochs_done} of {snap.epochs_total}{left}")
    if c2.button("Cancel", key=f"{key}_cancel", icon=":material/stop:"):
        # keep what was trained so far on screen (and downloadable), marked cancelled; the job itself stops
        # unless another visitor still watches it (the pictures read the job's own snapshots: the status keeps
        # none, which would hold them past the server's results bound)
        stopped = dataclasses.replace(job.snapshot(), status="cancelled", snapshots=None)
        st.session_state[f"{slot}_stopped"] = (job, stopped)
        manager().cancel(job, owner())
        st.rerun(scope="app")
    # Drawn even before the first epoch lands: empty axes at once, and the browser starts loading Plotly now.
    results.curves(_throttled(job, snap, key), job.cfg, options, key, _shared_frames(shared),
                   law_view.job_predictions(job) if laws else None, live=True)
    results.diverged_notes(snap.diverged, job.cfg)


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def waiting(position: int) -> str:
    """A queued job's progress text: its place in the line, and what is ahead of it (every poll: it moves)."""
    running = manager().training()
    ahead = [f"{position - 1} waiting"] if position > 1 else []
    ahead += [f"{running} training"] if running else []
    behind = f" behind {' and '.join(ahead)}" if ahead else ""
    return (f"Waiting in the queue: position {position} ({ordinal(position)} in line{behind}). It starts by itself; "
            "sweeps train a few at a time on this server.")


def time_left(eta: float | None) -> str:
    """The progress bar's time left, from the job's measured rate (None before two epochs have landed)."""
    if eta is None:
        return ", measuring the speed"
    if eta < 10:
        return ", a few seconds left"
    if eta < 90:
        return f", about {5 * round(eta / 5):.0f} s left"
    return f", about {round(eta / 60):.0f} min left"


def _throttled(job: Job, snap, key: str):
    """The frame to draw now: new epochs at most every max(poll, elapsed/10, ≤ 2 s), so long runs spend their
    CPU on training rather than on redrawing (an unchanged figure is not redrawn by the browser)."""
    slot = f"_drawn_{key}"
    now = time.monotonic()
    last = st.session_state.get(slot)
    interval = min(2.0, max(POLL_SECONDS, snap.elapsed / 10))
    if last is None or last[2] is not job or now - last[0] >= interval or last[1].empty:
        st.session_state[slot] = last = (now, job.frame(), job)
    return last[1]


def _finished(job: Job, key: str, options: results.ViewOptions, with_summary: bool, slot: str = "job",
              shared: tuple[str, ...] = (), source: Any = None, snap=None, pictures: bool = False,
              data: Any = None, laws: bool = False) -> None:
    snap = snap or job.snapshot()
    if snap.status == "failed":
        note("error", f"This sweep could not run: {snap.error}", key=key)  # two runs may fail alike
        return
    status_line(job, snap, slot)
    if snap.frame.empty:
        return
    preds = law_view.job_predictions(job, data) if laws else None
    results.curves(snap.frame, job.cfg, options, key, _shared_frames(shared) if snap.status == "done" else None,
                   preds)
    results.diverged_notes(snap.diverged, job.cfg)
    if pictures:
        model_view.model_view(job, snap.frame, key, data=data)
    code_view.code_expander(job.cfg, snap.frame, key, source)
    if with_summary:
        results.curves_caption(job.cfg)
        tag = job.key[2] if len(job.key) > 2 else ""  # a table's fingerprint: two tables, two file names
        results.summary(snap.frame, job.cfg, key, tag, snap.status, snap.epochs_done, preds)


def status_line(job: Job, snap, slot: str) -> None:
    """What happened, truthfully: trained (and how long this visitor waited), reused, stopped early, cancelled."""
    n, total = len(job.cfg.members), snap.epochs_total
    if snap.status == "cancelled":
        kept = "; the curves, the table and the CSV below are what it had trained by then" if not snap.frame.empty \
            else ""
        st.info(f"This sweep was cancelled after {snap.epochs_done} of {total} epochs{kept}. Press Train to run it "
                "again.", icon=":material/stop_circle:")
        return
    if snap.epochs_done < total:  # every member diverged: the engine stops when none is left to train
        st.warning(f"Every one of the {n} models diverged, the last by epoch {snap.epochs_done} of {total}, so "
                   f"training stopped there ({snap.elapsed:.1f} s).", icon=":material/warning:")
        return
    asked = st.session_state.get(f"{slot}_asked")
    took = f"{n} models × {total} epochs"
    if asked is not None and asked[0] is job and asked[2]:
        st.success(f"Reused a finished run of these settings ({took}): shown at once, not trained again. "
                   f"It took {snap.elapsed:.1f} s when it ran.", icon=":material/cached:")
    elif asked is not None and asked[0] is job and job.started is not None and job.started < asked[1] - 0.05:
        waited = max(0.0, (job.ended or asked[1]) - asked[1])
        st.success(f"Trained {took} in {snap.elapsed:.1f} s; it was already training for another visitor when "
                   f"you asked, so you waited {waited:.1f} s.", icon=":material/check_circle:")
    else:
        st.success(f"Trained {took} in {snap.elapsed:.1f} s.", icon=":material/check_circle:")
