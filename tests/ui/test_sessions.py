"""Visitors who left: their sessions are closed after the reconnect window (once), and the memory handed back."""
from wdlab.ui.sessions import Departures, sweep


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_session_gone_for_the_grace_is_due_once_and_one_back_in_time_is_kept():
    clock = Clock()
    gone = Departures(grace=120, clock=clock)
    for s in ("a", "b", "c"):
        gone.arrive(s)
    alive = {"a": True, "b": False, "c": False}
    assert gone.due(alive.get) == []          # b and c first seen gone now
    clock.now = 60
    alive["c"] = True                         # c reconnects within the window: it starts over
    assert gone.due(alive.get) == []
    clock.now = 119.9
    alive["c"] = False
    assert gone.due(alive.get) == []
    clock.now = 120
    assert gone.due(alive.get) == ["b"]       # gone for 120 s
    assert gone.due(alive.get) == []          # never twice
    clock.now = 240
    assert gone.due(alive.get) == ["c"]       # counted from when it was seen gone again (119.9 s)
    assert len(gone) == 1                     # only a, still here, is remembered


def test_the_janitor_closes_the_sessions_due_then_hands_memory_back_the_round_after():
    clock = Clock()
    gone = Departures(grace=10, clock=clock)
    for s in ("a", "b"):
        gone.arrive(s)
    closed, handed = [], []
    closed_now = sweep(gone, lambda s: False, closed.append, lambda: handed.append(clock.now), 0)
    assert (closed_now, closed, handed) == (0, [], [])
    clock.now = 10
    closed_now = sweep(gone, lambda s: False, closed.append, lambda: handed.append(clock.now), closed_now)
    assert (closed_now, sorted(closed), handed) == (2, ["a", "b"], [])   # closing runs on Streamlit's loop
    clock.now = 15
    closed_now = sweep(gone, lambda s: False, closed.append, lambda: handed.append(clock.now), closed_now)
    assert (closed_now, handed) == (0, [15])   # then the memory, once
    sweep(gone, lambda s: False, closed.append, lambda: handed.append(clock.now), closed_now)
    assert handed == [15]
