"""Visitors who left: their Streamlit sessions closed for good after the reconnect window, their memory handed back.

Streamlit keeps a closed tab's session (its session state: the per-visitor figures and frames the pages keep)
for `server.disconnectedSessionTTL` seconds so that a reconnecting tab resumes it, but it reaps that store only
when another session is stored: once the visitors have left, nothing is written and every session stays — with
its figures — for as long as the server runs (3 visitors' sessions held 65 Plotly figures; closing them freed
59). Nor does Python's full collection run on an idle server (runner.postScriptGC is off), nor does glibc hand
freed heap back by itself: the janitor does both after sessions close.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class Departures:
    """The sessions seen, and since when each has been gone; thread-safe.

    arrive() on every script run; due(alive) returns (once) the sessions not alive for `grace` seconds, checked
    at each call: a session that comes back in time is kept."""

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic):
        self.grace, self._clock = grace, clock
        self._gone_since: dict[str, float | None] = {}   # session id -> when it was first seen gone (None: here)
        self._lock = threading.Lock()

    def arrive(self, session: str) -> None:
        with self._lock:
            self._gone_since[session] = None

    def due(self, alive: Callable[[str], bool]) -> list[str]:
        now = self._clock()
        with self._lock:
            sessions = list(self._gone_since.items())
        due = []
        for session, since in sessions:
            here = alive(session)
            with self._lock:
                if session not in self._gone_since:
                    continue
                if here:
                    self._gone_since[session] = None
                elif since is None:
                    self._gone_since[session] = now
                elif now - since >= self.grace:
                    del self._gone_since[session]
                    due.append(session)
        return due

    def __len__(self) -> int:
        with self._lock:
            return len(self._gone_since)


def sweep(departures: Departures, alive: Callable[[str], bool], close: Callable[[str], None],
          give_back: Callable[[], None], closed_before: int) -> int:
    """One janitor round: close the sessions due; hand memory back one round after some closed (closing runs on
    Streamlit's event loop, after this returns). Returns how many this round closed."""
    if closed_before:
        give_back()
    due = departures.due(alive)
    for session in due:
        close(session)
    return len(due)
