"""MLP builder (the plain nn.Linear model) and its stacked form: every member's layers in one flat buffer."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

_MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
_FUNCTIONS = {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}  # what those modules call


def build_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str = "relu") -> nn.Sequential:
    """Linear → act → … → Linear, built in the usual order (so torch.manual_seed(s) fixes its init)."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), _MODULES[activation]()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def count_params(in_dim: int, hidden: tuple[int, ...], out_dim: int) -> int:
    dims = (in_dim, *hidden, out_dim)
    return sum((a + 1) * b for a, b in zip(dims, dims[1:]))


class StackedMLP:
    """M members' MLPs trained as one: layer k of every member lives in one [M, out, in] weight and one
    [M, 1, out] bias, and all of them are views into one flat buffer `flat` (with its gradient `flat.grad`).

    One torch.optim optimizer over `flat` then updates every member in a handful of elementwise ops, and a
    per-element `decay` tensor (λ of the member, or 0 where a parameter is not decayed) applies each
    member's own weight_decay in one op.
    """

    def __init__(self, models: list[nn.Sequential], activation: str, weight_decays: list[float],
                 decay_bias: bool, dtype: torch.dtype):
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in models]
        M = len(models)
        self.M, self.act = M, _FUNCTIONS[activation]
        self.shapes = [(lin.out_features, lin.in_features) for lin in linears[0]]
        blocks, decay = [], []
        lam = torch.tensor(weight_decays, dtype=torch.float64)
        for k, (o, i) in enumerate(self.shapes):
            blocks.append(torch.stack([ls[k].weight.detach() for ls in linears]).reshape(M, o * i))
            blocks.append(torch.stack([ls[k].bias.detach() for ls in linears]).reshape(M, o))
            decay.append(lam.repeat_interleave(o * i))
            decay.append(lam.repeat_interleave(o) if decay_bias else torch.zeros(M * o, dtype=torch.float64))
        self.flat = torch.cat([b.reshape(-1) for b in blocks]).to(dtype)
        self.flat.grad = torch.zeros_like(self.flat)
        self.decay = torch.cat(decay).to(dtype)
        self.weights, self.biases, self.segments = [], [], []
        offset = 0
        for o, i in self.shapes:
            w = self.flat[offset:offset + M * o * i].view(M, o, i)
            w.requires_grad_(True)
            w.grad = self.flat.grad[offset:offset + M * o * i].view(M, o, i)
            self.segments.append((offset, M * o * i))
            offset += M * o * i
            b = self.flat[offset:offset + M * o].view(M, 1, o)
            b.requires_grad_(True)
            b.grad = self.flat.grad[offset:offset + M * o].view(M, 1, o)
            self.segments.append((offset, M * o))
            offset += M * o
            self.weights.append(w)
            self.biases.append(b)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: [M, B, in] (or expanded) -> [M, B, out]; each member exactly nn.Linear's x @ W.T + b."""
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w.transpose(1, 2))
            if k < last:
                x = self.act(x)
        return x

    def zero_members(self, rows: list[int], *state: torch.Tensor) -> None:
        """Freeze members `rows` at zero in the buffer and in each same-shaped optimizer state tensor."""
        for off, n in self.segments:
            per = n // self.M
            for t in (self.flat, self.flat.grad, *state):
                t.data[off:off + n].view(self.M, per)[rows] = 0

    def layer_sq_norms(self) -> torch.Tensor:
        """[M, layers] float64: Σ p² of each member's layer k (weight and bias)."""
        cols = []
        with torch.no_grad():
            for k in range(len(self.shapes)):
                total = 0
                for off, n in self.segments[2 * k:2 * k + 2]:
                    total = total + self.flat[off:off + n].view(self.M, -1).double().pow(2).sum(1)
                cols.append(total)
        return torch.stack(cols, 1)

    def member_params(self, m: int) -> list[torch.Tensor]:
        """Member m's parameters in nn.Sequential order (weight, bias per layer), as copies."""
        out = []
        for w, b in zip(self.weights, self.biases):
            out += [w[m].detach().clone(), b[m, 0].detach().clone()]
        return out
