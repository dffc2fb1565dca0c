"""torch.optim without torch._dynamo: the same optimizers and update code, minus a 0.7–1.9 s import.

Why the first torch.optim step imports torch._dynamo (torch 2.13): `Optimizer.add_param_group`, `zero_grad` and
the functional updates (`adam()`, `sgd()`, …) are wrapped by `torch._disable_dynamo`, which imports
torch._dynamo on a wrapper's first call to build `torch._dynamo.disable(fn)` and caches it as
`fn.__dynamo_disable`; and every `step()` is wrapped by `_use_grad_for_differentiable`, which imports
torch._dynamo to call `torch._dynamo.graph_break()` around the update. Both only matter while torch.compile
traces the optimizer; in eager mode `disable(fn)` calls fn and `graph_break()` does nothing.

So, for eager use only: `allow()` pre-fills that cache with each function itself, and `step(opt)` runs the
optimizer's own `step` body (the code under its decorators) with gradients off, as `_use_grad` does. The
update is torch.optim's own: the tests check it bit for bit against `opt.step()`. Nothing here may run under
torch.compile; wdlab never compiles.
"""
from __future__ import annotations

import inspect
import sys

_done = False


def _mark(f, seen: set) -> None:
    while f is not None and id(f) not in seen:
        seen.add(id(f))
        if inspect.isfunction(f) and not hasattr(f, "__dynamo_disable"):
            f.__dynamo_disable = f   # what torch caches after its first call, minus torch._dynamo.disable
        f = getattr(f, "__wrapped__", None)


def allow() -> None:
    """Let torch.optim's constructors and functional updates run without importing torch._dynamo."""
    global _done
    if _done:
        return
    import torch.optim  # noqa: F401  (deferred: loads the optimizers' modules when first asked, not at import)
    seen: set = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("torch.optim") or module is None:
            continue
        for value in list(vars(module).values()):
            for f in (vars(value).values() if inspect.isclass(value) else (value,)):
                _mark(f, seen)
    _done = True


def raw_step(cls):
    """The body of cls.step under torch.optim's wrappers (profiling hooks, _use_grad)."""
    f = cls.step
    while hasattr(f, "__wrapped__"):
        f = f.__wrapped__
    return f


def step(opt) -> None:
    """opt.step() without the torch._dynamo graph breaks: the same update, gradients off as _use_grad sets.
    Step hooks (none in wdlab) are not called."""
    import torch  # deferred with torch.optim above: importing this module loads neither
    allow()
    with torch.set_grad_enabled(bool(opt.defaults.get("differentiable", False))):
        raw_step(type(opt))(opt)
