"""Ray Tune adapter: a wdlab stacked group as a Tune trainable, reporting every epoch of every member.

    from ray import tune
    from wdlab.run.tune import trainable
    tuner = tune.Tuner(trainable, param_space={"preset": "moons", "hidden": "32", "epochs": 100,
                                               "wd": "0,1e-3,1e-2,1e-1", "lr": tune.grid_search([1e-3, 1e-2, 1e-1])},
                       tune_config=tune.TuneConfig(metric="val_loss_best", mode="min",
                                                   scheduler=tune.schedulers.ASHAScheduler(max_t=100)))
    tuner.fit()

A trial is one group: the λ × seed members of one (architecture, optimizer, lr), trained together in its process.
Its settings are wdlab's URL keys (`lr`, `optimizer`, `wd`, `seeds`, `hidden`, `epochs`, …), each value a number
or the text the URL takes. Each epoch is one `ray.tune.report(metrics)` — the Ray ≥ 2.x function-trainable API
(`ray.tune.report(metrics: dict, *, checkpoint=None)`; older releases used `ray.air.session.report` (2.0–2.6)
and `ray.train.report` inside Tune (2.7–2.4x), both deprecated for Tune functions) — so Tune's schedulers
(ASHA, median stopping, PBT) see every epoch and can stop a bad lr's group early: each report increments
`training_iteration`, which equals the epoch.

Metrics per report: `epoch`; `train_loss_mean`, `val_loss_mean`, `val_loss_best` (the best member's),
`l2_norm_mean` over members; and every member's own as `val_loss/wd=<λ>/seed=<s>`, `train_loss/…`,
`l2_norm/…` (and accuracies for classification).
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from wdlab.run.grid import GridResult
from wdlab.run.train import prepare, train
from wdlab.settings.config import DEFAULT_LIMITS, ConfigError, Limits, SweepConfig
from wdlab.settings.params import BY_KEY


def config_from_settings(settings: Mapping[str, Any]) -> SweepConfig:
    """A trial's settings (URL keys; numbers or their text) -> SweepConfig; ConfigError naming a bad one."""
    values = {}
    for key, raw in settings.items():
        param = BY_KEY.get(key)
        if param is None:
            raise ConfigError(f"unknown setting {str(key)[:40]!r}; known: {', '.join(BY_KEY)}")
        if isinstance(raw, (list, tuple)):
            raw = ",".join(str(v) for v in raw)
        values[param.attr] = param.parse(str(raw))
    return SweepConfig(**values)


def epoch_metrics(rows) -> dict[str, float]:
    """One epoch's rows (one per member) -> the flat dict Tune receives."""
    out: dict[str, float] = {"epoch": int(rows["epoch"].iloc[0])}
    cols = [c for c in ("train_loss", "val_loss", "l2_norm", "train_acc", "val_acc") if c in rows]
    for c in cols:
        out[f"{c}_mean"] = float(rows[c].mean())
    out["val_loss_best"] = float(rows["val_loss"].min())
    for _, r in rows.iterrows():
        for c in cols:
            out[f"{c}/wd={r['weight_decay']:g}/seed={int(r['seed'])}"] = float(r[c])
    return out


def train_trial(settings: Mapping[str, Any], report, limits: Limits = DEFAULT_LIMITS) -> GridResult:
    """Train the group in this process and call report(metrics) after each epoch (epoch 0 = the initial weights
    is not reported: Tune's first iteration is the first epoch). ConfigError if its limits refuse it; a failed
    run raises too, so Tune marks the trial failed."""
    work = prepare(config_from_settings(settings), limits=limits)
    work.check()

    def progress(epoch, rows):  # rows: that epoch's new rows, as plain columns
        if epoch > 0:
            report(epoch_metrics(pd.DataFrame(rows)))

    result = train(work, on_progress=progress)
    if result.failures:
        raise RuntimeError(result.failures[0].error)
    return result


def trainable(config: dict) -> None:
    """The Tune function trainable (`tune.Tuner(trainable, param_space=...)`)."""
    import torch  # deferred: in the trial's process, which Ray started
    from ray import tune  # deferred: Ray is an optional extra
    cpus = _assigned_cpus()
    torch.set_num_threads(max(1, int(cpus)))
    train_trial(config, tune.report)


def _assigned_cpus() -> float:
    try:
        import ray  # deferred: inside a trial Ray is there; outside one it may not be installed
        return ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    except Exception:  # noqa: BLE001 — outside a Ray worker: one thread
        return 1
