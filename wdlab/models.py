"""MLP builder (the plain nn.Linear model) and its stacked form: every member's layers in one flat buffer."""
from __future__ import annotations

import torch
import torch.nn as nn


class Quadratic(nn.Module):
    """x ↦ x², elementwise: the activation of Gromov's modular-arithmetic networks (autograd: 2·x·grad)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


_MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "quadratic": Quadratic}


def build_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str = "relu") -> nn.Sequential:
    """Linear → act → … → Linear, built in the usual order (so torch.manual_seed(s) fixes its init)."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), _MODULES[activation]()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class StackedMLP:
    """M members' MLPs trained as one: layer k of every member lives in one [M, out, in] weight and one
    [M, 1, out] bias, and all of them are views into one flat buffer `flat` (gradient: `flat.grad`).

    One torch.optim optimizer over `flat` then updates every member in a handful of elementwise ops, and a
    per-element `decay` tensor (λ of the member, or 0 where a parameter is not decayed) applies each
    member's own weight_decay in one op.

    forward/backward are written out with the aten kernels autograd itself calls (baddbmm, bmm,
    threshold_backward, tanh_backward, gelu_backward, mul) into buffers reused from step to step: the members
    are small, so a step is bound by overhead, and fresh multi-MB activations each step cost more in page
    faults (glibc hands freed memory back to the OS) than the arithmetic. Exactness is kept: the tests hold
    every member to a standalone torch.optim run.
    """

    def __init__(self, models: list[nn.Sequential], activation: str, weight_decays: list[float],
                 decay_bias: bool, dtype: torch.dtype):
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in models]
        M = len(models)
        self.M, self.activation = M, activation
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
        self.weights, self.biases, self.segments, self.wgrads, self.bgrads = [], [], [], [], []
        offset = 0
        for o, i in self.shapes:
            for shape, params, grads in (((M, o, i), self.weights, self.wgrads), ((M, 1, o), self.biases, self.bgrads)):
                n = shape[0] * shape[1] * shape[2]
                params.append(self.flat[offset:offset + n].view(shape))
                grads.append(self.flat.grad[offset:offset + n].view(shape))
                self.segments.append((offset, n))
                offset += n
        self._buffers: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
        self._input: torch.Tensor | None = None
        self._gw = [torch.empty(M, i, o, dtype=dtype) if o > i else None for o, i in self.shapes]

    def _work(self, batch: int, keep: bool = True) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Pre-activation and activation buffers [M, batch, width] per layer, kept per batch size if `keep`."""
        if batch in self._buffers:
            return self._buffers[batch]
        new = lambda o: torch.empty(self.M, batch, o, dtype=self.flat.dtype)  # noqa: E731
        work = ([new(o) for o, _ in self.shapes], [new(o) for o, _ in self.shapes[:-1]])
        if keep:
            self._buffers[batch] = work
        return work

    def __call__(self, x: torch.Tensor, keep: bool = True) -> torch.Tensor:
        """x: [M, B, in] (or expanded) -> [M, B, out]; each member exactly nn.Linear's x @ W.T + b.

        The result is a reused buffer, valid until the next call with the same B. keep=False for a one-off
        size (the initial pass over the whole training set of a minibatch run): its buffers are not kept."""
        z_bufs, a_bufs = self._work(x.shape[1], keep)
        self._input, a = x, x
        with torch.no_grad():
            for k, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = torch.baddbmm(b, a, w.transpose(1, 2), out=z_bufs[k])
                if k < len(a_bufs):
                    a = _ACT_FORWARD[self.activation](z, a_bufs[k])
        return z

    def backward(self, grad_out: torch.Tensor) -> None:
        """Write d(Σ member losses)/d(parameters) of the last forward into flat.grad (overwriting it).

        grad_out: [M, B, out] gradient at the output; it is used as scratch."""
        z_bufs, a_bufs = self._work(grad_out.shape[1])
        g = grad_out
        with torch.no_grad():
            for k in range(len(self.shapes) - 1, -1, -1):
                a_prev = self._input if k == 0 else a_bufs[k - 1]
                o, i = self.shapes[k]
                # Both products give gradients exact to rounding; which is fast depends on the shape (MKL
                # takes a gemv-like path for a 1-wide side: 45 µs against 570 µs on the course's net).
                # The choice depends on shapes only, so a run's numbers are reproducible.
                if o <= i:
                    torch.bmm(g.transpose(1, 2), a_prev, out=self.wgrads[k])
                else:
                    self.wgrads[k].copy_(torch.bmm(a_prev.transpose(1, 2), g, out=self._gw[k]).transpose(1, 2))
                torch.sum(g, 1, keepdim=True, out=self.bgrads[k])
                if k:
                    # the pre-activation buffer of layer k−1 is free once its activation exists: reuse it
                    # (not for gelu, whose backward reads it; x², whose backward reads z, reuses the
                    # activation buffer, free once wgrads[k] is computed); a 1-wide layer's product is an outer
                    # product
                    g_prev = (torch.empty_like(z_bufs[k - 1]) if self.activation == "gelu" else
                              a_bufs[k - 1] if self.activation == "quadratic" else z_bufs[k - 1])
                    if o == 1:
                        torch.mul(g, self.weights[k], out=g_prev)
                    else:
                        torch.bmm(g, self.weights[k], out=g_prev)
                    g = _ACT_BACKWARD[self.activation](g_prev, z_bufs[k - 1], a_bufs[k - 1])

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


# Forward: the kernels nn.ReLU / nn.Tanh / nn.GELU call. Backward (grad, pre-activation, activation) -> grad,
# in place: the kernels their autograd nodes call (ReLU and Tanh differentiate through their output).
_ACT_FORWARD = {
    "relu": lambda z, out: torch.clamp_min(z, 0, out=out),
    "tanh": lambda z, out: torch.tanh(z, out=out),
    "gelu": lambda z, out: torch.ops.aten.gelu.out(z, approximate="none", out=out),
    "quadratic": lambda z, out: torch.mul(z, z, out=out),
}
_ACT_BACKWARD = {
    "relu": lambda g, z, a: torch.ops.aten.threshold_backward.grad_input(g, a, 0, grad_input=g),
    "tanh": lambda g, z, a: torch.ops.aten.tanh_backward.grad_input(g, a, grad_input=g),
    "gelu": lambda g, z, a: torch.ops.aten.gelu_backward.grad_input(g, z, approximate="none", grad_input=z),
    # x * x: autograd's MulBackward adds g·z for each factor, g·z + g·z = 2·(g·z) exactly
    "quadratic": lambda g, z, a: g.mul_(z).mul_(2),
}
