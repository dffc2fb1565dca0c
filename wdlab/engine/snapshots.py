"""Parameter snapshots at a bounded set of epochs, kept while a sweep trains, for pictures of the model (no torch)."""
from __future__ import annotations

import math
import threading
from typing import Sequence

import numpy as np

from wdlab.engine.budget import count_params, shape_of
from wdlab.registry.norms import NORMS
from wdlab.settings.config import Member, SweepConfig

SNAPSHOT_COUNT = 25    # epochs kept: enough for a slider to move smoothly, few enough to bound the memory
MIN_COUNT = 6          # fewer epochs than this show too little on a slider: no snapshots at all
THIN_FLOOR = 2         # ... but a finished result thinned to make room (thinner) keeps its first and last epochs
ALL_MEMBERS_COUNT = 12  # below this many epochs for every member, the first seed's members at more epochs
SHARE = 0.25           # of a sweep's memory budget (Limits.max_sweep_mb) its snapshots may take (the demo: 30 MB,
                       # 25 epochs of the sine preset's four 1-256-256-1 models)


def snapshot_epochs(epochs: int, count: int = SNAPSHOT_COUNT) -> tuple[int, ...]:
    """At most `count` distinct epochs from 0 to `epochs`, both included, spaced evenly in √epoch: denser early,
    where the weights move fastest, yet a fair share late, where decay has had its time (log spacing spent
    half of them on the first tenth of a 100-epoch run)."""
    if epochs < 1 or count < 2:
        return (0, epochs) if epochs >= 1 else (0,)
    if epochs + 1 <= count:
        return tuple(range(epochs + 1))
    def spaced(n: int) -> list[int]:
        return sorted({round(epochs * (i / (n - 1)) ** 2) for i in range(n)})

    n = count   # rounding merges the earliest points: ask for more while at most `count` distinct remain
    while len(spaced(n + 1)) <= count:
        n += 1
    picked = spaced(n)
    return tuple(picked)


