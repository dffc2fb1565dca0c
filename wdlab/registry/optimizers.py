"""Optimizer registry: one entry per torch.optim optimizer — its text, its decay kind, the engine's and the
reference's build, its code in an exported script and its state's size for the budget. Adding an optimizer is
one OptimizerSpec here (register() it at run time, or add it to OPTIMIZERS below)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

# torch is imported inside the builders only, on purpose: config imports this registry and validating settings
# needs no torch.


@dataclass(frozen=True)
class OptimizerSpec:
    """How one optimizer takes part in a sweep.

    engine(groups, cfg, fused): torch.optim with weight_decay=0 over the engine's stacked parameter groups (one
        group per learning rate; each group's dict holds "params" and "lr"); fused=True asks for torch's fused
        step (the engine passes it only where `fusable` and every tensor's length is a multiple of the vector
        width: then no element takes the kernel's scalar tail, which rounds differently, and a member's numbers
        do not depend on where it sits in the buffer); the engine applies each member's λ itself,
        exactly where torch applies it: coupled = `grad += λ·w` before the step; decoupled = `w *= 1 − lr·λ`
        before the step.
    reference(groups, lr, weight_decay, cfg): torch.optim exactly as a plain loop builds it for one model.
    code: the class as an exported script writes it (`optim.SGD`, the script imports torch.optim as optim);
        code_args(cfg): its keyword arguments beyond lr and weight_decay, as text (", momentum=0.9").
    state: tensors the size of the parameters it keeps between steps (Adam: exp_avg, exp_avg_sq), plus one
        with momentum when `momentum` and cfg.momentum; scratch: those its step allocates while it runs (Adam's
        denominator); launches: kernel launches of one step (the time model's op count).
    """

    name: str
    label: str                      # a short human name
    rule: str                       # the update rule, as text
    decay: str                      # "coupled" | "decoupled"
    engine: Callable[[list[dict], Any], Any]
    reference: Callable[[list[dict], float, float, Any], Any]
    code: str
    state: int
    scratch: int = 0
    launches: int = 12
    code_args: Callable[[Any], str] = lambda cfg: ""  # noqa: E731
    momentum: bool = False          # takes cfg.momentum
    fusable: bool = False           # torch has a fused CPU step for it

    @property
    def coupled(self) -> bool:
        return self.decay == "coupled"

    def describe(self) -> str:
        return f"{self.label} — {self.decay}: {self.rule}"

    @property
    def help(self) -> str:
        """A line for its widget and its --optimizer choice."""
        return self.describe()

    def state_tensors(self, cfg) -> int:
        """Parameter-sized tensors it keeps between steps under cfg (SGD: 0, 1 with momentum; Adam: 2)."""
        return self.state + (1 if self.momentum and cfg.momentum else 0)


def register(spec: OptimizerSpec) -> OptimizerSpec:
    """Add (or replace) an optimizer: every surface lists what OPTIMIZERS holds when it is used."""
    OPTIMIZERS[spec.name] = spec
    return spec


def _sgd_engine(groups, cfg, fused=False):
    import torch  # deferred: settings need no torch
    return torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=cfg.momentum, fused=fused or None)


def _sgd_reference(groups, lr, weight_decay, cfg):
    import torch  # deferred: settings need no torch
    return torch.optim.SGD(groups, lr=lr, momentum=cfg.momentum, weight_decay=weight_decay)


def _sgd_code(cfg) -> str:
    return f", momentum={cfg.momentum!r}" if cfg.momentum else ""


def _adam_engine(groups, cfg, fused=False):  # AdamW with weight_decay=0 is exactly Adam: both step with this
    import torch  # deferred: settings need no torch
    return torch.optim.Adam(groups, lr=groups[0]["lr"], fused=fused or None)


def _adam_reference(groups, lr, weight_decay, cfg):
    import torch  # deferred: settings need no torch
    return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)


def _adamw_reference(groups, lr, weight_decay, cfg):
    import torch  # deferred: settings need no torch
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


def _rmsprop_engine(groups, cfg, fused=False):
    import torch  # deferred: settings need no torch
    return torch.optim.RMSprop(groups, lr=groups[0]["lr"])  # no fused RMSprop in torch 2.13


def _rmsprop_reference(groups, lr, weight_decay, cfg):
    import torch  # deferred: settings need no torch
    return torch.optim.RMSprop(groups, lr=lr, weight_decay=weight_decay)


OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in (
    OptimizerSpec("sgd", "SGD", "grad += λ·w, then the SGD step (with --momentum: the momentum buffer, then the "
                  "step)", "coupled", _sgd_engine, _sgd_reference, "optim.SGD", state=0, launches=4,
                  code_args=_sgd_code, momentum=True, fusable=True),
    OptimizerSpec("adam", "Adam with L2", "grad += λ·w before Adam rescales it, so big-gradient weights decay "
                  "less", "coupled", _adam_engine, _adam_reference, "optim.Adam", state=2, scratch=1,
                  fusable=True),
    OptimizerSpec("adamw", "AdamW", "w *= 1 − lr·λ, then the Adam step; every weight decays at the same rate",
                  "decoupled", _adam_engine, _adamw_reference, "optim.AdamW", state=2, scratch=1, fusable=True),
    OptimizerSpec("rmsprop", "RMSprop with L2", "grad += λ·w before RMSprop divides it by the running RMS of "
                  "the gradients", "coupled", _rmsprop_engine, _rmsprop_reference, "optim.RMSprop", state=1,
                  scratch=1),
)}
