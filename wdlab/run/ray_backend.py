"""Grids on Ray (`wdlab run --backend ray`): each group (one architecture, optimizer and lr) is a Ray task's share;
the same tidy frame back.

wdlab grows no scheduler of its own: Ray places the tasks on a local Ray it starts (and stops), or on a running
cluster (`address`). Each task trains with as many torch threads as CPUs Ray gave it. Progress comes back
through a small actor; a cancel (Ctrl-C) cancels the outstanding tasks and keeps the finished groups; a task
that fails is reported with its group while the others' rows are kept. A task trains with the knobs run.train
planned for its sweep (a group is a part of it: within the same memory) and returns its rows as one frame.
"""
from __future__ import annotations

import importlib
import os
import select
import signal
import socket
import sys
import threading
import time

from wdlab.run.grid import Outcome, first_member, groups
from wdlab.run.train import Backend, Work
from wdlab.settings.config import SweepConfig

INSTALL = "--backend ray needs Ray, an optional extra: pip install -e '.[ray]' (or pip install 'ray[tune]==2.60.0')"


# A local Ray of its own (address="local": never a cluster some other process left running), on loopback only.
LOCAL = {"address": "local", "include_dashboard": False, "_node_ip_address": "127.0.0.1"}


class RaySetupError(RuntimeError):
    """Ray cannot start or be reached: one line for the user, nothing trained."""


class RayMissing(RaySetupError):
    """Ray is not installed."""


def check_address(address: str, timeout: float = 3.0) -> None:
    """Fail in seconds, in one line, when nothing listens at a cluster's HOST:PORT (ray://HOST:PORT for Ray
    Client; "auto" is Ray's own search), or something that does not speak gRPC: ray.init retried either every
    ~41 s, deaf to Ctrl-C."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RaySetupError(f"--address takes HOST:PORT (or ray://HOST:PORT, or auto), got {address[:60]!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            speaks = _speaks_grpc(conn, timeout)
    except OSError as e:
        why = e.strerror or str(e) or type(e).__name__
        raise RaySetupError(f"cannot reach a Ray cluster at {address[:60]}: {why}") from None
    if not speaks:  # ray.init hung on these too (an HTTP server, a silent TCP port), as on an empty one
        raise RaySetupError(f"{address[:60]} is not a Ray cluster: something listens there but does not answer "
                            f"as Ray (gRPC) does within {timeout:g} s")


# HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS and its client server are) answers
# with a SETTINGS frame of its own (RFC 9113 §3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _speaks_grpc(conn: socket.socket, timeout: float) -> bool:
    """Whether the server on `conn` answers HTTP/2's preface with a SETTINGS frame within `timeout` s."""
    conn.settimeout(timeout)
    conn.sendall(PREFACE)
    head, deadline = b"", time.monotonic() + timeout
    try:
        while len(head) < 9 and time.monotonic() < deadline:
            chunk = conn.recv(9 - len(head))
            if not chunk:
                break
            head += chunk
    except OSError:  # a timeout or a reset: no answer
        return False
    return len(head) == 9 and head[3] == 0x04


