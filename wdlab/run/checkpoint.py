"""Nothing trained is lost: a grid's parts written as they finish, and a killed run continued (`wdlab run --out
x.csv [--resume]`).

A grid trains in parts (`units`): each architecture's groups (optimizer, lr), a group cut further into the
member chunks its memory plan asks for (on Ray: whole groups, its tasks). Each finished part's rows go to
FOLDER/a{arch}-m{first}-{stop}.npz (exact columns and dtypes, no pickle) through a temporary file renamed over
it once on disk, so a kill -9 leaves whole parts only. FOLDER/manifest.json says which grid the parts belong to;
`--resume` loads the finished parts into the gatherer (run.train.Rows) and trains the others, so the frame, and
its CSV, are the uninterrupted run's, byte for byte (a member's numbers do not depend on what trains beside it).
Imports no torch.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile

from wdlab.errors import ConfigError
from wdlab.run.train import Work

PART = re.compile(r"a(\d+)-m(\d+)-(\d+)\.npz")


def units(work: Work, whole_groups: bool = False) -> list[tuple[int, range]]:
    """(sweep, members) of every part: each group's members, in chunks of its plan's max_chunk_members."""
    out = []
    for a, plan in enumerate(work.plans):
        members = plan.cfg.members
        chunk = None if whole_groups else plan.knobs.get("max_chunk_members")
        start = 0
        while start < len(members):
            stop = start
            while stop < len(members) and members[stop][:2] == members[start][:2]:
                stop += 1
            step = chunk or stop - start
            out += [(a, range(s, min(s + step, stop))) for s in range(start, stop, step)]
            start = stop
    return out


def atomic_write(path: str, data: bytes) -> None:
    """`data` to `path` through a temporary file in its folder, fsynced and renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Store:
    """The parts folder of one grid: `fingerprint` names the grid (its configs and data), `parts` its units."""

    def __init__(self, folder: str, fingerprint: str, parts: list[tuple[int, range]]):
        self.folder, self.fingerprint = folder, fingerprint
        self.broken = ""   # why parts can no longer be saved (a full disk): training goes on, resuming is lost
        self.parts = [(a, r.start, r.stop) for a, r in parts]

    def manifest(self) -> dict:
        return {"grid": self.fingerprint, "parts": self.parts}

    def start(self, resume: bool) -> list[tuple[int, int, int]]:
        """Open the folder: a new one (refused if a run left one, unless resuming), or a resumed one (refused if
        it holds another grid). Returns the finished parts (none for a new run)."""
        flag = f"{self.folder} holds the finished parts of an interrupted run"
        if not resume:
            if os.path.isdir(self.folder) and not any(PART.fullmatch(n) for n in os.listdir(self.folder)):
                shutil.rmtree(self.folder)   # a run that ended before any part finished: nothing to continue
            if os.path.exists(self.folder):
                raise ConfigError(f"{flag}: add --resume to continue it, or remove that folder", "resume")
            os.mkdir(self.folder)
            atomic_write(os.path.join(self.folder, "manifest.json"), json.dumps(self.manifest()).encode())
            return []
        try:
            with open(os.path.join(self.folder, "manifest.json")) as f:
                saved = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"--resume: no interrupted run to continue ({self.folder} not found)", "resume") \
                from None
        except (OSError, ValueError) as e:
            raise ConfigError(f"--resume: {self.folder}/manifest.json is unreadable: {e}", "resume") from None
        if saved.get("grid") != self.fingerprint or [tuple(p) for p in saved.get("parts", [])] != self.parts:
            raise ConfigError(f"--resume: {self.folder} holds a different grid (other flags, data or backend); "
                              "run with the same flags, or remove that folder", "resume")
        done = []
        for name in os.listdir(self.folder):
            m = PART.fullmatch(name)
            if m and tuple(map(int, m.groups())) in self.parts:
                done.append(tuple(map(int, m.groups())))
        return sorted(done)

    def path(self, a: int, first: int, stop: int) -> str:
        return os.path.join(self.folder, f"a{a}-m{first}-{stop}.npz")

    def save(self, a: int, first: int, stop: int, frame) -> None:
        import numpy as np  # deferred: with the rows, never at --help time
        buf = io.BytesIO()
        # text columns (object or pandas' str) as fixed-width unicode: loadable without pickle
        np.savez(buf, **{c: frame[c].to_numpy(dtype=None if frame[c].dtype.kind in "biuf" else str)
                         for c in frame.columns})
        atomic_write(self.path(a, first, stop), buf.getvalue())

    def load(self, a: int, first: int, stop: int):
        import numpy as np  # deferred: as save
        import pandas as pd  # deferred: as save
        with np.load(self.path(a, first, stop), allow_pickle=False) as z:
            return pd.DataFrame({c: z[c].astype(object) if z[c].dtype.kind == "U" else z[c] for c in z.files})

    def remove(self) -> None:
        """The whole result is written: the parts are no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)


def resume(work: Work, store: Store, done: list[tuple[int, int, int]]) -> int:
    """Put the finished parts' rows into work.rows and leave each plan only its unfinished parts; hook the rows
    so every part that finishes from now on is saved. Returns the members already trained."""
    finished = set(done)
    for a, first, stop in done:
        work.rows.put(a, first, store.load(a, first, stop))
    for a, plan in enumerate(work.plans):
        plan.parts = [range(f, s) for b, f, s in store.parts if b == a and (b, f, s) not in finished]
    stops = {(a, f): s for a, f, s in store.parts}

    def save(a: int, first: int, frame) -> None:
        if store.broken:
            return
        try:
            store.save(a, first, stops[(a, first)], frame)
        except OSError as e:   # a fault of the parts' disk never costs the training
            store.broken = e.strerror or type(e).__name__
    work.rows.on_part = save
    return sum(s - f for _, f, s in done)
