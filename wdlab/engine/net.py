"""Many members' models as one: every parameter in one flat buffer, a batched forward, and its gradient."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.norms import NORMS

FOLD_ROWS = 4       # layer 1 folds its bias into its product for batches of ≥ FOLD_ROWS × (inputs + 1) rows
TALL_BATCH = 512    # weight gradients of layers widening from a batch this tall are taken as aᵀg (_backward)
ALIGN = 16          # elements: a multiple of every CPU vector width torch uses (AVX-512: 16 float32, 8 float64)


@dataclass(frozen=True)
class Segment:
    """One parameter of the plain model (e.g. layer 2's weight), for all M members: flat[offset:offset + M·stride]
    holds it member after member, each member's `per` elements followed by zeros up to `stride` (a multiple of
    ALIGN), so member rows a..b of a segment are one contiguous slice whose length is a multiple of ALIGN."""

    kind: str            # weight | bias | gain | shift (the normalization's, e.g. LayerNorm's weight and bias)
    layer: int           # 1-based: the Linear (or the normalization after it)
    shape: tuple         # the parameter's own shape
    offset: int
    per: int             # elements per member
    stride: int          # elements per member in the buffer: per rounded up to a multiple of ALIGN

    @property
    def column(self) -> str:
        return f"l2_{'gain' if self.kind == 'shift' else self.kind}{self.layer}"


@dataclass
class Work:
    """A forward's buffers for one batch size, [M, batch, width] each: per layer its Linear's output z, per
    hidden layer its activation a and, with a normalization, its output and what its backward needs (its
    NormSpec.buffers; made at the first forward of this size that a backward follows)."""

    z: list[torch.Tensor]
    a: list[torch.Tensor]
    normed: list[torch.Tensor]
    saved: list[tuple]


class StackedNet:
    """M members' nn.Sequential models trained as one. Layer k of every member is a view into `flat`: a
    weight [M, out, in], a bias [M, 1, out] (and the normalization's gain and shift [M, 1, out], norm: its name
    in wdlab.registry.norms); `flat.grad` holds the gradient in the same layout.

    Two ways to the gradient, equal to rounding: autograd through the same views, or a hand-written backward
    of the aten kernels autograd itself calls (baddbmm, bmm, the normalization's and the activation's backward)
    into buffers reused from step to step; a normalization registered without engine kernels takes autograd.
    """

    def __init__(self, models: list[nn.Sequential], activation: str, dtype: torch.dtype, autograd: bool = False,
                 norm: str = "none"):
        M = len(models)
        self.M, self.act = M, ACTIVATIONS[activation]
        self.act_module = self.act.module()
        self.norm = None if NORMS[norm].identity else NORMS[norm]
        self.autograd = autograd or (self.norm is not None and self.norm.forward is None)
        self.segments: list[Segment] = []
        blocks, offset, layer = [], 0, 0
        for name, p in models[0].named_parameters():
            module = models[0].get_submodule(name.rsplit(".", 1)[0])
            is_norm = not isinstance(module, nn.Linear)   # the normalization's gain and shift
            layer += 0 if is_norm or name.endswith("bias") else 1
            kind = ("gain" if name.endswith("weight") else "shift") if is_norm else name.rsplit(".", 1)[1]
            stacked = torch.stack([dict(m.named_parameters())[name].detach() for m in models]).reshape(M, -1)
            stride = -(-p.numel() // ALIGN) * ALIGN
            self.segments.append(Segment(kind, layer, tuple(p.shape), offset, p.numel(), stride))
            blocks.append(F.pad(stacked, (0, stride - p.numel())).reshape(-1))
            offset += M * stride
        self.flat = torch.cat(blocks).to(dtype)
        self.flat.grad = torch.zeros_like(self.flat)
        self.shapes = [s.shape for s in self.segments if s.kind == "weight"]           # (out, in) per Linear
        self.weights, self.biases, self.gains, self.shifts = self._views(self.flat)
        self._weights_t = [w.transpose(1, 2) for w in self.weights]   # views: follow the buffer's updates
        self.wgrads, self.bgrads, self.ggrads, self.sgrads = self._views(self.flat.grad)
        self._leaf = self.flat.detach().requires_grad_(True) if self.autograd else None  # same storage
        self._buffers: dict[int, Work] = {}
        self._input: torch.Tensor | None = None
        self._last: torch.Tensor | None = None
        self._gw = [torch.empty(M, i, o, dtype=dtype) if o > i else None for o, i in self.shapes]
        o, i = self.shapes[0]
        self._w0 = torch.empty(M, o, i + 1, dtype=dtype)        # layer 1's [W | b] (see _linear)
        self._w0_t = self._w0.transpose(1, 2)
        self._g0 = torch.empty(M, (i + 1) * o, dtype=dtype)                               # and its gradient

    def _views(self, buf: torch.Tensor):
        """Per kind, per layer: the segments of `buf` shaped for batched products."""
        out = {"weight": [], "bias": [], "gain": [], "shift": []}
        for s in self.segments:
            shape = (self.M, *s.shape) if s.kind == "weight" else (self.M, 1, s.shape[0])
            out[s.kind].append(self.rows(s, buf).view(shape))
        return out["weight"], out["bias"], out["gain"], out["shift"]

    # -- forward and gradient -------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, keep: bool = True, backward: bool = True) -> torch.Tensor:
        """x: [M, B, in] (or expanded) -> [M, B, out] without a graph; each member exactly its nn.Sequential.
        x may carry a ones column last ([M, B, in + 1], see with_ones): layer 1's bias then rides in its product.

        The hand-written path returns a reused buffer, valid until the next call with the same B; keep=False
        for a one-off size (its buffers are not kept). backward=False: no backward of this forward follows
        (an evaluation): until a training forward of this size, a normalization works over its input's buffer
        (NormSpec.infer; the same numbers) and its output and saved buffers are not made."""
        with torch.no_grad():
            if self.autograd:
                x = x[..., :self.shapes[0][1]]
                return self._graph(x, self.weights, self.biases, self.gains, self.shifts)
            work = self._work(x.shape[1], keep)
            if self.norm is not None and not work.normed and (backward or self.norm.infer is None):
                # made at the first forward of this size a backward follows: an evaluation's sizes never need them
                work.normed[:] = [torch.empty_like(z) for z in work.z[:-1]]
                work.saved[:] = [self.norm.buffers(t) for t in work.normed]
            self._input, a = x, x
            for k in range(len(self.shapes)):
                z = self._linear(k, a, work.z[k])
                if k < len(work.a):
                    if self.norm is not None and not work.normed:   # no backward follows (see above)
                        z = self.norm.infer(z, self.gains[k], self.shifts[k])
                    elif self.norm is not None:   # its output into its own buffer: its backward needs z too
                        z = self.norm.forward(z, self.gains[k], self.shifts[k], work.saved[k], work.normed[k])
                    # in place where the backward needs only the output (ReLU, tanh): one pass less over memory
                    a = self.act.forward(z, work.a[k] if self.act.reads_z else z)
            self._last = z
            return z

    def _linear(self, k: int, a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Layer k's product a·Wᵀ + b into out ([M, B, o]). Each form depends on shapes only (a run's numbers
        are reproducible and a member's independent of its sweep mates):
        - a ones column on the input (layer 1): [W | b] in one product, no broadcast copy of b into out;
        - a 1-wide output: the row w times aᵀ into the same memory seen as [M, 1, B] (MKL's batched product
          takes a slow path for an [in, 1] right operand: 2× and more), then + b;
        - else baddbmm, as nn.Linear's addmm."""
        o, i = self.shapes[k]
        folded = k == 0 and a.shape[-1] == i + 1 and self.folds(a.shape[1])
        if k == 0 and a.shape[-1] == i + 1 and not folded:
            a = a[..., :i]
        w, w_t = (self._folded_weight(), self._w0_t) if folded else (self.weights[k], self._weights_t[k])
        if o == 1:
            self.bmm(w, a.transpose(1, 2), out.view(self.M, 1, a.shape[1]))
            return out if folded else out.add_(self.biases[k])
        return self.bmm(a, w_t, out) if folded else self.bmm(a, w_t, out, bias=self.biases[k])

    def bmm(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, bias: torch.Tensor | None = None):
        """torch.bmm(a, b) (with bias: baddbmm) into out, returned. One member alone: for a batch of one, MKL
        takes a product with a side of 1 (a 1-wide layer, a 1-row batch) as a gemv, which rounds differently in
        float32 from the batched kernel every larger stack gets; such a product (a small one) is computed as a
        batch of two stride-0 copies instead, so a member's numbers do not depend on whether it has sweep mates."""
        if self.M == 1 and 1 in (a.shape[1], a.shape[2], b.shape[2]):
            two = lambda t: t.expand(2, *t.shape[1:])  # noqa: E731
            res = torch.bmm(two(a), two(b)) if bias is None else torch.baddbmm(two(bias), two(a), two(b))
            return out.copy_(res[:1])
        return torch.bmm(a, b, out=out) if bias is None else torch.baddbmm(bias, a, b, out=out)

    def folds(self, batch: int) -> bool:
        """Whether layer 1 takes its bias in its product for a batch of this many rows (given a ones column):
        when the broadcast copy of the bias it saves (batch × out) dwarfs the [W | b] copy it costs (out × in)."""
        return batch >= FOLD_ROWS * (self.shapes[0][1] + 1)

    def _folded_weight(self) -> torch.Tensor:
        """Layer 1's [W | b] per member ([M, out, in + 1]), copied from the flat buffer's current values."""
        return torch.cat([self.weights[0], self.biases[0].transpose(1, 2)], 2, out=self._w0)

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
        """The forward in plain differentiable ops, as nn.Linear / the normalization / the activation compute."""
        a = x
        for k, (w, b) in enumerate(zip(weights, biases)):
            z = torch.baddbmm(b, a, w.transpose(1, 2))
            if k == len(weights) - 1:
                return z
            if self.norm is not None:
                z = self.norm.stacked(z, gains[k], shifts[k])
            a = self.act_module(z)
        return a

    def _work(self, batch: int, keep: bool = True) -> "Work":
        """The forward's buffers for a batch of this many rows, kept per batch size if `keep`."""
        if batch in self._buffers:
            return self._buffers[batch]
        new = lambda o: torch.empty(self.M, batch, o, dtype=self.flat.dtype)  # noqa: E731
        hidden = [o for o, _ in self.shapes[:-1]]
        work = Work([new(o) for o, _ in self.shapes], [new(o) for o in hidden], [], [])   # normed: see forward
        if keep:
            self._buffers[batch] = work
        return work

    def _backward(self, grad_out: torch.Tensor) -> None:
        """The hand-written backward of the last forward into flat.grad; grad_out is used as scratch."""
        work = self._work(grad_out.shape[1])
        a_bufs = work.a
        pre = work.normed if self.norm is not None else work.z    # each activation's input
        acts = a_bufs if self.act.reads_z else pre              # where the forward left each activation
        g = grad_out
        with torch.no_grad():
            for k in range(len(self.shapes) - 1, -1, -1):
                a_prev = self._input if k == 0 else acts[k - 1]
                o, i = self.shapes[k]
                if k == 0 and a_prev.shape[-1] == i + 1:
                    if self.folds(a_prev.shape[1]):
                        self._folded_grad(g, a_prev)
                        break
                    a_prev = a_prev[..., :i]
                # Both products are exact to rounding; aᵀg is faster for a 1-wide input side and for tall batches
                # into a wider output, gᵀa else (timings: docs/SPEED.md). Shapes alone decide: runs reproduce.
                if not self._wgrad_via_gw(k, g.shape[1]):
                    self.bmm(g.transpose(1, 2), a_prev, self.wgrads[k])
                else:
                    self.wgrads[k].copy_(self.bmm(a_prev.transpose(1, 2), g, self._gw[k]).transpose(1, 2))
                torch.sum(g, 1, keepdim=True, out=self.bgrads[k])
                if k:
                    # the activation buffer of layer k−1 is free once its weight gradient exists (or, with an
                    # in-place activation, was never used): the gradient goes there; a 1-wide layer's product
                    # is an outer product
                    g_prev = a_bufs[k - 1]
                    if o == 1:
                        torch.mul(g, self.weights[k], out=g_prev)
                    else:
                        self.bmm(g, self.weights[k], g_prev)
                    g = self.act.backward(g_prev, pre[k - 1], acts[k - 1])
                    if self.norm is not None:
                        g = self.norm.backward(g, work.z[k - 1], work.saved[k - 1], self.gains[k - 1],
                                               self.ggrads[k - 1], self.sgrads[k - 1])

    def _wgrad_via_gw(self, k: int, batch: int) -> bool:
        o, i = self.shapes[k]
        return o > i and (i == 1 or batch >= TALL_BATCH)

    def _folded_grad(self, g: torch.Tensor, x: torch.Tensor) -> None:
        """Layer 1's weight and bias gradient in one product with the ones-column input x."""
        o, i = self.shapes[0]
        if not self._wgrad_via_gw(0, g.shape[1]):
            gw = self.bmm(g.transpose(1, 2), x, self._g0.view(self.M, o, i + 1))
            self.wgrads[0].copy_(gw[..., :i])
            self.bgrads[0].copy_(gw[..., i:].transpose(1, 2))
        else:
            gw = self.bmm(x.transpose(1, 2), g, self._g0.view(self.M, i + 1, o))
            self.wgrads[0].copy_(gw[:, :i].transpose(1, 2))
            self.bgrads[0].copy_(gw[:, i:])

    # -- members ----------------------------------------------------------------------------------------------
    def rows(self, seg: Segment, buf: torch.Tensor) -> torch.Tensor:
        """Segment `seg` of `buf` (flat, its grad, or a same-shaped state) as [M, per] (without the padding)."""
        return buf[seg.offset:seg.offset + self.M * seg.stride].view(self.M, seg.stride)[:, :seg.per]

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


