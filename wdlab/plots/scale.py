"""Axis ranges that keep the finite part of a blow-up readable and are shared across compared runs."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

BLOWUP = 10.0   # a diverging member's values above BLOWUP × (the healthy members' largest, or its start) are off-scale


@dataclass(frozen=True)
class AxisRange:
    """A y-axis range in Plotly's units (log10 of the values on a log axis) and whether curves leave its top."""

    lo: float
    hi: float
    log: bool
    clipped: bool = False

    @property
    def top(self) -> float:
        """The top edge in data units."""
        return 10 ** self.hi if self.log else self.hi

    def as_list(self) -> list[float]:
        return [self.lo, self.hi]


def y_range(frames: Sequence[pd.DataFrame], columns: Sequence[str], log: bool = False,
            shared: bool = False) -> AxisRange | None:
    """The y-range for `columns` of `frames`: None when Plotly's own autorange is right (one run, nothing blew up).

    A member that diverged usually climbs through huge finite values (1e26) before its loss turns NaN; on an
    axis reaching them every other curve is flat. Its values above BLOWUP × the reference (the largest value of
    the members that did not diverge, and every member's epoch-0 value) are left off-scale (clipped=True).
    shared=True: a range for every frame at once (runs compared side by side), even when nothing is clipped.
    """
    kept, clipped = [], False
    for frame in frames:
        if frame is None or frame.empty:
            continue
        cols = [c for c in columns if c in frame]
        if not cols:
            continue
        bad = frame.groupby(["weight_decay", "seed"])["diverged"].transform("any")
        vals = frame[cols].to_numpy(dtype=float)
        finite = np.isfinite(vals) & ((vals > 0) if log else True)
        healthy = vals[(~bad.to_numpy())[:, None] & finite]
        start = vals[(frame["epoch"] == frame["epoch"].min()).to_numpy()[:, None] & finite]
        ref = max([np.abs(a).max() for a in (healthy, start) if a.size] or [0.0])
        sick = vals[bad.to_numpy()[:, None] & finite]
        if ref > 0 and sick.size and (np.abs(sick) > BLOWUP * ref).any():
            clipped = True
            sick = sick[np.abs(sick) <= BLOWUP * ref]
        kept += [healthy, sick]
    values = np.concatenate(kept) if kept else np.array([])
    if not values.size or not (clipped or shared):
        return None
    lo, hi = float(values.min()), float(values.max())
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    pad = 0.05 * (hi - lo) if hi > lo else (0.1 if log else 0.05 * max(abs(hi), 1e-12))
    return AxisRange(lo - pad, hi + pad, log, clipped)


def log_ticks(values) -> dict:
    """Tick settings for a log axis over `values`: spanning a decade or more, a labelled tick per decade and
    unlabelled minor ticks between (Plotly's own labels its 2 and 5 minor ticks with bare digits, read as values);
    within one decade, Plotly's own ticks (full numbers)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size < 2 or math.log10(v.max() / v.min()) < 1:
        return {}
    return {"dtick": 1, "minor": {"ticks": "outside", "ticklen": 3, "showgrid": False}}


def column_format(values: pd.Series, difference: bool = False) -> str:
    """One format spec for a whole table column (for "{:spec}"): fixed decimals when its numbers read well so
    (4 significant digits for the smallest), else scientific — never a mix of 7.1059e-7 and 0.0000017733.
    difference=True (a gap, val − train): a value near 0 is a small difference, not a scale of its own, so the
    decimals follow the largest (0.2334 and 0.0004, not 2.334e-01 and 4.000e-04)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = np.abs(v[np.isfinite(v) & (v != 0)])
    if not v.size:
        return ".4g"
    small, big = v.min(), v.max()
    if difference and 1e-3 <= big < 1e6:
        return f".{max(0, min(6, 3 - math.floor(math.log10(big))))}f"
    if small < 1e-3 or big >= 1e6:
        return ".3e"
    return f".{max(0, min(6, 3 - math.floor(math.log10(small))))}f"