class JoinWatch:
    """While ray.init joins a cluster: its C++ client retries a dead address for minutes holding the main thread,
    so neither Ctrl-C nor any deadline reaches Python code there. A thread sees the signal through Python's
    wakeup fd (written by the C-level handler) and ends the process with one line: 130 on Ctrl-C, 2 after
    `seconds`. Outside the main thread (no signals there) only the deadline is watched."""

    def __init__(self, address: str, seconds: float):
        self.address, self.seconds, self.done = address, seconds, threading.Event()
        self._read, self._write = socket.socketpair()
        self._previous = None

    def __enter__(self) -> "JoinWatch":
        # Ray's C++ client writes a warning to fd 2 at every retry; the user gets one line (ours) instead
        self._stderr, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
        for s in (self._read, self._write):
            s.setblocking(False)
        try:
            self._previous = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main thread
            self._previous = None
        threading.Thread(target=self._watch, daemon=True, name="wdlab-ray-join").start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        os.dup2(self._stderr, 2)
        os.close(self._stderr)
        if self._previous is not None:
            signal.set_wakeup_fd(self._previous)
        self._write.close()

    def _watch(self) -> None:
        try:
            self._wait(time.monotonic() + self.seconds)
        finally:
            self._read.close()

    def _wait(self, deadline: float) -> None:
        while not self.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0 and not self.done.is_set():
                self._end(2, f"wdlab: error: the Ray cluster at {self.address[:60]} did not let this run join "
                             f"within {self.seconds:g} s: nothing trained")
            try:
                ready, _, _ = select.select([self._read], [], [], max(0.0, min(left, 0.2)))
                signals = self._read.recv(64) if ready else b""
            except OSError:  # closed: the join ended
                return
            if any(b in (signal.SIGINT, signal.SIGTERM) for b in signals) and not self.done.is_set():
                self._end(130, f"wdlab: interrupted while joining the Ray cluster at {self.address[:60]}: "
                               "nothing trained")

    def _end(self, code: int, line: str) -> None:
        sys.stderr.flush()
        os.write(self._stderr, (line + "\n").encode())
        os._exit(code)  # the main thread is inside Ray's C++ client: nothing else can end it


def _ray():
    try:
        import ray  # deferred: an optional extra, only for --backend ray
    except ImportError:
        raise RayMissing(INSTALL) from None
    return ray


def _package_dir() -> str:
    """The wdlab package's folder (this module lives in wdlab/run/): the code Ray ships to its workers."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train_group(cfg: SweepConfig, knobs: dict, data, gid: int, tally, sweep: str):
    """In a Ray worker: one group's sweep, on the torch threads its CPUs allow; epochs reported to `tally`."""
    import ray  # deferred: in the Ray worker
    import torch  # deferred: in the Ray worker only; the driver imports no torch
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    module, _, name = sweep.partition(":")
    run = getattr(importlib.import_module(module), name)
    last, rows_since = [0.0], []

    def progress(epoch, rows):   # the rows too, every 0.2 s: an interrupted grid keeps this group's epochs
        rows_since.append(rows)
        now = time.monotonic()
        if now - last[0] >= 0.2 or epoch == cfg.epochs:
            last[0] = now
            tally.report.remote(gid, epoch, list(rows_since))
            rows_since.clear()

    r = run(cfg, data=data, on_epoch=progress, **knobs)   # the task gathers its rows: one frame back
    return r.frame, dict(r.diverged), r.status, r.epochs_done


class _Tally:
    """Epochs done per group, and the rows reported since the driver last took them (an actor: tasks report,
    the driver reads)."""

    def __init__(self):
        self.done: dict[int, int] = {}
        self.fresh: list = []   # (group id, [rows, ...]) in the order reported

    def report(self, gid: int, epoch: int, rows: list) -> None:
        self.done[gid] = max(epoch, self.done.get(gid, 0))
        self.fresh.append((gid, rows))

    def total(self) -> int:
        return sum(self.done.values())

    def take(self) -> tuple[int, dict, list]:
        fresh, self.fresh = self.fresh, []
        return self.total(), dict(self.done), fresh


