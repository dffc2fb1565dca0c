"""reference.course_run, the benchmarks' lean plain loop, trains exactly what reference_run trains."""
import pytest

from wdlab.reference import course_run, reference_run
from wdlab.settings.config import SweepConfig

COLUMNS = ("train_loss", "train_eval_loss", "val_loss", "l2_norm")


@pytest.mark.parametrize("kw", [
    dict(preset="tutorial", hidden=(8,), optimizers=("adamw",), batch_size=48, norm="layernorm"),   # partial batch
    dict(preset="moons", hidden=(8, 4), optimizers=("sgd",), momentum=0.9, lrs=(0.1,)),          # full batch
    dict(preset="spirals", hidden=(8,), optimizers=("adam",), batch_size=64, schedule="cosine", warmup_epochs=1),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_lean_loop_gives_the_reference_runs_numbers_bit_for_bit(kw, dtype):
    cfg = SweepConfig(epochs=3, weight_decays=(0.1,), seeds=(1,), dtype=dtype, **kw)
    member = cfg.members[0]
    lean, ref = course_run(cfg, member), reference_run(cfg, member)
    for c in COLUMNS:
        assert len(lean[c]) == cfg.epochs and lean[c] == ref[c], c
