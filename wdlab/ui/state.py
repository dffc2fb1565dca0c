"""Server-wide and per-visitor state: the one JobManager, the limits in force, the visitor's id."""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Sequence

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from wdlab.heap import give_back
from wdlab.run.jobs import JobManager, new_watcher_id
from wdlab.run.upload_store import UploadStore
from wdlab.run.train import InProcess
from wdlab.errors import ConfigError
from wdlab.settings.config import Limits, demo_mode, heartbeat_seconds, host_device
from wdlab.settings.limits import app_limits
from wdlab.ui.sessions import Departures, sweep
from wdlab.ui.text import note

POLL_SECONDS = 0.4          # how often a live view asks its job for new epochs
LEAVE_SECONDS = 10.0        # a tab gone this long (its websocket closed) lets go of its sweeps (sessions.py)


def _secrets() -> dict:
    try:  # no secrets.toml is the normal case locally: st.secrets then raises
        return dict(st.secrets)
    except Exception:
        return {}


def is_demo() -> bool:
    """Demo limits in force: WDLAB_DEMO (environment or Streamlit secret), or running on Community Cloud."""
    return demo_mode(secrets=_secrets())


def limits() -> Limits:
    """The demo's limits, or off the demo this machine's with the practitioner's own (WDLAB_LIMITS); the host's
    WDLAB_CONCURRENT_JOBS if set. Fixed once per server (the job registry's): the estimate a page shows and the
    chunks its sweep trains in come from the same limits, however the available memory moves."""
    return limits_cache(is_demo())[0]


def limits_problem() -> str:
    """Why WDLAB_LIMITS was not applied, or ''."""
    return limits_cache(is_demo())[1]


@st.cache_resource(show_spinner=False)
def limits_cache(demo: bool) -> tuple[Limits, str]:
    """(the limits, why WDLAB_LIMITS was not applied or ''), once per server and mode."""
    try:
        return app_limits(secrets={"WDLAB_DEMO": demo}), ""
    except ConfigError as e:  # a bad WDLAB_LIMITS file: said on every page, the machine's limits meanwhile
        return app_limits({**os.environ, "WDLAB_LIMITS": ""}, secrets={"WDLAB_DEMO": demo}), str(e)


def demo_notice() -> None:
    """Say on the page that this server runs with the demo's tighter limits (or that WDLAB_LIMITS is bad)."""
    problem = limits_problem()
    if problem:
        with st.sidebar:
            note("error", f"{problem}; this machine's limits apply meanwhile")
    if is_demo():
        lim = limits()
        st.sidebar.caption(f":material/dns: **Shared demo server**: {lim.describe()}; "
                           f"{lim.max_concurrent_jobs} sweep(s) train at a time, the others wait in a queue.")


def shown(key: str, default: Any = None) -> Any:
    """What the keyed widget `key` shows now, to pass as its default too. The browser falls back to a widget's
    default when it loses the widget's state (seen right after a live view's app rerun: the next click sent
    epochs=1, blank text, decay-bias off); a default equal to the current value makes that loss harmless."""
    return st.session_state.get(key, default)


def shown_index(options: Sequence[Any], key: str, default: int | None = 0) -> int | None:
    """`shown` for widgets that take an index into their options."""
    try:
        return list(options).index(st.session_state.get(key))
    except ValueError:
        return default


class Pinned:
    """A job as one page run reads it: its snapshots taken once. The server's results bound may swap a finished
    job's snapshots for thinner ones, or none, at any moment (run.jobs.JobManager._fit_locked): every picture of
    one run is then drawn from one set. Never keep one in st.session_state: it would hold those snapshots."""

    def __init__(self, job):
        self.job, self.snapshots = job, job.snapshots

    def __getattr__(self, name: str):
        return getattr(self.job, name)


