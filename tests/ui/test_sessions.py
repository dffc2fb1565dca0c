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


def test_a_visitor_gone_for_the_leave_time_is_released_once_and_again_only_after_coming_back():
    """Its sweeps stop `leave` s after its tab was first seen gone, long before the session is closed; a tab back
    in time is not released, and one that comes back and leaves again is released again."""
    clock = Clock()
    gone = Departures(grace=120, clock=clock, leave=10)
    gone.arrive("a", "owner-a")
    gone.arrive("b", "owner-b")
    gone.arrive("c")                          # no owner noted: nothing to release
    alive = {"a": False, "b": False, "c": False}
    assert gone.check(alive.get) == ([], [])  # first seen gone now
    clock.now = 5
    alive["b"] = True                         # b's websocket reconnects within the leave time: kept
    assert gone.check(alive.get) == ([], [])
    clock.now = 10
    alive["b"] = False
    assert gone.check(alive.get) == (["owner-a"], [])
    clock.now = 20
    assert gone.check(alive.get) == (["owner-b"], [])   # 10 s after it was seen gone again
    assert gone.check(alive.get) == ([], [])            # never twice
    gone.arrive("a", "owner-a")                          # a came back (a script run) and leaves again
    assert gone.check(alive.get) == ([], [])
    clock.now = 30
    assert gone.check(alive.get) == (["owner-a"], [])
    clock.now = 139
    assert gone.check(alive.get) == ([], ["b", "c"])    # the reconnect window: closed for good
    clock.now = 140
    assert gone.check(alive.get) == ([], ["a"])         # seen gone again at 20 s
    assert len(gone) == 0 and Departures(grace=5, leave=10).leave == 5   # never later than the close


def test_the_janitor_releases_a_departed_visitors_jobs_before_closing_its_session():
    clock = Clock()
    gone = Departures(grace=30, clock=clock, leave=10)
    gone.arrive("a", "owner-a")
    released, closed = [], []
    sweep(gone, lambda s: False, closed.append, lambda: None, 0, released.append)
    clock.now = 10
    sweep(gone, lambda s: False, closed.append, lambda: None, 0, released.append)
    assert (released, closed) == (["owner-a"], [])
    clock.now = 30
    sweep(gone, lambda s: False, closed.append, lambda: None, 0, released.append)
    assert (released, closed) == (["owner-a"], ["a"])
