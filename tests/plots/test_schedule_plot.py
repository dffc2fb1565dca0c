"""The lr schedule figure: lr_t as the engine steps it, AdamW's per-step shrink lr_t·λ, nothing for coupled λ."""
import pytest

from wdlab.plots.schedule import lr_curve, schedule_figure
from wdlab.reference import lr_lambda
from wdlab.settings.config import SweepConfig


def test_lr_curve_is_lr_times_the_references_lambda_by_epoch():
    cfg = SweepConfig(preset="moons", epochs=6, batch_size=64, schedule="cosine", warmup_epochs=2)  # 4 steps/epoch
    x, lr_t = lr_curve(cfg, 200, 0.01)
    f = lr_lambda(cfg, 200)
    assert len(x) == 24 and x[0] == 0.25 and x[-1] == 6.0
    assert lr_t.tolist() == [0.01 * f(t) for t in range(24)]


@pytest.mark.parametrize("opt,shrinks", [("adamw", 2), ("adam", 0)])
def test_decoupled_decay_draws_each_positive_lambdas_shrink(opt, shrinks):
    cfg = SweepConfig(preset="moons", optimizers=(opt,), epochs=5, weight_decays=(0.0, 0.01, 0.1), schedule="step",
                      step_period=2, step_gamma=0.5)
    fig = schedule_figure(cfg, 150)
    lr_t = fig.data[0].y
    assert lr_t[0] == 0.01 and lr_t[-1] == 0.01 * 0.25
    shrink = [t for t in fig.data if t.name.startswith("shrink")]
    assert len(shrink) == shrinks
    if shrinks:
        assert list(shrink[1].y) == pytest.approx([v * 0.1 for v in lr_t])
        assert "step decay" in fig.layout.title.text
