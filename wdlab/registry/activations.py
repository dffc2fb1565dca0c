"""Activation registry: one entry per activation — its nn module, the engine's forward/backward kernels, its code
in an exported script, its cost for the budget. Adding an activation is one ActivationSpec here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

# torch is imported inside the functions only, on purpose: config imports this registry and validating settings
# needs no torch.


@dataclass(frozen=True)
class ActivationSpec:
    """module(): the nn.Module a plain model uses. forward(z, out) writes act(z) into out (the kernel that
    module calls; the engine passes out=z, in place, unless reads_z); backward(g, z, a) turns the gradient at
    the activation g into the gradient at the pre-activation z (a = act(z)), in place in g or z — the kernel
    the module's autograd node calls; it returns the buffer it wrote. reads_z: backward needs z itself (so the
    forward cannot overwrite it).
    code: the module as an exported script writes it (`nn.ReLU()`); code_defs: lines the script defines first
    for it (a small nn.Module class where torch has none). cost: CPU seconds per element through it beyond a
    plain elementwise pass, per dtype (the budget's time model; None: priced as tanh); scratch: its backward
    allocates a [members, batch, width] buffer (the budget's memory model)."""

    name: str
    label: str
    module: Callable[[], object]
    forward: Callable
    backward: Callable
    code: str
    help: str
    reads_z: bool = False
    code_defs: tuple[str, ...] = ()
    cost: Mapping[str, float] | None = field(default=None, hash=False, compare=False)
    scratch: bool = False


def register(spec: ActivationSpec) -> ActivationSpec:
    """Add (or replace) an activation: every surface lists what ACTIVATIONS holds when it is used."""
    ACTIVATIONS[spec.name] = spec
    return spec


def _relu():
    import torch.nn as nn  # deferred: settings need no torch
    return nn.ReLU()


def _tanh():
    import torch.nn as nn  # deferred: settings need no torch
    return nn.Tanh()


def _gelu():
    import torch.nn as nn  # deferred: settings need no torch
    return nn.GELU()


def _relu_fwd(z, out):
    import torch  # deferred: settings need no torch
    return torch.clamp_min(z, 0, out=out)


def _relu_bwd(g, z, a):  # ReLU differentiates through its output
    import torch  # deferred: settings need no torch
    return torch.ops.aten.threshold_backward.grad_input(g, a, 0, grad_input=g)


def _tanh_fwd(z, out):
    import torch  # deferred: settings need no torch
    return torch.tanh(z, out=out)


def _tanh_bwd(g, z, a):
    import torch  # deferred: settings need no torch
    return torch.ops.aten.tanh_backward.grad_input(g, a, grad_input=g)


def _gelu_fwd(z, out):
    import torch  # deferred: settings need no torch
    return torch.ops.aten.gelu.out(z, approximate="none", out=out)


def _gelu_bwd(g, z, a):
    import torch  # deferred: settings need no torch
    return torch.ops.aten.gelu_backward.grad_input(g, z, approximate="none", grad_input=z)


class _Quadratic:
    """x ↦ x², elementwise: the activation of Gromov's modular-arithmetic networks (autograd: 2·x·grad)."""

    def __new__(cls):
        import torch.nn as nn  # deferred: settings need no torch

        class Quadratic(nn.Module):
            def forward(self, x):
                return x * x
        return Quadratic()


def _quad_fwd(z, out):
    import torch  # deferred: settings need no torch
    return torch.mul(z, z, out=out)


def _quad_bwd(g, z, a):
    return g.mul_(z).mul_(2)


QUADRATIC_CODE = (
    "class Quadratic(nn.Module):  # x ↦ x², elementwise (torch has no such module)",
    "    def forward(self, x):",
    "        return x * x",
)
# cost: measured with micro-benchmarks of their kernels (see wdlab.engine.budget's COST)
ACTIVATIONS: dict[str, ActivationSpec] = {spec.name: spec for spec in (
    ActivationSpec("relu", "ReLU", _relu, _relu_fwd, _relu_bwd, "nn.ReLU()", "max(0, x)",
                   cost={"float32": 1.0e-10, "float64": 2.0e-10}),
    ActivationSpec("tanh", "tanh", _tanh, _tanh_fwd, _tanh_bwd, "nn.Tanh()", "tanh(x): smooth, bounded in (-1, 1)",
                   cost={"float32": 3.0e-10, "float64": 6.0e-10}),
    ActivationSpec("gelu", "GELU", _gelu, _gelu_fwd, _gelu_bwd, "nn.GELU()", "x·Φ(x): a smooth ReLU",
                   reads_z=True, cost={"float32": 7.0e-10, "float64": 4.5e-9}, scratch=True),
    ActivationSpec("quadratic", "x²", _Quadratic, _quad_fwd, _quad_bwd, "Quadratic()",
                   "x²: the activation of Gromov's modular-arithmetic networks (the grokking presets)",
                   reads_z=True, code_defs=QUADRATIC_CODE),
)}
