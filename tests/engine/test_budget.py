"""The budget: a sweep's peak memory and time estimated before training, refused over the limits, trained in
chunks near the memory limit, shown beside Train; the server's memory plan stays within its total."""
import numpy as np
import pytest

from wdlab.engine.budget import MB, NEAR, Shape, estimate, memory_plan, peak_bytes, plan, seconds, shape_of, validate
from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, Limits, SweepConfig
from wdlab.errors import ConfigError
from wdlab.engine.sweep import run_sweep
from support import app
from wdlab.ui.text import notes_of

WD8 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0)
ISSUE = SweepConfig(preset="digits", hidden=(256, 256, 256), dtype="float64", epochs=5, weight_decays=WD8,
                    seeds=(0, 1, 2))  # the issue's link: 855 MB above the server's baseline


def test_memory_grows_with_what_a_sweep_holds():
    base = SweepConfig(preset="digits", hidden=(64,), epochs=5, weight_decays=WD8[:4])
    shape = shape_of(base)
    b = peak_bytes(base, shape)
    assert peak_bytes(base.replace(dtype="float64"), shape) > 1.6 * b - shape.made_bytes
    assert peak_bytes(base.replace(weight_decays=WD8), shape) > 1.6 * b - shape.made_bytes
    assert peak_bytes(base.replace(hidden=(256,)), shape) > 2 * b - shape.made_bytes
    assert peak_bytes(base.replace(batch_size=64), shape) < b            # smaller work buffers
    assert peak_bytes(base.replace(optimizers=("sgd",)), shape) < b          # no Adam state
    wide = Shape(2000, 500, 620, 1, "regression", False, 0)
    assert peak_bytes(base, wide) > 2 * peak_bytes(base, shape)           # the data's width counts


def test_time_counts_the_bottleneck_the_activation_and_the_validation_rows():
    cfg = SweepConfig(preset="tutorial", hidden=(256, 1, 256), activation="gelu", dtype="float64", epochs=200,
                      weight_decays=WD8, seeds=(0, 1, 2))
    shape = shape_of(cfg)
    t = seconds(cfg, shape)
    assert t > 5 * seconds(cfg.replace(hidden=(1,)), shape)               # few parameters, wide buffers
    assert t > 1.5 * seconds(cfg.replace(activation="relu"), shape)
    assert seconds(cfg.replace(val_fraction=0.5), shape_of(cfg.replace(val_fraction=0.5))) > 1.2 * t
    assert seconds(cfg.replace(epochs=100), shape) == pytest.approx(t / 2, rel=0.05)


def test_the_issues_links_are_refused_or_trained_in_chunks_by_the_demo():
    # 855 MB in one chunk: the demo trains it a few members at a time instead, within its per-sweep budget
    est = validate(ISSUE, DEMO_LIMITS)
    assert estimate(ISSUE).bytes > 5 * DEMO_LIMITS.max_sweep_mb * MB
    assert est.max_chunk_members and est.bytes <= DEMO_LIMITS.max_sweep_mb * MB
    slow = SweepConfig(preset="tutorial", hidden=(256, 1, 256), activation="gelu", dtype="float64",
                       val_fraction=0.5, epochs=200, weight_decays=WD8, seeds=(0, 1, 2))
    with pytest.raises(ConfigError, match="too long: about"):
        validate(slow, DEMO_LIMITS)
    tall = Shape(80_000, 20_000, 1, 1, "regression", False, 0)           # 100,000 rows, hidden 256, batch 1000
    with pytest.raises(ConfigError, match="per sweep on this server"):
        validate(SweepConfig(preset="csv", hidden=(256,), weight_decays=WD8, seeds=(0, 1, 2), epochs=5,
                             batch_size=1000), DEMO_LIMITS, tall)
    tight = Limits(max_sweep_mb=1, max_seconds=1e9)
    with pytest.raises(ConfigError, match="memory at its peak.*at most 1 MB per sweep") as e:
        validate(ISSUE, tight)
    assert e.value.field == "hidden"