class Ray(Backend):
    """Every group of a grid as a Ray task: one outcome per group. With no address, start a local Ray of `cpus`
    CPUs (all cores by default) and shut it down afterwards; with an address, join that cluster and leave it
    running. `sweep` ("module:function", run_sweep's signature) is what a task calls; the workers get this
    package's own code (runtime_env py_modules), so a cluster needs only torch, pandas and Ray installed."""

    def __init__(self, address: str | None = None, cpus: int | None = None, *, cpus_per_task: float = 1,
                 sweep: str = "wdlab.engine.sweep:run_sweep", poll: float = 0.2, join_seconds: float = 60.0,
                 gpus_per_task: float = 0):
        self.address, self.cpus, self.cpus_per_task, self.sweep, self.poll = address, cpus, cpus_per_task, sweep, poll
        self.gpus_per_task = gpus_per_task   # > 0 (the knobs' device "cuda"): each task asks Ray for a GPU share
        self.join_seconds = join_seconds  # joining a cluster that answers but never admits this run ends then

    def run(self, work: Work, on_progress, cancel):
        ray = _ray()
        started = not ray.is_initialized()
        if started and self.address:
            check_address(self.address)
        if started:
            env = {"py_modules": [_package_dir()], "env_vars": {"OMP_NUM_THREADS": "1"}}
            if self.address:
                with JoinWatch(self.address, self.join_seconds):
                    ray.init(address=self.address, runtime_env=env, logging_level="warning", log_to_driver=False)
            else:
                ray.init(**LOCAL, num_cpus=self.cpus, runtime_env=env, logging_level="warning", log_to_driver=False)
        try:
            return self._gather(ray, work, on_progress, cancel), ""
        finally:
            if started:
                ray.shutdown()

    def _gather(self, ray, work: Work, on_progress, cancel) -> list[Outcome]:
        # (sweep, its group): every group of every sweep, in order; a refused sweep's groups fail with it
        todo = [(a, g) for a, p in enumerate(work.plans) for g in groups([p.cfg])
                if p.parts is None or first_member(p.cfg, g) in {r.start for r in p.parts}]   # resumed: the rest
        outcomes = [Outcome(g, status="failed", error=work.plans[a].failed().error)
                    if work.plans[a].refused is not None else Outcome(g, status="cancelled") for a, g in todo]
        tally = ray.remote(num_cpus=0)(_Tally).remote()
        task = ray.remote(num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task, max_retries=0)(train_group)
        data_ref = ray.put(work.data)
        pending = {task.remote(g, work.plans[a].knobs, data_ref, gid, tally, self.sweep): gid
                   for gid, (a, g) in enumerate(todo) if work.plans[a].refused is None}
        shown, ended = -1, {}   # ended: group id -> epochs, of the tasks that returned

        def take() -> dict:
            """The rows tasks reported since the last take, added to the unfinished groups' parts (a finished
            group's whole frame replaces them); the epochs done per group."""
            nonlocal shown
            _, done, fresh = ray.get(tally.take.remote())
            for gid, epochs in ended.items():   # a finished task's last report may still be on its way
                done[gid] = max(done.get(gid, 0), epochs)
            total = sum(done.values())
            running = set(pending.values())
            for gid, batch in fresh:
                if gid in running:
                    a, g = todo[gid]
                    for rows in batch:
                        work.rows.add(a, first_member(work.plans[a].cfg, g), rows)
            if on_progress is not None and total != shown:
                shown = total
                on_progress(total, None)
            return done
        try:
            while pending:
                if cancel is not None and cancel.is_set():
                    break
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=self.poll)
                for ref in ready:
                    gid = pending.pop(ref)
                    a, g = todo[gid]
                    try:
                        frame, diverged, status, epochs = ray.get(ref)
                        work.rows.put(a, first_member(work.plans[a].cfg, g), frame)
                        if status == "done":   # saved at once (a checkpointed grid)
                            work.rows.finish(a, first_member(work.plans[a].cfg, g))
                        outcomes[gid] = Outcome(g, diverged, status, "", epochs)
                        ended[gid] = epochs
                    except Exception as e:  # noqa: BLE001 — a failed task is reported with its group
                        cause = getattr(e, "cause", None) or e
                        outcomes[gid] = Outcome(g, status="failed",
                                                error=f"{type(cause).__name__}: {str(cause).splitlines()[0][:300]}")
                take()
        finally:   # cancelled, or a second Ctrl-C: keep the epochs the unfinished groups reported, stop them
            if pending:
                try:
                    done = take()
                    for gid in pending.values():
                        outcomes[gid] = Outcome(todo[gid][1], status="cancelled", epochs_done=done.get(gid, 0))
                finally:
                    for ref in pending:
                        ray.cancel(ref)
        return outcomes


__all__ = ["Ray", "RayMissing", "RaySetupError", "INSTALL", "JoinWatch", "check_address", "train_group"]
