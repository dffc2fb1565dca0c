"""The engine's log-softmax (a transposed copy for short rows) against torch's own kernel."""
import pytest
import torch

from wdlab.engine.net import ALIGN, log_softmax, member_losses_and_grad


@pytest.mark.parametrize("classes", [2, 10, ALIGN, ALIGN + 1, 97])
def test_log_softmax_equals_torchs_to_rounding_and_keeps_the_layout(classes):
    g = torch.Generator().manual_seed(classes)
    out = torch.randn(5, 37, classes, generator=g, dtype=torch.float64) * 4
    got = log_softmax(out)
    assert got.shape == out.shape
    assert (got - torch.log_softmax(out, -1)).abs().max().item() <= 1e-14


@pytest.mark.parametrize("classes", [10, 97])
def test_a_members_float32_log_softmax_does_not_depend_on_its_sweep_mates(classes):
    g = torch.Generator().manual_seed(1)
    out = torch.randn(24, 64, classes, generator=g)
    whole = log_softmax(out)
    for m in (0, 7, 23):
        assert torch.equal(whole[m], log_softmax(out[m:m + 1])[0])
        assert torch.equal(whole[m], log_softmax(out[m:m + 3])[0])


def test_cross_entropy_gradient_through_the_transposed_log_softmax_equals_autograd():
    g = torch.Generator().manual_seed(2)
    out = torch.randn(4, 33, 10, generator=g, dtype=torch.float64).requires_grad_(True)
    y = torch.randint(0, 10, (4, 33), generator=g)
    losses, grad = member_losses_and_grad(out.detach(), y, "classification")
    ref = torch.stack([torch.nn.functional.cross_entropy(out[m], y[m]) for m in range(4)])
    ref.sum().backward()
    assert (losses - ref.detach()).abs().max().item() <= 1e-15
    assert (grad - out.grad).abs().max().item() <= 1e-15
