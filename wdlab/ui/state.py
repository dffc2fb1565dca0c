"""Server-wide and per-visitor state: the one JobManager, the limits in force, the visitor's id."""
from __future__ import annotations

import os

import streamlit as st

from ..config import DEFAULT_LIMITS, DEMO_LIMITS, Limits, demo_mode
from ..jobs import JobManager, new_watcher_id

POLL_SECONDS = 0.4          # how often a live view asks its job for new epochs
HEARTBEAT_SECONDS = 90.0    # a job whose every viewer stayed silent this long is cancelled (browsers
                            # throttle hidden tabs' timers to about one a minute: stay above that)


def _secrets() -> dict:
    try:  # no secrets.toml is the normal case locally: st.secrets then raises
        return dict(st.secrets)
    except Exception:
        return {}


def limits() -> Limits:
    return DEMO_LIMITS if demo_mode(secrets=_secrets()) else DEFAULT_LIMITS


@st.cache_resource(show_spinner=False, on_release=lambda m: m.shutdown(timeout=1.0))
def manager() -> JobManager:
    """One registry of jobs for every visitor (a thread-safe object: the only shared mutable state)."""
    lim = limits()
    # Each running sweep gets its share of the cores: small members gain nothing from more threads.
    threads = max(1, (os.cpu_count() or 1) // max(1, lim.max_concurrent_jobs))
    return JobManager(lim, heartbeat_timeout=HEARTBEAT_SECONDS, torch_threads=threads)


def owner() -> str:
    """This browser session's id: its heartbeats, and the key that keeps its uploads to itself."""
    if "wdlab_owner" not in st.session_state:
        st.session_state["wdlab_owner"] = new_watcher_id()
    return st.session_state["wdlab_owner"]