@st.cache_resource(show_spinner=False, on_release=lambda m: m.shutdown(timeout=1.0))
def manager() -> JobManager:
    """One registry of jobs for every visitor (a thread-safe object: the only shared mutable state)."""
    lim = limits()
    # Each running sweep gets its share of the cores but one, which stays with the web server: with 8 visitors
    # polling, a sweep given both of 2 cores crawled (OpenMP threads waiting on each other): 100 epochs of the
    # default sweep took over 2 minutes (benchmarks/load.py). Small members gain nothing from more threads.
    threads = max(1, ((os.cpu_count() or 1) - 1) // max(1, lim.max_concurrent_jobs))
    return JobManager(lim, backend=InProcess(device=host_device()), heartbeat_timeout=heartbeat_seconds(),
                      torch_threads=threads,
                      reap_every=min(5.0, heartbeat_seconds() / 2))


def _alive(session: str) -> bool:
    return not Runtime.exists() or Runtime.instance().is_active_session(session)  # AppTest: no runtime, no reaping


def _forget_files(session: str) -> None:
    """Streamlit's own copy of the session's uploaded bytes, which its reconnect cache never frees."""
    if Runtime.exists():
        Runtime.instance().uploaded_file_mgr.remove_session_files(session)


@st.cache_resource(show_spinner=False, on_release=lambda u: u.stop.set())
def uploads() -> UploadStore:
    """Every visitor's uploaded table, each kept to its owner; a closed tab's table is released after the
    heartbeat time (a reconnecting tab within it keeps its table)."""
    grace = heartbeat_seconds()
    store = UploadStore(limits().max_sessions, grace, on_release=_forget_files,
                        log=lambda message: print(message, file=sys.stderr, flush=True))
    store.stop = threading.Event()

    def janitor():
        while not store.stop.wait(min(5.0, grace / 2)):
            store.reap(_alive)
    threading.Thread(target=janitor, daemon=True, name="wdlab-uploads").start()
    return store


def _close(session: str) -> None:
    """Shut a departed session down for good (its state freed; a tab coming back later starts afresh). Streamlit's
    public call for a logged-out session does exactly that, from any thread."""
    if Runtime.exists():
        Runtime.instance().clear_user_info_for_session(session)


@st.cache_resource(show_spinner=False, on_release=lambda d: d.stop.set())
def departures() -> Departures:
    """The sessions of this server; a janitor cancels the sweeps of a visitor gone for LEAVE_SECONDS that nobody
    else watches, closes the sessions gone for Streamlit's reconnect window (server.disconnectedSessionTTL, 120 s)
    and then hands the memory back (wdlab/ui/sessions.py)."""
    grace = float(st.get_option("server.disconnectedSessionTTL"))
    gone = Departures(grace, leave=LEAVE_SECONDS)
    gone.stop = threading.Event()
    jobs = manager()

    def release(visitor: str) -> None:
        cancelled = jobs.release(visitor)
        if cancelled:
            print(f"wdlab: cancelled {len(cancelled)} sweep(s) of a visitor who left", file=sys.stderr, flush=True)

    def janitor():
        closed = 0
        while not gone.stop.wait(min(5.0, max(min(grace, LEAVE_SECONDS), 0.2) / 2)):
            closed = sweep(gone, _alive, _close, give_back, closed, release)
            if closed:
                print(f"wdlab: closed {closed} session(s) gone for {grace:g} s", file=sys.stderr, flush=True)
    threading.Thread(target=janitor, daemon=True, name="wdlab-sessions").start()
    return gone


def arrive() -> None:
    """Note this browser session (every run): once it has gone its sweeps stop, and after the reconnect window it
    is closed."""
    if Runtime.exists():
        departures().arrive(session_id(), owner())


def session_id() -> str:
    """Streamlit's id of this browser session (what tells the upload store the tab has gone)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else owner()


def owner() -> str:
    """This browser session's id: its heartbeats, and the key that keeps its uploads to itself."""
    if "wdlab_owner" not in st.session_state:
        st.session_state["wdlab_owner"] = new_watcher_id()
    return st.session_state["wdlab_owner"]