def with_ones(x: torch.Tensor) -> torch.Tensor:
    """x [..., n, in] with a ones column appended ([..., n, in + 1]): StackedNet.forward then folds layer 1's
    bias into its product."""
    return torch.cat([x, x.new_ones(*x.shape[:-1], 1)], -1)


# ---- per-member losses -----------------------------------------------------------------------------------

def member_losses(out: torch.Tensor, y: torch.Tensor, task: str, reduce: str = "mean") -> torch.Tensor:
    """[M] losses: nn.MSELoss (mean over batch and outputs) or nn.CrossEntropyLoss (mean over batch);
    reduce="sum" sums over the batch instead (for blocks of a larger set)."""
    if task == "regression":
        sq = (out - y).pow(2)
        return sq.mean(dim=(1, 2)) if reduce == "mean" else sq.mean(dim=2).sum(1)
    logp = log_softmax(out)
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
        logp = log_softmax(out)
        losses = -logp.gather(-1, target).mean(dim=(1, 2))
        grad = logp.exp_()                                                   # softmax − one-hot, over B
        grad.scatter_add_(-1, target, torch.full(target.shape, -1.0, dtype=grad.dtype).expand_as(target))
        return losses, grad.div_(out.shape[1])


def log_softmax(out: torch.Tensor) -> torch.Tensor:
    """torch.log_softmax over the classes (nn.CrossEntropyLoss's kernel). For rows shorter than a vector (≤ ALIGN
    classes) torch's last-dimension kernel is ~15× slower than its kernel over a middle dimension (digits' 10
    classes, 24 × 64 rows: 260 against 17 µs, docs/SPEED.md), so there the classes become the middle dimension
    of a transposed copy and the result is its transposed view; the choice depends on the class count only."""
    if out.shape[-1] > ALIGN:
        return torch.log_softmax(out, -1)
    return torch.log_softmax(out.transpose(-1, -2).contiguous(), -2).transpose(-1, -2)


def member_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[M] number of correctly classified rows."""
    return (out.argmax(-1) == y).sum(1)
