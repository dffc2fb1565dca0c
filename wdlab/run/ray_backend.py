"""Grids on Ray: each group (one architecture, optimizer and lr) becomes a Ray task; the same tidy frame back.

wdlab grows no scheduler of its own: Ray places the tasks on a local Ray it starts (and stops), or on a running
cluster (`address`). Each task trains with as many torch threads as CPUs Ray gave it. Progress comes back
through a small actor; a cancel (Ctrl-C) cancels the outstanding tasks and keeps the finished groups; a task
that fails is reported with its group while the others' rows are kept.
"""
from __future__ import annotations

import os
import threading
import time
from wdlab.settings.config import DEFAULT_LIMITS, Limits, SweepConfig
from wdlab.run.grid import GridProgress, GridResult, GroupOutcome, combine, describe, groups, status_of

INSTALL = "--backend ray needs Ray, an optional extra: pip install -e '.[ray]' (or pip install 'ray[tune]==2.60.0')"


# A local Ray of its own (address="local": never a cluster some other process left running), on loopback only.
LOCAL = {"address": "local", "include_dashboard": False, "_node_ip_address": "127.0.0.1"}


class RayMissing(RuntimeError):
    """Ray is not installed."""


def _ray():
    try:
        import ray
    except ImportError:
        raise RayMissing(INSTALL) from None
    return ray


def _package_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _train_group(cfg: SweepConfig, data, gid: int, tally, limits: Limits, runner: str):
    """In a Ray worker: one group's sweep, on the torch threads its CPUs allow; epochs reported to `tally`."""
    import importlib

    import ray
    import torch
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    module, _, name = runner.partition(":")
    run = getattr(importlib.import_module(module), name)
    last = [0.0]

    def progress(epoch, _rows):
        now = time.monotonic()
        if now - last[0] >= 0.2 or epoch == cfg.epochs:
            last[0] = now
            tally.report.remote(gid, epoch)

    from wdlab.engine.budget import validate
    est = validate(cfg, limits, data)
    r = run(cfg, data=data, on_epoch=progress, **est.knobs())
    return r.frame, dict(r.diverged), r.status, r.epochs_done


class _Tally:
    """Epochs done per group (an actor: tasks report, the driver reads)."""

    def __init__(self):
        self.done: dict[int, int] = {}

    def report(self, gid: int, epoch: int) -> None:
        self.done[gid] = max(epoch, self.done.get(gid, 0))

    def total(self) -> int:
        return sum(self.done.values())


def run_ray(cfgs: list[SweepConfig], *, data=None, address: str | None = None, num_cpus: int | None = None,
            cpus_per_task: float = 1, limits: Limits = DEFAULT_LIMITS, on_progress: GridProgress | None = None,
            cancel: threading.Event | None = None, runner: str = "wdlab.engine.sweep:run_sweep",
            poll: float = 0.2) -> GridResult:
    """Train every group of `cfgs` as a Ray task. With no address, start a local Ray of `num_cpus` CPUs (all
    cores by default) and shut it down afterwards; with an address, join that cluster and leave it running.
    `runner` ("module:function", run_sweep's signature) is what a task calls; the workers get this package's
    own code (runtime_env py_modules), so a cluster needs only torch, pandas and Ray installed."""
    ray = _ray()
    todo = groups(cfgs)
    started = not ray.is_initialized()
    if started:
        env = {"py_modules": [_package_dir()], "env_vars": {"OMP_NUM_THREADS": "1"}}
        if address:
            ray.init(address=address, runtime_env=env, logging_level="warning", log_to_driver=False)
        else:
            ray.init(**LOCAL, num_cpus=num_cpus, runtime_env=env, logging_level="warning", log_to_driver=False)
    try:
        return _gather(ray, todo, data, limits, on_progress, cancel, runner, poll, cpus_per_task)
    finally:
        if started:
            ray.shutdown()


def _gather(ray, todo, data, limits, on_progress, cancel, runner, poll, cpus_per_task) -> GridResult:
    tally = ray.remote(num_cpus=0)(_Tally).remote()
    task = ray.remote(num_cpus=cpus_per_task, max_retries=0)(_train_group)
    data_ref = ray.put(data)
    pending = {task.remote(cfg, data_ref, gid, tally, limits, runner): gid for gid, cfg in enumerate(todo)}
    outcomes = [GroupOutcome(cfg, status="cancelled") for cfg in todo]
    shown = -1
    while pending:
        if cancel is not None and cancel.is_set():
            for ref in pending:
                ray.cancel(ref)
            break
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=poll)
        for ref in ready:
            gid = pending.pop(ref)
            try:
                frame, diverged, status, epochs = ray.get(ref)
                outcomes[gid] = GroupOutcome(todo[gid], frame, diverged, status, "", epochs)
            except Exception as e:  # noqa: BLE001 — a failed task is reported with its group
                cause = getattr(e, "cause", None) or e
                outcomes[gid] = GroupOutcome(todo[gid], status="failed",
                                             error=f"{type(cause).__name__}: {str(cause).splitlines()[0][:300]}")
        if on_progress is not None:
            done = ray.get(tally.total.remote())
            if done != shown:
                shown = done
                on_progress(done, None)
    return GridResult(combine(outcomes), outcomes, status_of(outcomes))


def failure_lines(result: GridResult) -> list[str]:
    return [f"group {describe(o.cfg)} failed: {o.error}" for o in result.failures]


__all__ = ["run_ray", "RayMissing", "INSTALL", "failure_lines"]
