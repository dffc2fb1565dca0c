"""LayerNorm over member-stacked activations: nn.LayerNorm's forward and its gradient for M members at once.

Each member has its own gain and shift ([M, 1, width]), so torch's LayerNorm kernel (which takes one gain for
all rows) normalizes every row of [M, B, width] without them, and the gain and shift are applied per member
after it: y = x̂ · γ + β with x̂ = (z − mean) / sqrt(var_biased + eps), as nn.LayerNorm. The gradient: the
gain's and shift's by summing over the batch, z's by torch's own LayerNorm backward kernel of (g · γ) — what
autograd computes for nn.LayerNorm, in the same float64 arithmetic to rounding.
"""
from __future__ import annotations

import torch

EPS = 1e-5          # nn.LayerNorm's default eps (the plain model's LayerNorm is built with it)


def forward(z: torch.Tensor, gain: torch.Tensor, shift: torch.Tensor, xhat: torch.Tensor, mean: torch.Tensor,
            rstd: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """z [M, B, w] -> out = x̂ · gain + shift, keeping x̂ [M, B, w], the mean and 1/std [M, B, 1] for backward.
    Into the given buffers: torch's own kernel allocates its outputs, and a 24 × 1000 × 64 x̂ (6 MB) is then a
    fresh mapping, faulted in page by page, at every evaluation."""
    w = z.shape[-1]
    torch.sum(z, -1, keepdim=True, out=mean).div_(w)
    torch.sub(z, mean, out=xhat)
    torch.linalg.vector_norm(xhat, dim=-1, keepdim=True, out=rstd)
    rstd.square_().div_(w).add_(EPS).rsqrt_()                           # 1 / sqrt(biased variance + eps)
    return torch.addcmul(shift, xhat.mul_(rstd), gain, out=out)


def backward(g: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor,
             gain: torch.Tensor, dgain: torch.Tensor, dshift: torch.Tensor) -> torch.Tensor:
    """g: the gradient at the forward's out. Writes the gain's and shift's gradients ([M, 1, w]) and returns the
    gradient at z. Uses g and xhat as scratch."""
    torch.sum(g, 1, keepdim=True, out=dshift)
    torch.sum(torch.mul(g, xhat, out=xhat), 1, keepdim=True, out=dgain)
    dz, _, _ = torch.ops.aten.native_layer_norm_backward(g.mul_(gain), z, z.shape[-1:], mean, rstd, None, None,
                                                         [True, False, False])
    return dz
