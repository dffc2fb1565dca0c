"""Visitors' uploaded tables, held server-side per session and released when the session has gone."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from wdlab.errors import ConfigError
from wdlab.heap import give_back


class UploadsFull(ConfigError):
    """The server already holds as many visitors' tables as its memory plan provides for."""


@dataclass
class Held:
    session: str                  # the Streamlit session that uploaded it
    state: dict                   # what the page keeps of it (parsed summary, loaded Data, ...)
    nbytes: int = 0
    gone_since: float | None = field(default=None)  # when its session was first seen closed


class UploadStore:
    """owner id -> that visitor's table (never shared). A closed tab's Streamlit session lingers, unshut, in
    Streamlit's reconnect cache (and its uploaded bytes in Streamlit's file manager) with nothing to free them;
    reap() drops the table of every session that `alive` has reported gone for `grace` seconds, and calls
    `on_release(session)` (the app frees Streamlit's copy of the file there)."""

    def __init__(self, capacity: int, grace: float, *, clock: Callable[[], float] = time.monotonic,
                 on_release: Callable[[str], None] | None = None, log: Callable[[str], None] | None = None):
        self.capacity, self.grace, self.clock = capacity, grace, clock
        self.on_release, self.log = on_release, log
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()

    def state(self, owner: str, session: str, file_id: str) -> dict:
        """The owner's table state for the file `file_id`: a fresh dict for a new file (raises UploadsFull if
        the server holds `capacity` other visitors' tables)."""
        with self._lock:
            held = self._held.get(owner)
            if held is not None and held.state.get("file") == file_id:
                held.session, held.gone_since = session, None
                return held.state
            if held is None and len(self._held) >= self.capacity:
                raise UploadsFull(f"the server is holding {len(self._held)} visitors' tables already (at most "
                                  f"{self.capacity}); try again in a few minutes, or use one of the built-in datasets")
            self._held[owner] = Held(session, {"file": file_id, "fresh": True})
            return self._held[owner].state

    def sized(self, owner: str, nbytes: int) -> None:
        with self._lock:
            if owner in self._held:
                self._held[owner].nbytes = nbytes

    def drop(self, owner: str) -> None:
        """The visitor removed the file or chose another dataset."""
        with self._lock:
            held = self._held.pop(owner, None)
        if held is not None:
            give_back()

    def reap(self, alive: Callable[[str], bool]) -> list[str]:
        """Release the tables of sessions gone for `grace` seconds; returns their owners."""
        now, released = self.clock(), []
        with self._lock:
            for owner, held in list(self._held.items()):
                if alive(held.session):
                    held.gone_since = None
                elif held.gone_since is None:
                    held.gone_since = now
                elif now - held.gone_since >= self.grace:
                    released.append((owner, self._held.pop(owner)))
        for owner, held in released:
            if self.on_release is not None:
                self.on_release(held.session)
            if self.log is not None:
                self.log(f"wdlab: released the table of a closed session ({held.nbytes:,} bytes)")
        if released:
            give_back()
        return [o for o, _ in released]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"tables": len(self._held), "bytes": sum(h.nbytes for h in self._held.values())}


