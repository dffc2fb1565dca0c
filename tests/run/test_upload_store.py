"""The server-side store of visitors' tables: kept to its owner, bounded, released once the session has gone."""
import pytest

from wdlab.run.upload_store import UploadsFull, UploadStore


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_a_closed_sessions_table_is_released_after_the_grace_time_and_a_returning_one_kept():
    clock, released, lines = Clock(), [], []
    store = UploadStore(4, grace=10, clock=clock, on_release=released.append, log=lines.append)
    a = store.state("alice", "s-a", "file1")
    a["loaded"] = b"x" * 1000
    store.sized("alice", 1000)
    store.state("bob", "s-b", "file2")
    assert store.state("alice", "s-a", "file1") is a  # the same file: the same parsed state
    alive = {"s-a": False, "s-b": True}
    assert store.reap(alive.get) == []           # first seen gone now
    clock.t = 9
    alive["s-a"] = True                          # the tab reconnected within the grace time
    assert store.reap(alive.get) == []
    alive["s-a"] = False
    store.reap(alive.get)
    clock.t = 18.9
    assert store.reap(alive.get) == []
    clock.t = 19
    assert store.reap(alive.get) == ["alice"] and released == ["s-a"]
    assert lines == ["wdlab: released the table of a closed session (1,000 bytes)"]
    assert store.stats() == {"tables": 1, "bytes": 0}
    assert store.state("alice", "s-a2", "file1") is not a and store.state("alice", "s-a2", "file1")["fresh"]


def test_a_new_file_replaces_the_old_one_and_the_store_is_bounded():
    store = UploadStore(2, grace=1)
    first = store.state("a", "s1", "f1")
    assert store.state("a", "s1", "f2") is not first  # one table per visitor
    store.state("b", "s2", "f1")
    with pytest.raises(UploadsFull, match="at most 2"):
        store.state("c", "s3", "f1")
    store.drop("a")
    store.state("c", "s3", "f1")
    assert store.stats()["tables"] == 2
