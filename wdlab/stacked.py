"""Many members' models as one: every parameter in one flat buffer, a batched forward, and its gradient."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .activations import ACTIVATIONS


@dataclass(frozen=True)
class Segment:
    """One parameter of the plain model (e.g. layer 2's weight), for all M members: flat[offset:offset + M·per]
    holds it member after member, so member rows a..b of a segment are one contiguous slice."""

    kind: str            # weight | bias | gain | shift (LayerNorm's weight and bias)
    layer: int           # 1-based: the Linear (or the LayerNorm after it)
    shape: tuple         # the parameter's own shape
    offset: int
    per: int             # elements per member

    @property
    def column(self) -> str:
        return f"l2_{'gain' if self.kind == 'shift' else self.kind}{self.layer}"


class StackedNet:
    """M members' nn.Sequential models trained as one. Layer k of every member is a view into `flat`: a
    weight [M, out, in], a bias [M, 1, out] (and LayerNorm's gain and shift [M, 1, out]); `flat.grad` holds
    the gradient in the same layout.

    Two ways to the gradient, equal to rounding: autograd through the same views, or a hand-written backward
    of the aten kernels autograd itself calls (baddbmm, bmm, the activation's backward) into buffers reused
    from step to step — written for Linear → activation layers only; LayerNorm layers take autograd.
    """

    def __init__(self, models: list[nn.Sequential], activation: str, dtype: torch.dtype, autograd: bool = False):
        M = len(models)
        self.M, self.act = M, ACTIVATIONS[activation]
        self.act_module = self.act.module()
        self.norm = any(isinstance(m, nn.LayerNorm) for m in models[0])
        self.autograd = autograd or self.norm
        self.segments: list[Segment] = []
        blocks, offset, layer = [], 0, 0
        for name, p in models[0].named_parameters():
            module = models[0].get_submodule(name.rsplit(".", 1)[0])
            is_ln = isinstance(module, nn.LayerNorm)
            layer += 0 if is_ln or name.endswith("bias") else 1
            kind = ("gain" if name.endswith("weight") else "shift") if is_ln else name.rsplit(".", 1)[1]
            stacked = torch.stack([dict(m.named_parameters())[name].detach() for m in models]).reshape(M, -1)
            self.segments.append(Segment(kind, layer, tuple(p.shape), offset, p.numel()))
            blocks.append(stacked.reshape(-1))
            offset += stacked.numel()
        self.flat = torch.cat(blocks).to(dtype)
        self.flat.grad = torch.zeros_like(self.flat)
        self.shapes = [s.shape for s in self.segments if s.kind == "weight"]           # (out, in) per Linear
        self.weights, self.biases, self.gains, self.shifts = self._views(self.flat)
        self.wgrads, self.bgrads, _, _ = self._views(self.flat.grad)
        self._leaf = self.flat.detach().requires_grad_(True) if self.autograd else None  # same storage
        self._buffers: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
        self._input: torch.Tensor | None = None
        self._last: torch.Tensor | None = None
        self._gw = [torch.empty(M, i, o, dtype=dtype) if o > i else None for o, i in self.shapes]

    def _views(self, buf: torch.Tensor):
        """Per kind, per layer: the segments of `buf` shaped for batched products."""
        out = {"weight": [], "bias": [], "gain": [], "shift": []}
        for s in self.segments:
            shape = (self.M, *s.shape) if s.kind == "weight" else (self.M, 1, s.shape[0])
            out[s.kind].append(buf[s.offset:s.offset + self.M * s.per].view(shape))
        return out["weight"], out["bias"], out["gain"], out["shift"]

    # -- forward and gradient -------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, keep: bool = True) -> torch.Tensor:
        """x: [M, B, in] (or expanded) -> [M, B, out] without a graph; each member exactly its nn.Sequential.

        The hand-written path returns a reused buffer, valid until the next call with the same B; keep=False
        for a one-off size (its buffers are not kept)."""
        with torch.no_grad():
            if self.autograd:
                return self._graph(x, self.weights, self.biases, self.gains, self.shifts)
            z_bufs, a_bufs = self._work(x.shape[1], keep)
            self._input, a = x, x
            for k, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = torch.baddbmm(b, a, w.transpose(1, 2), out=z_bufs[k])
                if k < len(a_bufs):
                    a = self.act.forward(z, a_bufs[k])
            self._last = z
            return z

    def loss_grad_of_last(self, y: torch.Tensor, loss_and_grad) -> tuple[torch.Tensor, torch.Tensor]:
        """loss_grad for the input of the last forward (hand-written path, kept buffers), without running
        that forward again: a full-batch epoch's step starts from the weights the last evaluation saw."""
        out = self._last
        losses, grad_out = loss_and_grad(out, y)
        self._backward(grad_out)
        return losses, out

    def loss_grad(self, x: torch.Tensor, y: torch.Tensor, loss_and_grad) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward x, then write d(Σ member losses)/d(parameters) into flat.grad (overwriting it).
        loss_and_grad(out, y) -> ([M] losses, d(Σ losses)/d(out)). Returns (losses, out)."""
        if not self.autograd:
            out = self.forward(x)
            losses, grad_out = loss_and_grad(out, y)
            self._backward(grad_out)
            return losses, out
        views = self._views(self._leaf)
        with torch.enable_grad():
            out = self._graph(x, *views)
            losses, grad_out = loss_and_grad(out.detach(), y)
            (grad,) = torch.autograd.grad(out, self._leaf, grad_out)
        self.flat.grad.copy_(grad)
        return losses, out.detach()

    def _graph(self, x, weights, biases, gains, shifts) -> torch.Tensor:
        """The forward in plain differentiable ops, as nn.Linear / nn.LayerNorm / the activation module compute."""
        a = x
        for k, (w, b) in enumerate(zip(weights, biases)):
            z = torch.baddbmm(b, a, w.transpose(1, 2))
            if k == len(weights) - 1:
                return z
            if self.norm:
                z = torch.addcmul(shifts[k], F.layer_norm(z, z.shape[-1:]), gains[k])
            a = self.act_module(z)
        return a

    def _work(self, batch: int, keep: bool = True) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Pre-activation and activation buffers [M, batch, width] per layer, kept per batch size if `keep`."""
        if batch in self._buffers:
            return self._buffers[batch]
        new = lambda o: torch.empty(self.M, batch, o, dtype=self.flat.dtype)  # noqa: E731
        work = ([new(o) for o, _ in self.shapes], [new(o) for o, _ in self.shapes[:-1]])
        if keep:
            self._buffers[batch] = work
        return work

    def _backward(self, grad_out: torch.Tensor) -> None:
        """The hand-written backward of the last forward into flat.grad; grad_out is used as scratch."""
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
                    # (not when the backward reads it); a 1-wide layer's product is an outer product
                    g_prev = torch.empty_like(z_bufs[k - 1]) if self.act.reads_z else z_bufs[k - 1]
                    if o == 1:
                        torch.mul(g, self.weights[k], out=g_prev)
                    else:
                        torch.bmm(g, self.weights[k], out=g_prev)
                    g = self.act.backward(g_prev, z_bufs[k - 1], a_bufs[k - 1])

    # -- members ----------------------------------------------------------------------------------------------
    def rows(self, seg: Segment, buf: torch.Tensor) -> torch.Tensor:
        """Segment `seg` of `buf` (flat, its grad, or a same-shaped state) as [M, per]."""
        return buf[seg.offset:seg.offset + self.M * seg.per].view(self.M, seg.per)

    def zero_members(self, rows: list[int]) -> None:
        """Set members `rows` to zero in the buffer and its gradient."""
        for seg in self.segments:
            for t in (self.flat, self.flat.grad):
                self.rows(seg, t)[rows] = 0

    def sq_norms(self) -> dict[str, torch.Tensor]:
        """Column name -> [M] float64 Σ p² of each member's weight / bias / LayerNorm gain+shift per layer."""
        out: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for seg in self.segments:
                sq = self.rows(seg, self.flat).double().pow(2).sum(1)
                out[seg.column] = out[seg.column] + sq if seg.column in out else sq
        return out

    def member_params(self, m: int) -> list[torch.Tensor]:
        """Member m's parameters in nn.Sequential order, as copies."""
        return [self.rows(seg, self.flat)[m].view(seg.shape).clone() for seg in self.segments]


# ---- per-member losses -----------------------------------------------------------------------------------

def member_losses(out: torch.Tensor, y: torch.Tensor, task: str, reduce: str = "mean") -> torch.Tensor:
    """[M] losses: nn.MSELoss (mean over batch and outputs) or nn.CrossEntropyLoss (mean over batch);
    reduce="sum" sums over the batch instead (for blocks of a larger set)."""
    if task == "regression":
        sq = (out - y).pow(2)
        return sq.mean(dim=(1, 2)) if reduce == "mean" else sq.mean(dim=2).sum(1)
    logp = out - out.logsumexp(-1, keepdim=True)
    nll = -logp.gather(-1, y.unsqueeze(-1))
    return nll.mean(dim=(1, 2)) if reduce == "mean" else nll.sum(dim=(1, 2))


def member_losses_and_grad(out: torch.Tensor, y: torch.Tensor, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """member_losses and d(Σ losses)/d(out) (for MSE in the order of operations autograd's backward uses)."""
    with torch.no_grad():
        if task == "regression":
            diff = out - y
            losses = diff.pow(2).mean(dim=(1, 2))
            return losses, diff.mul_(2 / (diff.shape[1] * diff.shape[2]))     # mean' · pow' = (1/N)·2·diff
        target = y.unsqueeze(-1)
        logp = out - out.logsumexp(-1, keepdim=True)
        losses = -logp.gather(-1, target).mean(dim=(1, 2))
        grad = logp.exp_()                                                   # softmax − one-hot, over B
        grad.scatter_add_(-1, target, torch.full(target.shape, -1.0, dtype=grad.dtype).expand_as(target))
        return losses, grad.div_(out.shape[1])


def member_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[M] number of correctly classified rows."""
    return (out.argmax(-1) == y).sum(1)
