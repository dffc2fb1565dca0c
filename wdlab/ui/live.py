"""Starting a sweep and watching it: the live fragment that polls a job, and the finished view."""
from __future__ import annotations

import time
from typing import Any

import streamlit as st

from ..config import ConfigError, SweepConfig
from ..jobs import Job
from . import results
from .state import POLL_SECONDS, manager, owner
from .text import note


def start(cfg: SweepConfig, slot: str = "job", data: Any = None) -> Job | None:
    """Submit cfg (shared with any visitor asking the same; uploads stay this visitor's) and remember it."""
    try:
        job = manager().submit(cfg, data=data, owner=owner())
    except ConfigError as e:  # QueueFull too: what is wrong and what to do (may quote a table's names)
        note("error", str(e))
        return None
    previous = st.session_state.get(slot)
    if previous is not None and previous is not job:  # this tab now watches another run: free the old one
        manager().cancel(previous, owner())
    st.session_state[slot] = job
    # A moment's wait draws the first curves in this run, or a short sweep's final view at once, rather than
    # empty axes and then, a poll later, the curves.
    job.wait_for_epochs(2, timeout=0.3)
    return job


def job_view(slot: str = "job", *, key: str = "main", options: results.ViewOptions | None = None,
             with_summary: bool = True) -> Job | None:
    """Show the job kept in st.session_state[slot]: live while it runs, then the full results."""
    job: Job | None = st.session_state.get(slot)
    if job is None:
        return None
    options = options or results.ViewOptions()
    manager().touch(job, owner())
    if not job.snapshot(with_frame=False).finished:
        _live(slot, key, options)
        return job
    _finished(job, key, options, with_summary)
    return job


@st.fragment(run_every=POLL_SECONDS)
def _live(slot: str, key: str, options: results.ViewOptions) -> None:
    job: Job | None = st.session_state.get(slot)
    if job is None:
        return
    manager().touch(job, owner())  # the heartbeat: a tab that stops polling lets its job be cancelled
    snap = job.snapshot(with_frame=False)
    if snap.finished:
        st.rerun(scope="app")  # draws the finished view, which has no polling fragment: polling stops
    c1, c2 = st.columns([5, 1])
    with c1:
        if snap.status == "queued":
            st.progress(0.0, text=f"Waiting in the queue: position {snap.position}. "
                                  "Sweeps run a few at a time on this server.")
        else:
            left = f", about {snap.eta:.0f} s left" if snap.eta is not None else ""
            st.progress(snap.epochs_done / max(snap.epochs_total, 1),
                        text=f"Training: epoch {snap.epochs_done} of {snap.epochs_total}{left}")
    if c2.button("Cancel", key=f"{key}_cancel", icon=":material/stop:"):
        manager().cancel(job, owner())
        st.session_state.pop(slot, None)
        st.rerun(scope="app")
    # Drawn even before the first epoch lands: empty axes at once, and the browser starts loading Plotly now.
    results.curves(_throttled(job, snap, key), job.cfg, options, key)
    results.diverged_notes(snap.diverged, job.cfg)


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


def _finished(job: Job, key: str, options: results.ViewOptions, with_summary: bool) -> None:
    snap = job.snapshot()
    if snap.status == "failed":
        note("error", f"This sweep could not run: {snap.error}")
        return
    if snap.status == "cancelled":
        st.info(f"This sweep was cancelled after {snap.epochs_done} of {snap.epochs_total} epochs; "
                "press Train to run it again.")
    else:
        st.success(f"Trained {len(job.cfg.members)} models × {snap.epochs_total} epochs in {snap.elapsed:.1f} s.",
                   icon=":material/check_circle:")
    if snap.frame.empty:
        return
    results.curves(snap.frame, job.cfg, options, key)
    results.diverged_notes(snap.diverged, job.cfg)
    if with_summary:
        results.curves_caption(job.cfg)
        results.summary(snap.frame, job.cfg, key)
