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
    params: its parameters' names in nn order, each one value per unit (the budget counts len(params)·width)."""

    name: str
    label: str
    help: str
    module: Callable[[int], object] | None = None
    stacked: Callable | None = None
    code: str = ""
    params: tuple[str, ...] = ()

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


NORMS: dict[str, NormSpec] = {spec.name: spec for spec in (
    NormSpec("none", "none", "no normalization"),
    NormSpec("layernorm", "LayerNorm", "LayerNorm after each hidden Linear, before the activation: each row's "
             "units to mean 0 and variance 1, then a learned gain and shift", _layernorm, _layernorm_stacked,
             "nn.LayerNorm({width})", ("weight", "bias")),
)}
