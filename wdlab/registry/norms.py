"""Normalization registry: one entry per layer that may follow each hidden Linear (before its activation) — its
module in the plain model, its batched form in the engine, its code in an exported script, its parameters for the
budget. Adding a normalization is one NormSpec here (the engine stacks a gain and a shift per unit)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# torch is imported inside the builders only, on purpose: config imports this registry and validating settings
# needs no torch.


@dataclass(frozen=True)
class NormSpec:
    """module(width): the nn.Module the plain model puts after a hidden Linear of that width (None: nothing).
    stacked(z, gain, shift): the same on the engine's [members, batch, width] pre-activations, with each member's
    gain and shift [members, 1, width]. code: the module as an exported script writes it, `{width}` filled in.
    params: its parameters' names in nn order, each one value per unit (the budget counts len(params)·width).

    The engine's own kernels (as ActivationSpec carries its activation's), without them it takes autograd through
    `stacked`: buffers(out) -> the buffers its forward keeps for backward, made once per batch size beside
    out ([members, batch, width]); forward(z, gain, shift, saved, out) writes the layer's output into out and
    returns it; backward(g, z, saved, gain, dgain, dshift): g the gradient at out (used as scratch) -> the
    gradient at z, writing the gain's and shift's gradients ([members, 1, width]) into dgain and dshift.
    infer(z, gain, shift): the same output as forward, written over z (no backward follows: nothing is kept,
    no output or saved buffers are made), the same numbers."""

    name: str
    label: str
    help: str
    module: Callable[[int], object] | None = None
    stacked: Callable | None = None
    code: str = ""
    params: tuple[str, ...] = ()
    buffers: Callable | None = None
    forward: Callable | None = None
    backward: Callable | None = None
    infer: Callable | None = None

    @property
    def identity(self) -> bool:
        """No layer at all: the engine's hand-written path applies."""
        return self.module is None

    def count(self, hidden: tuple[int, ...]) -> int:
        """Its parameters over every hidden layer."""
        return len(self.params) * sum(hidden)


def register(spec: NormSpec) -> NormSpec:
    """Add (or replace) a normalization: every surface lists what NORMS holds when it is used."""
    NORMS[spec.name] = spec
    return spec


def _layernorm(width: int):
    import torch.nn as nn  # deferred: settings need no torch
    return nn.LayerNorm(width)


def _layernorm_stacked(z, gain, shift):  # nn.LayerNorm's own kernel, then each member's affine
    import torch  # deferred: settings need no torch
    import torch.nn.functional as F  # deferred: settings need no torch
    return torch.addcmul(shift, F.layer_norm(z, z.shape[-1:]), gain)


# LayerNorm in the engine: torch's LayerNorm kernel takes one gain for all rows, and every member has its own, so
# the engine normalizes [members, batch, width] itself and applies each member's gain and shift after; the
# gradient at z is torch's own LayerNorm backward of g·γ (nn.LayerNorm's autograd, to rounding).
LAYERNORM_EPS = 1e-5   # nn.LayerNorm's default, which the plain model's LayerNorm is built with


def _layernorm_buffers(out):  # x̂ [M, B, w], the mean and 1/std [M, B, 1]
    return out.new_empty(out.shape), out.new_empty(*out.shape[:-1], 1), out.new_empty(*out.shape[:-1], 1)


def _layernorm_fwd(z, gain, shift, saved, out):
    """out = x̂ · gain + shift, x̂ = (z − mean) / sqrt(biased variance + eps), into reused buffers (torch's own
    kernel allocates its outputs: a 24 × 1000 × 64 x̂ was then a fresh 6 MB mapping at every evaluation)."""
    import torch  # deferred: settings need no torch
    xhat, mean, rstd = saved
    w = z.shape[-1]
    torch.sum(z, -1, keepdim=True, out=mean).div_(w)
    torch.sub(z, mean, out=xhat)
    torch.linalg.vector_norm(xhat, dim=-1, keepdim=True, out=rstd)
    rstd.square_().div_(w).add_(LAYERNORM_EPS).rsqrt_()
    return torch.addcmul(shift, xhat.mul_(rstd), gain, out=out)


def _layernorm_infer(z, gain, shift):
    """_layernorm_fwd's ops in the same order, over z itself: an evaluation's forward (nothing saved for a backward)
    touches one buffer instead of three (at 24 × 1000 × 64, 6 MB each: the passes run ~20-30 % faster)."""
    import torch  # deferred: settings need no torch
    w = z.shape[-1]
    mean = torch.sum(z, -1, keepdim=True).div_(w)
    z.sub_(mean)
    rstd = torch.linalg.vector_norm(z, dim=-1, keepdim=True)
    rstd.square_().div_(w).add_(LAYERNORM_EPS).rsqrt_()
    return torch.addcmul(shift, z.mul_(rstd), gain, out=z)


def _layernorm_bwd(g, z, saved, gain, dgain, dshift):
    import torch  # deferred: settings need no torch
    xhat, mean, rstd = saved
    torch.sum(g, 1, keepdim=True, out=dshift)
    torch.sum(torch.mul(g, xhat, out=xhat), 1, keepdim=True, out=dgain)       # x̂ is not needed after this
    dz, _, _ = torch.ops.aten.native_layer_norm_backward(g.mul_(gain), z, z.shape[-1:], mean, rstd, None, None,
                                                         [True, False, False])
    return dz


NORMS: dict[str, NormSpec] = {spec.name: spec for spec in (
    NormSpec("none", "none", "no normalization"),
    NormSpec("layernorm", "LayerNorm", "LayerNorm after each hidden Linear, before the activation: each row's "
             "units to mean 0 and variance 1, then a learned gain and shift", _layernorm, _layernorm_stacked,
             "nn.LayerNorm({width})", ("weight", "bias"), _layernorm_buffers, _layernorm_fwd, _layernorm_bwd,
             _layernorm_infer),
)}