class Snapshots:
    """The parameters of `members` at `epochs`, stored as the engine reaches them (from any thread), read by pages.

    Parameters are kept in nn.Sequential order (`names`, `shapes`), each member's as one row of a preallocated
    [epochs, members, params] array in the sweep's dtype. A member that diverged keeps nothing from that epoch on."""

    def __init__(self, epochs: Sequence[int], members: Sequence[Member], names: Sequence[str],
                 shapes: Sequence[tuple[int, ...]], dtype: str = "float32", note: str = ""):
        self.epochs, self.members = tuple(epochs), tuple(members)
        self.names, self.shapes = tuple(names), tuple(tuple(s) for s in shapes)
        self.note = self.plan_note = note   # plan_note: what the plan left out; note: that and any thinning
        self.origin: tuple[int, int] | None = None   # (members, epochs) before thinner() first cut
        self.size = sum(math.prod(s) for s in self.shapes)
        self._row = {m: i for i, m in enumerate(self.members)}
        self._at = {e: i for i, e in enumerate(self.epochs)}
        self._data = np.empty((len(self.epochs), len(self.members), self.size), dtype=dtype)  # pages on touch
        self._have = np.zeros((len(self.epochs), len(self.members)), dtype=bool)
        self._diverged: dict[Member, int] = {}
        self._lock = threading.Lock()

    def wants(self, epoch: int) -> bool:
        return epoch in self._at

    def keeps(self, member: Member) -> bool:
        return member in self._row

    def put(self, epoch: int, members: Sequence[Member], rows) -> None:
        """Store members' flat parameters at `epoch` (rows: [len(members), size], any array-like)."""
        e = self._at[epoch]
        idx = [self._row[m] for m in members]
        block = np.asarray(rows)
        with self._lock:
            self._data[e, idx] = block
            self._have[e, idx] = True

    def diverged(self, member: Member, epoch: int) -> None:
        """`member` diverged at `epoch`: nothing is stored for it from then on; earlier epochs stay."""
        if member in self._row:
            with self._lock:
                self._diverged[member] = epoch

    def taken(self) -> tuple[int, ...]:
        """The epochs stored for every kept member that had not diverged by then (ascending)."""
        with self._lock:
            out = []
            for e, epoch in enumerate(self.epochs):
                done = all(self._have[e, i] or self._diverged.get(m, math.inf) <= epoch
                           for i, m in enumerate(self.members))
                if done and self._have[e].any():
                    out.append(epoch)
            return tuple(out)

    def latest(self, epoch: int) -> int | None:
        """The last taken epoch at or before `epoch`, else None."""
        before = [e for e in self.taken() if e <= epoch]
        return before[-1] if before else None

    def params(self, epoch: int, member: Member) -> list[np.ndarray] | None:
        """`member`'s parameters at `epoch` in nn.Sequential order (copies), or None if not stored."""
        e, i = self._at.get(epoch), self._row.get(member)
        if e is None or i is None:
            return None
        with self._lock:
            if not self._have[e, i]:
                return None
            flat = self._data[e, i].copy()
        out, start = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            out.append(flat[start:start + n].reshape(shape))
            start += n
        return out

    def diverged_at(self, member: Member) -> int | None:
        with self._lock:
            return self._diverged.get(member)

    def nbytes(self) -> int:
        return int(self._data.nbytes + self._have.nbytes)

    def smallest(self) -> bool:
        """Nothing left to thin: one seed's models at THIN_FLOOR epochs or fewer (thinner() gives None)."""
        return len({m.seed for m in self.members}) <= 1 and len(self.taken()) <= THIN_FLOOR

    def thinner(self) -> "Snapshots | None":
        """A smaller copy, one step down, for a server that must make room (the job manager's results bound):
        first only the first seed's models (the panels the pictures show first), then about half the epochs taken,
        down to THIN_FLOOR (the first and the last: before and after training); None when only that is left. The
        kept numbers are the same; the note says what was let go."""
        taken = self.taken()
        members, epochs = self.members, taken
        first = self.members[0].seed if self.members else None
        if any(m.seed != first for m in self.members):
            members = tuple(m for m in self.members if m.seed == first)
        elif len(taken) > THIN_FLOOR:
            k = max(THIN_FLOOR, (len(taken) + 1) // 2)
            epochs = tuple(taken[round(i * (len(taken) - 1) / (k - 1))] for i in range(k))
        else:
            return None
        out = Snapshots(epochs, members, self.names, self.shapes, str(self._data.dtype), self.plan_note)
        out.origin = self.origin or (len(self.members), len(taken))
        e_idx, m_idx = [self._at[e] for e in epochs], [self._row[m] for m in members]
        with self._lock:
            out._data[...] = self._data[np.ix_(e_idx, m_idx)]
            out._have[...] = self._have[np.ix_(e_idx, m_idx)]
            out._diverged = {m: at for m, at in self._diverged.items() if m in out._row}
        cut = ([f"only seed {first}'s models"] if len(members) < out.origin[0] else []) + \
              ([f"{len(epochs)} of their {out.origin[1]} epochs"] if len(epochs) < out.origin[1] else [])
        out.note = " ".join(x for x in (self.plan_note, "While other results are open on this server, these "
                                        f"pictures keep {', at '.join(cut)}, to stay within its memory.") if x)
        return out


def shapes(in_dim: int, hidden: Sequence[int], out_dim: int, norm: str = "none") -> tuple[list[str], list[tuple]]:
    """nn.Sequential state_dict names and parameter shapes of wdlab.engine.models.build_mlp, without building it."""
    names, out, width, index = [], [], in_dim, 0
    spec = NORMS[norm]
    step = 2 if spec.identity else 3   # Linear [, normalization], activation
    for h in hidden:
        names += [f"{index}.weight", f"{index}.bias"]
        out += [(h, width), (h,)]
        names += [f"{index + 1}.{p}" for p in spec.params]
        out += [(h,)] * len(spec.params)
        index += step
        width = h
    names += [f"{index}.weight", f"{index}.bias"]
    out += [(out_dim, width), (out_dim,)]
    return names, out


def plan(cfg: SweepConfig, in_dim: int, out_dim: int, budget_bytes: float) -> Snapshots | None:
    """Snapshots for cfg within `budget_bytes`: every member at SNAPSHOT_COUNT epochs if that fits, else at fewer
    (down to ALL_MEMBERS_COUNT); else only the first seed's members (one per optimizer × lr × λ, the panels the
    pictures show first) at up to SNAPSHOT_COUNT epochs, down to MIN_COUNT; else None.
    The note says, in words, what was left out."""
    names, shp = shapes(in_dim, cfg.hidden, out_dim, cfg.norm)
    assert sum(math.prod(s) for s in shp) == count_params(in_dim, cfg.hidden, out_dim, cfg.norm)
    item = 8 if cfg.dtype == "float64" else 4
    per_epoch_member = count_params(in_dim, cfg.hidden, out_dim, cfg.norm) * item + 1
    first_seed = [m for m in cfg.members if m.seed == cfg.seeds[0]]
    alone = len(first_seed) == len(cfg.members)
    for members, least, what in (
            (cfg.members, MIN_COUNT if alone else ALL_MEMBERS_COUNT, ""),
            (first_seed, MIN_COUNT, f"only the first seed's models (seed {cfg.seeds[0]}) are kept")):
        if what and alone:
            continue
        fits = int(budget_bytes // (per_epoch_member * len(members)))
        count = min(SNAPSHOT_COUNT, fits)
        epochs = snapshot_epochs(cfg.epochs, count) if count >= 2 else ()
        if len(epochs) >= min(least, cfg.epochs + 1):
            short = len(epochs) < min(SNAPSHOT_COUNT, cfg.epochs + 1)
            why = [what] if what else []
            if short:
                why.append(f"{len(epochs)} epochs rather than {min(SNAPSHOT_COUNT, cfg.epochs + 1)}")
            note = ("To stay within this server's memory, " + " and ".join(why) + ".") if why else ""
            return Snapshots(epochs, members, names, shp, cfg.dtype, note)
    return None


def budget_bytes(max_sweep_mb: float, sweep_bytes: float) -> float:
    """What a sweep's snapshots may take: SHARE of its memory budget, and no more than the sweep leaves of it."""
    total = max_sweep_mb * 1_000_000
    return max(0.0, min(SHARE * total, total - sweep_bytes))


def for_sweep(cfg: SweepConfig, max_sweep_mb: float, sweep_bytes: float, data=None) -> Snapshots | None:
    """The snapshots a sweep of cfg (on `data`, else its preset) keeps on a server whose per-sweep budget is
    max_sweep_mb, the sweep itself estimated at sweep_bytes (wdlab.engine.budget.validate): what the app's jobs keep."""
    shape = shape_of(cfg, data)
    return plan(cfg, shape.in_dim, shape.out_dim, budget_bytes(max_sweep_mb, sweep_bytes))
