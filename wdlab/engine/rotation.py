"""The angle each normalized hidden layer's (W, b) turns in each optimizer step, per member, averaged over an epoch
(rot{k})."""
from __future__ import annotations

import math

import numpy as np
import torch

from wdlab.engine.budget import ROTATION_FLUSH as FLUSH   # steps kept before their angles are taken (budgeted)


class Rotation:
    """rot{k} for the hidden Linear layers k = 1..L of a StackedNet with a normalization (none without): per step, a = layer k's (W, b) before the
    step (before its decay), d = after − a; the angle between a and a + d is atan2(|d⊥|, |a| + d·a/|a|), where
    |d⊥|² = |d|² − (d·a)²/|a|² — from the Gram matrix [[a·a, a·d], [a·d, d·d]] of each member's layer (one
    batched product per parameter a step; the angles of FLUSH steps are taken at once).

    The hidden layers' weights and biases (and their normalizations' gains) are a prefix of the flat buffer:
    it is copied before each step and subtracted after it. Padding is zero in both, so it adds nothing.
    The angle's precision: |d⊥|² is a difference of Gram entries, exact to rounding of |d|² (not of |d⊥|²): the
    angle is exact to rounding where the step turns more than it stretches (d mostly across a), as in training."""

    def __init__(self, net):
        M, dtype = net.M, net.flat.dtype
        # only where a normalization follows each hidden Linear (the law's layers): elsewhere its per-step cost
        # (docs/LAWS.md) would outweigh what it shows
        self.L = len(net.shapes) - 1 if net.norm is not None else 0
        segments = [s for s in net.segments if s.kind in ("weight", "bias") and s.layer <= self.L]
        self.M = M
        end = max((s.offset + M * s.stride for s in segments), default=0)
        self.steps = 0
        self.total = np.zeros((self.L, M))
        self.count = 0                                         # Gram matrices waiting in grams
        if not self.L:
            return
        # every view made once: a step's own work is then one copy, one difference and 2L products
        self.head = net.flat[:end]
        self.buf = torch.zeros(2, end, dtype=dtype)                           # a (before), d (after − before)
        self.grams = torch.empty(FLUSH, len(segments), M, 2, 2, dtype=dtype)
        pairs = [self.buf[:, s.offset:s.offset + M * s.stride].view(2, M, s.stride).transpose(0, 1)
                 for s in segments]                                            # [M, 2, n]
        self.pairs = [(v, v.transpose(1, 2)) for v in pairs]
        self.outs = [list(self.grams[i]) for i in range(FLUSH)]
        # the same memory, seen by numpy (on another device: copied at each flush)
        self.by_layer = self.grams.numpy().reshape(FLUSH, self.L, 2, M, 4) if self.grams.device.type == "cpu" \
            else None

    def before(self) -> None:
        if self.L:
            self.buf[0].copy_(self.head)

    def after(self) -> None:
        if not self.L:
            return
        torch.sub(self.head, self.buf[0], out=self.buf[1])
        for (v, vt), out in zip(self.pairs, self.outs[self.count]):
            torch.bmm(v, vt, out=out)
        self.count += 1
        if self.count == FLUSH:
            self._flush()

    def _flush(self) -> None:
        if not self.count:
            return
        c = self.count
        # a layer's W and b together: [c, L, M, 4] float64, in numpy (tiny arrays: a fraction of torch's per-call
        # cost, which once per full-batch epoch is most of what measuring costs)
        by_layer = self.by_layer if self.by_layer is not None else \
            self.grams.cpu().numpy().reshape(FLUSH, self.L, 2, self.M, 4)
        g = by_layer[:c].sum(2, dtype=np.float64)
        aa, ad, dd = g[..., 0], g[..., 1], g[..., 3]
        # atan2(|d⊥|, |a| + d·a/|a|), both sides times |a|: |d⊥|·|a| = √(a·a d·d − (a·d)²)
        with np.errstate(all="ignore"):   # a diverging member's numbers overflow: its angle is NaN, its row diverged
            across = np.sqrt(np.maximum(aa * dd - ad * ad, 0.0))
            # summed step after step (cumsum): .sum(0) of a [c, 1, 1] array (one layer, one member) is pairwise
            self.total += np.cumsum(np.arctan2(across, aa + ad), 0)[-1]
        self.steps += c
        self.count = 0

    def epoch_means(self) -> np.ndarray:
        """[L, M] float64: the mean angle (radians) over the steps since the last call; NaN before any step."""
        self._flush()
        out = self.total / self.steps if self.steps else np.full_like(self.total, math.nan)
        self.total = np.zeros_like(self.total)
        self.steps = 0
        return out
