"""wdlab.engine.optim_step: torch.optim's own update without importing torch._dynamo, bit for bit equal to opt.step()."""
import subprocess
import sys

import pytest
import torch

from wdlab.engine import optim_step
from support import ROOT

CASES = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
         ("Adam", dict(lr=0.01, weight_decay=0.1)), ("AdamW", dict(lr=0.01, weight_decay=0.1)),
         ("RMSprop", dict(lr=0.01, weight_decay=0.1)), ("Adam", dict(lr=0.01, fused=True)),
         ("SGD", dict(lr=0.1, foreach=False))]


def trained(name, kw, stepper):
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(7, 3, dtype=torch.float64))
    opt = getattr(torch.optim, name)([p], **kw)
    for i in range(5):
        p.grad = torch.sin(p.detach() * (i + 1))
        stepper(opt)
    return p.detach()


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_the_eager_step_is_torch_optims_step(name, kw):
    assert torch.equal(trained(name, kw, optim_step.step), trained(name, kw, lambda o: o.step()))


def test_the_eager_step_leaves_gradient_mode_as_it_was():
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    optim_step.step(torch.optim.SGD([p], lr=0.1))
    assert torch.is_grad_enabled()


def test_a_process_that_steps_every_optimizer_never_imports_torch_dynamo():
    code = ("import sys, torch\nfrom wdlab.engine import optim_step\n"
            "for cls in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop):\n"
            "    p = torch.nn.Parameter(torch.ones(3)); p.grad = torch.ones(3)\n"
            "    optim_step.allow(); o = cls([p], lr=0.1); optim_step.step(o); o.zero_grad()\n"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
