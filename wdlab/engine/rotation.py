"""The angle each hidden layer's (W, b) turns in each optimizer step, per member, averaged over an epoch (rot{k})."""
from __future__ import annotations

import math

import torch

from wdlab.engine.budget import ROTATION_FLUSH as FLUSH   # steps kept before their angles are taken (budgeted)


class Rotation:
    """rot{k} for the hidden Linear layers k = 1..L of a StackedNet: per step, a = layer k's (W, b) before the
    step (before its decay), d = after − a; the angle between a and a + d is atan2(|d⊥|, |a| + d·a/|a|), where
    |d⊥|² = |d|² − (d·a)²/|a|² — from the Gram matrix [[a·a, a·d], [a·d, d·d]] of each member's layer (one
    batched product per parameter a step; the angles of FLUSH steps are taken at once).

    The hidden layers' weights and biases (and their normalizations' gains) are a prefix of the flat buffer:
    it is copied before each step and subtracted after it. Padding is zero in both, so it adds nothing."""

    def __init__(self, net):
        M, dtype = net.M, net.flat.dtype
        self.L = len(net.shapes) - 1
        self.segments = [s for s in net.segments if s.kind in ("weight", "bias") and s.layer <= self.L]
        self.M = M
        self.end = max((s.offset + M * s.stride for s in self.segments), default=0)
        self.buf = torch.zeros(2, self.end, dtype=dtype) if self.L else None   # a (before), d (after − before)
        self.grams = torch.empty(FLUSH, len(self.segments), M, 2, 2, dtype=dtype) if self.L else None
        self.count = 0                                         # Gram matrices waiting in grams
        self.steps = 0
        self.total = torch.zeros(self.L, M, dtype=torch.float64)

    def before(self, flat: torch.Tensor) -> None:
        if self.L:
            self.buf[0].copy_(flat[:self.end])

    def after(self, flat: torch.Tensor) -> None:
        if not self.L:
            return
        torch.sub(flat[:self.end], self.buf[0], out=self.buf[1])
        M = self.M
        for j, s in enumerate(self.segments):
            v = self.buf[:, s.offset:s.offset + M * s.stride].view(2, M, s.stride).transpose(0, 1)   # [M, 2, n]
            torch.bmm(v, v.transpose(1, 2), out=self.grams[self.count, j])
        self.count += 1
        if self.count == FLUSH:
            self._flush()

    def _flush(self) -> None:
        if not self.count:
            return
        c = self.count
        g = self.grams[:c].double().view(c, self.L, 2, self.M, 2, 2).sum(2)   # a layer's W and b together
        aa, ad, dd = g[..., 0, 0], g[..., 0, 1], g[..., 1, 1]
        along = aa.sqrt() + ad / aa.sqrt()
        across = (dd - ad * ad / aa).clamp_(min=0).sqrt()
        self.total += torch.atan2(across, along).sum(0)
        self.steps += c
        self.count = 0

    def epoch_means(self) -> torch.Tensor:
        """[L, M] float64: the mean angle (radians) over the steps since the last call; NaN before any step."""
        self._flush()
        out = self.total / self.steps if self.steps else torch.full_like(self.total, math.nan)
        self.total = torch.zeros_like(self.total)
        self.steps = 0
        return out
