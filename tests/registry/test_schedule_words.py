"""One place words a config's schedule beside a result: registry.schedules.under."""
from wdlab.registry.schedules import under
from wdlab.settings.config import SweepConfig


def test_a_constant_lr_is_not_mentioned_and_any_other_schedule_is_named_with_its_warmup():
    assert under(SweepConfig()) == ""
    assert under(SweepConfig(schedule="cosine", warmup_epochs=10)) == "under cosine after 10 warmup epochs"
    assert under(SweepConfig(schedule="cosine")) == "under cosine"
    assert under(SweepConfig(warmup_epochs=1)) == "under a constant lr after 1 warmup epoch"
    assert under(SweepConfig(schedule="step", step_period=20, step_gamma=0.5)) == \
        "under step decay (×0.5 every 20 epochs)"
