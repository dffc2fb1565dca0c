"""The plain model (nn.Sequential of Linear [→ normalization] → activation), built from the registries."""
from __future__ import annotations

from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.norms import NORMS


def build_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str = "relu", norm: str = "none"):
    """Linear → [norm →] act → … → Linear, built in the usual order (so torch.manual_seed(s) fixes its init;
    LayerNorm draws nothing: its gain starts at 1, its bias at 0)."""
    import torch.nn as nn  # deferred: the predictions' module imports this one at start-up, before any torch

    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if not NORMS[norm].identity:
            layers.append(NORMS[norm].module(h))
        layers.append(ACTIVATIONS[activation].module())
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)
