"""Two-core mode (processes): frames equal to in-process row for row, divergence, failures, cancel, the CLI flag."""
import os
import subprocess
import sys
import threading
import time
import uuid
from io import StringIO

import pandas as pd
import pytest

from wdlab.settings.config import SweepConfig
from wdlab.run.train import train
from wdlab.engine.sweep import run_sweep
from support import ROOT, busy_loop, interrupted_run
from wdlab.run.workers import Workers, cpus, member_costs, split

# optimizer × lr grids over several λ and seeds; full batch (per-seed data), minibatches, LayerNorm, no bias decay
GRIDS = {
    "tutorial full batch, adam and sgd+momentum × 2 lrs": SweepConfig(
        preset="tutorial", hidden=(12,), optimizers=("adam", "sgd"), lrs=(0.01, 0.03), momentum=0.9, epochs=6,
        weight_decays=(0.0, 1e-3, 0.1), seeds=(0, 1)),
    "moons minibatch, adamw and rmsprop × 2 lrs, gelu": SweepConfig(
        preset="moons", hidden=(16, 8), activation="gelu", optimizers=("adamw", "rmsprop"), lrs=(0.003, 0.01),
        epochs=4, batch_size=40, weight_decays=(0.0, 1e-2, 0.1), seeds=(0, 1, 2)),
    "digits layernorm, no bias decay, a ragged last batch": SweepConfig(
        preset="digits", hidden=(16,), norm="layernorm", decay_bias=False, optimizers=("adamw", "sgd"),
        lrs=(0.01,), epochs=3, batch_size=500, weight_decays=(0.0, 0.1), seeds=(0, 3)),
}


