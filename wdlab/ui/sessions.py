"""Visitors who left: their Streamlit sessions closed for good after the reconnect window, their memory handed back.

Streamlit keeps a closed tab's session (its session state: the per-visitor figures and frames the pages keep)
for `server.disconnectedSessionTTL` seconds so that a reconnecting tab resumes it, but it reaps that store only
when another session is stored: once the visitors have left, nothing is written and every session stays — with
its figures — for as long as the server runs (3 visitors' sessions held 65 Plotly figures; closing them freed
59). Nor does Python's full collection run on an idle server (runner.postScriptGC is off), nor does glibc hand
freed heap back by itself: the janitor does both after sessions close.

A departed visitor's sweeps are released sooner, `leave` seconds after its tab was first seen gone (a closed tab
closes its websocket at once; a hidden one keeps it): training on for nobody until the 90 s heartbeat, 12
departed visitors' sweeps raised the server from 627 to 913 MB after the browsers closed (docs/BUDGET.md).
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class Departures:
    """The sessions seen, and since when each has been gone; thread-safe.

    arrive(session, owner) on every script run; check(alive) returns (once each) the owners of sessions not alive
    for `leave` seconds (their jobs to release) and the sessions not alive for `grace` seconds (to close), checked
    at each call: a session that comes back in time is kept, and released again if it leaves again."""

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic, leave: float | None = None):
        self.grace, self._clock = grace, clock
        self.leave = grace if leave is None else min(leave, grace)
        self._gone_since: dict[str, float | None] = {}   # session id -> when it was first seen gone (None: here)
        self._owners: dict[str, str] = {}                 # session id -> the visitor id its jobs are watched by
        self._released: set[str] = set()                  # sessions gone whose owner was returned by check()
        self._lock = threading.Lock()

    def arrive(self, session: str, owner: str | None = None) -> None:
        with self._lock:
            self._gone_since[session] = None
            self._released.discard(session)
            if owner is not None:
                self._owners[session] = owner

    def check(self, alive: Callable[[str], bool]) -> tuple[list[str], list[str]]:
        """(owners to release, sessions to close), each returned once."""
        now = self._clock()
        with self._lock:
            sessions = list(self._gone_since.items())
        release, due = [], []
        for session, since in sessions:
            here = alive(session)
            with self._lock:
                if session not in self._gone_since:
                    continue
                if here:
                    self._gone_since[session] = None
                    self._released.discard(session)
                    continue
                if since is None:
                    self._gone_since[session] = since = now
                gone = now - since
                if gone >= self.leave and session not in self._released:
                    self._released.add(session)
                    if session in self._owners:
                        release.append(self._owners[session])
                if gone >= self.grace:
                    del self._gone_since[session]
                    self._owners.pop(session, None)
                    self._released.discard(session)
                    due.append(session)
        return release, due

    def due(self, alive: Callable[[str], bool]) -> list[str]:
        """The sessions to close (check's second half)."""
        return self.check(alive)[1]

    def __len__(self) -> int:
        with self._lock:
            return len(self._gone_since)


def sweep(departures: Departures, alive: Callable[[str], bool], close: Callable[[str], None],
          give_back: Callable[[], None], closed_before: int,
          release: Callable[[str], None] = lambda owner: None) -> int:
    """One janitor round: release the jobs of visitors gone for `leave` seconds, close the sessions due; hand
    memory back one round after some closed (closing runs on Streamlit's event loop, after this returns).
    Returns how many this round closed."""
    if closed_before:
        give_back()
    owners, due = departures.check(alive)
    for owner in owners:
        release(owner)
    for session in due:
        close(session)
    return len(due)