def test_near_the_memory_limit_a_sweep_is_planned_in_chunks_that_fit():
    budget = Limits(max_sweep_mb=300, max_seconds=1e9)
    whole = estimate(ISSUE)
    assert whole.bytes > NEAR * 300 * MB and whole.max_chunk_members is None
    planned = plan(ISSUE, budget)
    assert planned.max_chunk_members is not None and planned.val_block_rows is not None
    assert planned.bytes <= NEAR * 300 * MB < whole.bytes
    assert plan(ISSUE.replace(hidden=(16,)), budget).max_chunk_members is None  # small sweeps stay whole
    validate(ISSUE, budget)  # accepted: it will be trained in chunks


def test_run_sweep_trains_a_planned_sweep_in_chunks_with_the_same_numbers():
    cfg = SweepConfig(preset="digits", hidden=(32,), epochs=2, weight_decays=WD8[:4], seeds=(0, 1),
                      dtype="float64")
    est = estimate(cfg)
    tight = Limits(max_sweep_mb=est.bytes / MB * 0.9, max_seconds=1e9)   # over NEAR of it: in chunks
    p = plan(cfg, tight)
    assert p.max_chunk_members is not None and p.max_chunk_members < len(cfg.members)
    seen = []
    chunks = run_sweep(cfg, on_epoch=lambda e, rows: seen.append(len(rows["epoch"])), **validate(cfg, tight).knobs())
    whole = run_sweep(cfg)
    keys = ["optimizer", "lr", "weight_decay", "seed", "epoch", "diverged"]
    a, b = chunks.frame.drop(columns=keys).to_numpy(), whole.frame.drop(columns=keys).to_numpy()
    assert (np.isnan(a) == np.isnan(b)).all()           # rot… is NaN at epoch 0 (no step yet), in both
    assert np.nanmax(np.abs(a - b)) < 1e-12
    assert len(seen) > cfg.epochs + 1  # one report per group and epoch: the groups ran one after another


def test_the_servers_memory_plan_stays_within_its_total():
    plan_ = memory_plan(DEMO_LIMITS)
    assert plan_["total"] <= DEMO_LIMITS.max_memory_mb == 800
    assert memory_plan(DEFAULT_LIMITS)["total"] > DEMO_LIMITS.max_memory_mb  # the default is no hosted plan
    assert memory_plan(DEMO_LIMITS.__class__(**{**DEMO_LIMITS.__dict__, "max_concurrent_jobs": 4}))["total"] > 800


@pytest.mark.usefixtures("fresh_streamlit")
def test_the_estimate_is_shown_beside_train_and_an_over_budget_link_is_refused(monkeypatch):
    at = app("?preset=digits&hidden=64&epochs=5&wd=0,0.1&seeds=0")
    caption = next(t.value for t in at.text if "about" in t.value and "models" in t.value)
    est = plan(SweepConfig(preset="digits", hidden=(64,), epochs=5, weight_decays=(0.0, 0.1)), DEFAULT_LIMITS)
    assert f": {est.describe()}." in caption
    monkeypatch.setenv("WDLAB_DEMO", "1")
    at = app("?preset=digits&hidden=256,256,256&dtype=float64&epochs=5&wd=0,1e-5,1e-4,1e-3,1e-2,1e-1,0.3,1"
             "&seeds=0,1,2")
    assert not at.exception and not notes_of(at, "warning")
    caption = next(t.value for t in at.text if "about" in t.value and "models" in t.value)
    assert f"(trained {plan(ISSUE, DEMO_LIMITS).max_chunk_members} models at a time)" in caption
    from wdlab.ui.state import manager
    manager().cancel(at.session_state["job"])
    at = app("?preset=tutorial&hidden=256,1,256&activation=gelu&dtype=float64&val-fraction=0.5&epochs=200"
             "&wd=0,1e-5,1e-4,1e-3,1e-2,1e-1,0.3,1&seeds=0,1,2")
    warning = " ".join(notes_of(at, "warning"))
    assert f"at most {DEMO_LIMITS.max_seconds:g} s per sweep on this server" in warning and not at.exception
    validate(at.session_state["job"].cfg, DEMO_LIMITS)  # what runs is within the budget
    manager().cancel(at.session_state["job"])