def exact(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", GRIDS)
def test_two_workers_give_the_in_process_frame_exactly(name, dtype):
    cfg = GRIDS[name].replace(dtype=dtype)
    seen = []
    here, there = train([cfg]), train([cfg], backend=Workers(2), on_progress=lambda done, rows: seen.append(done))
    assert there.status == "done" and [o.status for o in there.outcomes] == ["done"]
    assert there.outcomes[0].epochs_done == cfg.epochs
    exact(there.frame, here.frame)
    assert seen == sorted(seen) and seen[-1] == cfg.epochs      # progress never goes back and reaches the end


@pytest.mark.parametrize("chunk", [1, 3, 5])
def test_a_members_numbers_do_not_depend_on_who_shares_its_pass_even_in_float32(chunk):
    """What the split relies on: a slice of members, or the whole sweep in passes of any size, gives every member
    bit-identical rows in float32 (a lone member trains beside a twin; fused steps only on aligned segments)."""
    cfg = GRIDS["moons minibatch, adamw and rmsprop × 2 lrs, gelu"]
    whole = run_sweep(cfg).frame
    exact(run_sweep(cfg, max_chunk_members=chunk).frame, whole)
    part = run_sweep(cfg, members=range(5, 5 + chunk * 2)).frame
    keys = ["optimizer", "lr", "weight_decay", "seed", "epoch"]
    expected = whole.merge(part[keys], on=keys)
    assert len(part) == (cfg.epochs + 1) * chunk * 2
    exact(part, expected)


def test_every_segment_takes_the_fused_step_padded_and_a_member_still_does_not_depend_on_its_pass_mates():
    """Layers whose sizes are no multiple of the vector width (6×12 weights, 1×6, biases of 6 and 1) are padded
    per member with zeros in the flat buffer, so the fused Adam step takes them all and no element falls in its
    scalar tail (which rounds differently): float32 rows stay bit-identical however the members are grouped, and
    the padding stays zero."""
    from wdlab.engine.stack import Stack
    from wdlab.engine.sweep import plan_stacks, prepare
    cfg = SweepConfig(preset="tutorial", hidden=(12, 6), activation="tanh", optimizers=("adam", "sgd"),
                      lrs=(0.01, 0.03), momentum=0.9, epochs=5, batch_size=96, weight_decays=(0.0, 0.1),
                      seeds=(0, 1))
    whole = run_sweep(cfg).frame
    for chunk in (1, 3):
        exact(run_sweep(cfg, max_chunk_members=chunk).frame, whole)
    setup = prepare(cfg)
    p = Stack(cfg, setup, plan_stacks(cfg, setup)[0])
    assert sorted(type(o).__name__ for o in p.optimizers) == ["Adam", "SGD"]
    assert all(o.defaults["fused"] for o in p.optimizers)          # one fused optimizer per kind, nothing else
    padded = [s for s in p.net.segments if s.stride != s.per]
    assert {s.shape for s in padded} >= {(6, 12), (1, 6), (6,), (1,)}
    for _ in range(3):
        assert p.train_epoch(None, None)
    for s in padded:
        pad = p.net.flat[s.offset:s.offset + p.net.M * s.stride].view(p.net.M, s.stride)[:, s.per:]
        assert pad.abs().max().item() == 0.0


def test_several_architectures_are_split_across_the_workers_and_gathered_as_in_process():
    base = GRIDS["tutorial full batch, adam and sgd+momentum × 2 lrs"]
    cfgs = [base.replace(hidden=(8,)), base.replace(hidden=(16, 8), epochs=4), base.replace(hidden=(4,))]
    shares = split([member_costs(c) for c in cfgs], 2)
    assert len(shares) == 2 and any(len(share) > 1 for share in shares)   # a worker trains two architectures
    here, there = train(cfgs), train(cfgs, backend=Workers(2))
    assert there.status == "done" and len(there.outcomes) == 3
    assert list(there.frame.arch.unique()) == ["8", "16-8", "4"]
    exact(there.frame, here.frame)


def test_the_split_is_contiguous_balanced_by_work_and_never_spans_two_architectures():
    cfg = GRIDS["tutorial full batch, adam and sgd+momentum × 2 lrs"]
    costs = member_costs(cfg)
    assert len(costs) == 24 and all(c > 0 for c in costs)
    uneven = [2.0] * 12 + [1.0] * 12                                  # a costly optimizer's members, then a cheap one's
    for c in (costs, uneven):
        for n in (1, 2, 3, 5):
            shares = split([c], n)
            flat = [m for share in shares for p in share for m in p.members]
            assert flat == list(range(24)) and len(shares) == n
            work = [sum(c[m] for p in share for m in p.members) for share in shares]
            assert max(work) - min(work) <= max(c) + 1e-12           # within one member of even
    two = split([uneven], 2)
    assert [p.members for s in two for p in s] == [range(0, 9), range(9, 24)]   # 18 of work each
    mixed = split([[1.0] * 3, [1.0] * 5], 8)
    assert len(mixed) == 8 and all(len(s) == 1 and len(s[0].members) == 1 for s in mixed)
    assert split([[1.0] * 3], 8) == split([[1.0] * 3], 3)           # never more workers than members
    across = split([[1.0] * 3, [1.0] * 3], 2)
    assert [[(p.arch, p.members) for p in s] for s in across] == [[(0, range(0, 3))], [(1, range(0, 3))]]


def test_a_diverging_member_is_reported_at_its_epoch_and_the_others_stay_exact():
    cfg = SweepConfig(preset="tutorial", hidden=(16,), optimizers=("sgd", "adamw"), lrs=(0.05, 8.0), epochs=8,
                      weight_decays=(0.0, 1e-2), seeds=(0, 1))
    here, there = train([cfg]), train([cfg], backend=Workers(2))
    assert there.status == "done" and here.diverged and there.diverged == here.diverged
    exact(there.frame, here.frame)


def test_a_failing_worker_is_named_with_its_members_and_the_other_workers_rows_are_kept():
    cfg = GRIDS["tutorial full batch, adam and sgd+momentum × 2 lrs"]
    result = train([cfg], backend=Workers(2, sweep="support:runner_failing_past_member_0"))
    (o,) = result.outcomes
    first = split([member_costs(cfg)], 2)[0][0].members
    assert result.status == "failed" and o.status == "failed"
    assert o.error == f"members {first.stop + 1}–24 of 24: RuntimeError: this run of members was made to fail"
    exact(result.frame, run_sweep(cfg, members=first).frame)


def test_a_worker_that_dies_is_reported_and_what_it_sent_is_kept():
    cfg = GRIDS["tutorial full batch, adam and sgd+momentum × 2 lrs"]
    result = train([cfg], backend=Workers(2, sweep="support:runner_dying_past_member_0"))
    (o,) = result.outcomes
    assert o.status == "failed" and "ended unexpectedly (exit code 3)" in o.error
    whole = run_sweep(cfg).frame
    keys = ["optimizer", "lr", "weight_decay", "seed", "epoch"]
    exact(result.frame, whole.merge(result.frame[keys], on=keys))      # every row it has is the right one
    first = split([member_costs(cfg)], 2)[0][0].members
    assert len(result.frame) >= len(first) * (cfg.epochs + 1)         # the healthy worker's rows, all of them


def test_cancel_stops_the_workers_and_keeps_their_finished_epochs():
    cfg = GRIDS["tutorial full batch, adam and sgd+momentum × 2 lrs"].replace(epochs=2000)
    cancel = threading.Event()
    reached: dict = {}   # member -> the last epoch its rows reported

    def progress(done, rows):
        # cancel once every member has finished 5 epochs: the progress count is an average over the workers, so
        # under load one worker can be 10 epochs in while the other is still starting
        if rows is not None:
            for *key, epoch in zip(rows["optimizer"], rows["lr"], rows["weight_decay"], rows["seed"], rows["epoch"]):
                reached[tuple(key)] = max(reached.get(tuple(key), 0), epoch)
        if len(reached) == len(cfg.members) and min(reached.values()) >= 5:
            cancel.set()

    result = train([cfg], backend=Workers(2), cancel=cancel, on_progress=progress)
    (o,) = result.outcomes
    assert result.status == "cancelled" and o.status == "cancelled" and 5 <= o.epochs_done < 2000
    whole_until = run_sweep(cfg.replace(epochs=int(result.frame.epoch.max()))).frame
    keys = ["optimizer", "lr", "weight_decay", "seed", "epoch"]
    exact(result.frame, whole_until.merge(result.frame[keys], on=keys))
    assert (result.frame.groupby(keys[:4]).epoch.max() >= o.epochs_done).all()   # every member, at least that far
    import multiprocessing
    assert not multiprocessing.active_children()                       # the workers are gone


def run_cli(*argv, **kw):
    return subprocess.run([sys.executable, "-m", "wdlab", "run", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kw)


FLAGS = ["--preset", "moons", "--hidden", "16", "--optimizer", "adam", "sgd", "--lr", "0.01", "0.1", "--epochs", "20",
         "--batch-size", "64", "--wd", "0", "1e-3", "1e-1", "--seeds", "0", "1", "--quiet"]


def test_the_cli_with_two_workers_writes_the_in_process_csv_byte_for_byte():
    one, two = run_cli(*FLAGS), run_cli(*FLAGS, "--workers", "2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and len(pd.read_csv(StringIO(two.stdout))) == 24 * 21


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", str(cpus() + 1)])
def test_bad_workers_values_are_refused_in_one_line(value):
    out = run_cli(*FLAGS, "--workers", value)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"wdlab: error: argument --workers: takes a whole number from 1 to {cpus()} (the CPUs this "
                          f"machine gives wdlab), got '{value}'\n")


def test_workers_do_not_combine_with_ray_or_with_more_threads_than_cpus():
    ray = run_cli(*FLAGS, "--workers", "2", "--backend", "ray")
    assert ray.returncode == 2 and "--workers applies to --backend local" in ray.stderr
    many = run_cli(*FLAGS, "--workers", "2", "--threads", str(cpus()))
    assert many.returncode == 2 and f"asks for {2 * cpus()} torch threads" in many.stderr
    assert "Traceback" not in ray.stderr + many.stderr


def test_ctrl_c_stops_the_workers_writes_the_finished_epochs_and_leaves_no_process(tmp_path):
    target, mark = tmp_path / "sweep.csv", uuid.uuid4().hex
    code, text = interrupted_run(["--workers", "2", "--preset", "tutorial", "--hidden", "64", "--epochs", "2000",
                                  "--batch-size", "50", "--wd", "0", "0.01", "0.1", "--seeds", "0", "1", "--out",
                                  str(target)], env={"WDLAB_TEST_MARK": mark})
    assert code == 130, text[-2000:]
    assert "Traceback" not in text and "wdlab: interrupted: wrote the" in text
    frame = pd.read_csv(target)
    done = int(text.split("wdlab: interrupted: wrote the ")[1].split()[0])
    # `done`: the epochs every member finished (a worker slowed by the load may still be on its first epoch)
    assert 0 <= done < 2000 and frame.epoch.max() >= 1 and len(frame.groupby(["weight_decay", "seed"])) == 6
    assert (frame.groupby(["weight_decay", "seed"]).epoch.max() >= done).all()
    deadline = time.monotonic() + 30
    while (left := _marked(mark)) and time.monotonic() < deadline:   # the fork server leaves after its parent
        time.sleep(0.2)
    assert not left, left


def _marked(mark: str) -> list[int]:
    """Processes whose environment carries `mark` (the CLI's, its fork server's and its workers')."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"WDLAB_TEST_MARK={mark}".encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


# ---- how many workers: the budget's time model and the CPUs other work keeps busy ---------------------------

SMALL = SweepConfig(preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=100, batch_size=50,
                    weight_decays=(0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1), seeds=(0, 1, 2))
WIDE = SMALL.replace(hidden=(256, 256), epochs=10, batch_size=64, preset="digits")


def test_the_time_model_splits_a_sweep_into_a_fixed_part_each_worker_repeats_and_a_part_per_member():
    from wdlab.engine.budget import seconds, shape_of
    from wdlab.run.workers import fixed_seconds, predicted_seconds
    for cfg in (SMALL, WIDE):
        costs, fixed = [member_costs(cfg)], [fixed_seconds(cfg)]
        whole = seconds(cfg, shape_of(cfg))
        assert 0 < fixed[0] < whole
        assert predicted_seconds(costs, fixed, 1, 0, 2) == pytest.approx(whole)
        two = predicted_seconds(costs, fixed, 2, 0, 2)
        assert whole / 2 < two < whole                                # each half pays the fixed part again
        # beside one busy CPU, 3 processes share 2 cores: every process gets 2/3 of one
        assert predicted_seconds(costs, fixed, 2, 1, 2) == pytest.approx(two * 1.5)
    # the small net's fixed part is the larger share of its time (measured: 0.70 of the whole per half, wide 0.50)
    share = lambda c: predicted_seconds([member_costs(c)], [fixed_seconds(c)], 2, 0, 2) / \
        predicted_seconds([member_costs(c)], [fixed_seconds(c)], 1, 0, 2)  # noqa: E731
    assert share(SMALL) > 2 / 3 > share(WIDE)


def test_workers_are_chosen_by_what_finishes_first_given_the_busy_cpus():
    from wdlab.run.workers import choose_workers, fixed_seconds
    small, wide = ([member_costs(SMALL)], [fixed_seconds(SMALL)]), ([member_costs(WIDE)], [fixed_seconds(WIDE)])
    assert choose_workers(*small, 2, 0.0, 2) == 2 and choose_workers(*wide, 2, 0.0, 2) == 2   # idle: both cores
    assert choose_workers(*small, 2, 1.0, 2) == 1     # beside a hog: one core alone beats 2 × 2/3 for the small net
    assert choose_workers(*wide, 2, 1.0, 2) == 2      # the wide net's halves are cheap enough to win at 2/3 a core
    assert choose_workers(*wide, 1, 0.0, 2) == 1                                # never more than asked
    one_member = SMALL.replace(weight_decays=(0.0,), seeds=(0,))
    assert choose_workers([member_costs(one_member)], [fixed_seconds(one_member)], 2, 0.0, 2) == 1


def test_busy_cpus_sees_a_busy_loop():
    from wdlab.run.workers import busy_cpus
    n = os.cpu_count()
    assert 0.0 <= busy_cpus() <= n
    with busy_loop():
        deadline, seen = time.monotonic() + 60, 0.0
        while (seen := busy_cpus()) < 0.7 and time.monotonic() < deadline:   # the loop takes a whole CPU
            pass
        assert 0.7 <= seen <= n


def test_asked_for_two_workers_beside_a_busy_cpu_a_small_sweep_trains_in_this_process_and_says_so():
    import torch
    cfg = SMALL.replace(epochs=3)
    here = train([cfg])
    chosen = train([cfg], backend=Workers(2, adapt=True, busy=1.0, threads=torch.get_num_threads()))
    assert chosen.note.startswith("1 worker of the 2 asked for: 1.0 of") and "this process" in chosen.note
    exact(chosen.frame, here.frame)
    idle = train([cfg], backend=Workers(2, adapt=True, busy=0.0))
    assert idle.note == "" and idle.status == "done"
    exact(idle.frame, here.frame)


def test_the_cli_beside_a_busy_loop_takes_one_worker_for_a_small_sweep_says_so_and_writes_the_same_csv():
    flags = ["--preset", "tutorial", "--hidden", "64", "--optimizer", "adam", "--lr", "0.01", "--epochs", "20",
             "--batch-size", "50", "--wd", "0", "1e-3", "1e-1", "--seeds", "0", "1"]   # by the model 2 workers: 1.3×
    one = run_cli(*flags, "--quiet")
    with busy_loop():
        beside = run_cli(*flags, "--workers", "2")
    assert beside.returncode == 0, beside.stderr
    assert "wdlab: 1 worker of the 2 asked for: " in beside.stderr and "CPUs busy with other work" in beside.stderr
    assert beside.stdout == one.stdout
