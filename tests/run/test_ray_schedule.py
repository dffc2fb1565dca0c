"""Schedules on Ray: every optimizer's group under cosine (with warmup) and step decay, trained as a Ray task,
equals the in-process run and the plain torch.optim + LambdaLR reference (float64)."""
import os

import pandas as pd
import pytest

from wdlab.cli.args import build_parser, configs_from_args
from wdlab.reference import reference_run
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.run.train import train

ray = pytest.importorskip("ray") if not os.environ.get("WDLAB_REQUIRE_RAY") else __import__("ray")
pytestmark = pytest.mark.ray

# every optimizer × 2 lrs × 2 λ, 4 epochs of 5 batches of 40 (moons: 200 training rows), from the CLI's flags
FLAGS = ["run", "--preset", "moons", "--hidden", "8", "--optimizer", *OPTIMIZERS, "--lr", "0.003", "0.03",
         "--momentum", "0.9", "--epochs", "4", "--batch-size", "40", "--wd", "0", "0.3", "--seeds", "1",
         "--dtype", "float64"]
SCHEDULES = {"cosine": ["--schedule", "cosine", "--warmup-epochs", "1"],
             "step": ["--schedule", "step", "--step-period", "2", "--step-gamma", "0.25"]}


def member_rows(frame, m):
    keep = (frame.optimizer == m.optimizer) & (frame.lr == m.lr) & (frame.weight_decay == m.weight_decay) & (
        frame.seed == m.seed)
    return frame[keep].sort_values("epoch").reset_index(drop=True)


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_optimizer_under_a_schedule_on_ray_equals_in_process_and_the_lambdalr_reference(local_ray, schedule):
    from wdlab.run.ray_backend import Ray
    (cfg,) = configs_from_args(build_parser().parse_args([*FLAGS, *SCHEDULES[schedule]]))
    assert cfg.schedule == schedule and set(cfg.optimizers) == set(OPTIMIZERS) and len(OPTIMIZERS) >= 4
    there = train([cfg], backend=Ray())
    assert there.status == "done" and len(there.outcomes) == len(OPTIMIZERS) * 2   # one Ray task per group
    here = train([cfg])
    pd.testing.assert_frame_equal(there.frame.reset_index(drop=True), here.frame.reset_index(drop=True),
                                  check_exact=False, rtol=1e-12, atol=1e-12)
    constant = train([cfg.replace(schedule="constant", warmup_epochs=0)]).frame
    for m in cfg.members:
        ref, got = reference_run(cfg, m), member_rows(there.frame, m)
        for col in ("train_loss", "train_eval_loss", "val_loss", "l2_norm"):
            diff = max(abs(a - b) for a, b in zip(got[col][1:], ref[col], strict=True))
            assert diff <= 1e-12, (m, col, diff)
        # the schedule changed this member: the constant-lr run ends elsewhere
        assert abs(got.l2_norm.iloc[-1] - member_rows(constant, m).l2_norm.iloc[-1]) > 1e-6, m
