"""Activation registry: one entry per activation — its nn module, and the engine's forward/backward kernels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# torch is imported inside the functions only: config imports this registry and must stay light.


@dataclass(frozen=True)
class ActivationSpec:
    """module(): the nn.Module a plain model uses. forward(z, out) writes act(z) into out (the kernel that
    module calls; the engine passes out=z, in place, unless reads_z); backward(g, z, a) turns the gradient at
    the activation g into the gradient at the pre-activation z (a = act(z)), in place in g or z — the kernel
    the module's autograd node calls; it returns the buffer it wrote. reads_z: backward needs z itself (so the
    forward cannot overwrite it)."""

    name: str
    label: str
    module: Callable[[], object]
    forward: Callable
    backward: Callable
    reads_z: bool = False


def _relu():
    import torch.nn as nn
    return nn.ReLU()


def _tanh():
    import torch.nn as nn
    return nn.Tanh()


def _gelu():
    import torch.nn as nn
    return nn.GELU()


def _relu_fwd(z, out):
    import torch
    return torch.clamp_min(z, 0, out=out)


def _relu_bwd(g, z, a):  # ReLU differentiates through its output
    import torch
    return torch.ops.aten.threshold_backward.grad_input(g, a, 0, grad_input=g)


def _tanh_fwd(z, out):
    import torch
    return torch.tanh(z, out=out)


def _tanh_bwd(g, z, a):
    import torch
    return torch.ops.aten.tanh_backward.grad_input(g, a, grad_input=g)


def _gelu_fwd(z, out):
    import torch
    return torch.ops.aten.gelu.out(z, approximate="none", out=out)


def _gelu_bwd(g, z, a):
    import torch
    return torch.ops.aten.gelu_backward.grad_input(g, z, approximate="none", grad_input=z)


class _Quadratic:
    """x ↦ x², elementwise: the activation of Gromov's modular-arithmetic networks (autograd: 2·x·grad)."""

    def __new__(cls):
        import torch.nn as nn

        class Quadratic(nn.Module):
            def forward(self, x):
                return x * x
        return Quadratic()


def _quad_fwd(z, out):
    import torch
    return torch.mul(z, z, out=out)


def _quad_bwd(g, z, a):
    return g.mul_(z).mul_(2)


ACTIVATIONS: dict[str, ActivationSpec] = {spec.name: spec for spec in (
    ActivationSpec("relu", "ReLU", _relu, _relu_fwd, _relu_bwd),
    ActivationSpec("tanh", "tanh", _tanh, _tanh_fwd, _tanh_bwd),
    ActivationSpec("gelu", "GELU", _gelu, _gelu_fwd, _gelu_bwd, reads_z=True),
    ActivationSpec("quadratic", "x²", _Quadratic, _quad_fwd, _quad_bwd, reads_z=True),
)}
