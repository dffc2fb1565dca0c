"""Worker processes (`wdlab run --workers N`): a grid's members split across processes of one torch thread each.

The members of every architecture (cfg.members: ordered by optimizer, lr, λ, seed) are cut into N contiguous runs
of about equal estimated work (wdlab.engine.budget's time model, per optimizer): a worker's share, one Share per
architecture it touches. Each worker process trains its shares with the engine (run_sweep(members=...)) and sends
every epoch's rows back through a pipe as they come, into the one gatherer (run.train.Rows), so the frame is the
in-process one, row for row (a member's numbers do not depend on which members train beside it: tested, float32
and float64).
Cancel: the parent's Event is relayed to the workers, which stop after their current step and send what they
finished. Workers ignore SIGINT (the terminal sends Ctrl-C to the whole process group): the parent decides.
A worker that raises is reported with its members and the others go on; one that dies is reported too.
Imports no torch: the workers do.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import wait

from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.engine.budget import seconds, shape_of
from wdlab.run.grid import Outcome, status_of
from wdlab.run.train import Backend, InProcess, Work
from wdlab.settings.config import SweepConfig

FLUSH_SECONDS = 0.1   # a worker sends its rows at most this often (and at the end of each share)


def cpus() -> int:
    """CPUs this process may run on (its affinity mask, else the machine's count): the most workers allowed."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def busy_cpus(sample: float = 0.1) -> float:
    """CPUs other work keeps busy, measured over `sample` seconds from /proc/stat: the machine's CPUs minus those
    idle (time the host took from this machine, steal, counts as busy); 0.0 where /proc/stat is unreadable."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]   # user nice system idle iowait irq softirq steal
        return v[3] + v[4], sum(v)
    try:
        idle0, total0 = read()
        time.sleep(sample)
        idle1, total1 = read()
    except (OSError, ValueError, IndexError):
        return 0.0
    n = os.cpu_count() or 1
    if total1 <= total0:
        return 0.0
    return max(0.0, n * (1 - (idle1 - idle0) / (total1 - total0)))


def _only(cfg: SweepConfig, optimizer: str, **narrower) -> SweepConfig:
    """cfg with one optimizer (momentum kept only for one that takes it), and any other fields narrowed."""
    return cfg.replace(optimizers=(optimizer,), momentum=cfg.momentum if OPTIMIZERS[optimizer].momentum else 0.0,
                       **narrower)


def fixed_seconds(cfg: SweepConfig, data=None) -> float:
    """The part of the sweep's estimated one-core seconds that does not shrink with its members (every step's
    kernel calls, the per-epoch work): what each worker pays again. From the budget's estimates for all members
    and for one, as fixed + members × per member."""
    shape = shape_of(cfg, data)
    M = len(cfg.members)
    if M == 1:
        return 0.0
    whole, m = seconds(cfg, shape), cfg.members[0]
    one = seconds(_only(cfg, m.optimizer, lrs=(m.lr,), weight_decays=(m.weight_decay,), seeds=(m.seed,)), shape)
    return min(max(0.0, (M * one - whole) / (M - 1)), whole)


def predicted_seconds(costs: list[list[float]], fixed: list[float], k: int, busy: float, ncpu: int) -> float:
    """Wall seconds of k workers by the budget's model: costs[arch][member] (member_costs), fixed[arch]
    (fixed_seconds); each worker pays the fixed part of every architecture it touches plus its members' own part
    of the rest; with `busy` CPUs taken by other processes, each of the k + busy processes gets
    min(1, ncpu / (k + busy)) of a CPU."""
    per = [[c * (1 - f / sum(cs)) for c in cs] if sum(cs) else cs for cs, f in zip(costs, fixed)]
    cpu = min(1.0, ncpu / (k + max(0, round(busy))))
    return max(sum(fixed[s.arch] + sum(per[s.arch][m] for m in s.members) for s in shares)
               for shares in split(costs, k)) / cpu


def choose_workers(costs: list[list[float]], fixed: list[float], most: int, busy: float, ncpu: int) -> int:
    """How many workers (1..most) finish first by predicted_seconds; ties go to fewer. Beside one CPU-bound
    process, two workers each get 2/3 of a core where one alone gets a whole one: for a sweep whose fixed part
    is a large share (a small net: each worker repeats every step's calls), one worker is the faster choice."""
    times = {k: predicted_seconds(costs, fixed, k, busy, ncpu)
             for k in range(1, max(1, min(most, sum(map(len, costs)))) + 1)}
    best = min(times.values())
    return min(k for k, t in times.items() if t <= best * 1.03)   # more processes only for a clear gain


@dataclass(frozen=True)
class Share:
    """A worker's consecutive members of one architecture: cfgs[arch].members[members]."""

    arch: int
    members: range


def member_costs(cfg: SweepConfig, data=None) -> list[float]:
    """Each member's estimated seconds on one core (the budget's model, which prices optimizers differently)."""
    shape = shape_of(cfg, data)
    per = {}
    for o in cfg.optimizers:
        alone = _only(cfg, o)
        per[o] = seconds(alone, shape) / len(alone.members)
    return [per[m.optimizer] for m in cfg.members]


def split(costs: list[list[float]], n: int) -> list[list[Share]]:
    """Cut the members of every architecture (costs[arch][member]), taken in order, into at most n contiguous
    runs of about equal total cost, each at least one member: per worker, its shares, one per architecture its
    run touches."""
    flat = [(a, m, c) for a, cs in enumerate(costs) for m, c in enumerate(cs)]
    n = max(1, min(n, len(flat)))
    total = sum(c for *_, c in flat)
    prefix = [0.0]
    for *_, c in flat:
        prefix.append(prefix[-1] + c)
    cuts = [0]
    for k in range(1, n):   # the member boundary nearest k/n of the work, leaving a member for each worker after
        lo, hi = cuts[-1] + 1, len(flat) - (n - k)
        cuts.append(min(range(lo, hi + 1), key=lambda j: abs(prefix[j] - k * total / n)))
    cuts.append(len(flat))
    workers = []
    for a, b in zip(cuts, cuts[1:]):
        shares: list[Share] = []
        for i in range(a, b):
            arch, m, _ = flat[i]
            if shares and shares[-1].arch == arch:
                shares[-1] = Share(arch, range(shares[-1].members.start, m + 1))
            else:
                shares.append(Share(arch, range(m, m + 1)))
        workers.append(shares)
    return workers


def context():
    """forkserver where there is one (each worker forks from a server that imported torch once, and the bundled
    tables' reader: 0.9 s a worker otherwise, paid by each for digits or diabetes), else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["wdlab.engine.sweep", "wdlab.run.workers", "sklearn.datasets"])
        return ctx
    return mp.get_context("spawn")


def prestart() -> None:
    """Start the fork server now (it imports torch in the background while this process loads the rest)."""
    ctx = context()
    if ctx.get_start_method() == "forkserver":
        forkserver.ensure_running()


def _work(shares, cfgs, data, knobs, sweep, threads, conn, stop) -> None:
    """In a worker process: train each share in turn, sending ("rows", k, [(epoch, rows)…]) as it goes and
    ("done", k, diverged, status, epochs_done) or ("failed", k, error) after each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the parent, which relays it through `stop`
    try:
        _train(shares, cfgs, data, knobs, sweep, threads, conn, stop)
    except (BrokenPipeError, ConnectionError, EOFError):
        os._exit(1)   # the parent is gone: nobody to report to


def _train(shares, cfgs, data, knobs, sweep, threads, conn, stop) -> None:
    import torch  # deferred: in the worker process only; the parent imports no torch
    torch.set_num_threads(threads)
    module, _, name = sweep.partition(":")
    run = getattr(importlib.import_module(module), name)
    for k, share in enumerate(shares):
        if stop.is_set():
            break
        pending, last = [], [time.monotonic()]

        def flush():
            if pending:
                conn.send(("rows", k, pending[:]))
                pending.clear()
            last[0] = time.monotonic()

        def listen(epoch, rows):
            pending.append((epoch, rows))
            if time.monotonic() - last[0] >= FLUSH_SECONDS:
                flush()

        try:   # the parent gathers the rows: the engine keeps none
            r = run(cfgs[share.arch], data=data, on_epoch=listen, cancel=stop, members=share.members, gather=False,
                    **knobs[share.arch])
            flush()
            conn.send(("done", k, dict(r.diverged), r.status, r.epochs_done))
        except (BrokenPipeError, ConnectionError):
            raise
        except Exception as e:  # noqa: BLE001 — reported with the share's members; the next shares go on
            flush()
            conn.send(("failed", k, f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"))
    conn.close()


@dataclass
class Slot:
    """A share as the parent tracks it."""

    share: Share
    outcome: Outcome
    epoch: int = 0          # progress of this share, in epochs
    reported: bool = False  # its worker sent how it ended


class Workers(Backend):
    """Train a grid's sweeps across at most `n` worker processes of `threads` torch threads each, one outcome per
    sweep (as InProcess). `sweep` ("module:function", run_sweep's signature) is what a worker calls.
    adapt=True (the CLI's --workers): as many workers as finish first (choose_workers) given the CPUs other work
    keeps busy (`busy`, else measured now with busy_cpus), the note saying so when fewer than asked (one: in
    this process when it has torch on `threads` threads already); adapt=False: exactly `n`."""

    def __init__(self, n: int = 2, *, threads: int = 1, adapt: bool = False, busy: float | None = None,
                 sweep: str = "wdlab.engine.sweep:run_sweep", poll: float = 0.1):
        self.n, self.threads, self.adapt, self.busy, self.sweep, self.poll = n, threads, adapt, busy, sweep, poll

    def run(self, work: Work, on_progress, cancel):
        plans, data = work.plans, work.data
        cfgs = [p.cfg for p in plans]
        outcomes = [p.failed() if p.refused is not None else Outcome(p.cfg, status="cancelled") for p in plans]
        live = [a for a, p in enumerate(plans) if p.refused is None]
        costs = [member_costs(cfgs[a], data) for a in live]
        workers, note = self.n, ""
        if self.adapt and self.n > 1 and live:
            busy = busy_cpus() if self.busy is None else self.busy
            workers = choose_workers(costs, [fixed_seconds(cfgs[a], data) for a in live], self.n, busy, cpus())
            if workers < self.n:
                note = (f"{workers} worker{'s' if workers > 1 else ''} of the {self.n} asked for: {busy:.1f} of "
                        f"{os.cpu_count()} CPUs busy with other work, and by the time model fewer processes "
                        f"finish sooner")
        if workers == 1 < self.n and _torch_threads() == self.threads:   # as fast here as in one worker
            outcomes, _ = InProcess().run(work, on_progress, cancel)
            return outcomes, note + " (trained in this process)"
        if any(plans[a].parts is not None for a in live):   # a checkpointed grid: whole parts to each worker
            units = [(a, r) for a in live for r in plans[a].parts]
            cost = [sum(costs[live.index(a)][m] for m in r) for a, r in units]
            per_worker = [[Share(*units[i]) for s in shares for i in s.members] for shares in split([cost], workers)
                          ] if units else []
        else:
            per_worker = [[Share(live[s.arch], s.members) for s in shares] for shares in split(costs, workers)] \
                if live else []
        slots = [[Slot(s, Outcome(cfgs[s.arch], status="cancelled")) for s in shares] for shares in per_worker]
        self._supervise(work, per_worker, slots, on_progress, cancel)
        flat = [s for shares in slots for s in shares]
        for a in live:
            mine = [s for s in flat if s.share.arch == a]
            outcomes[a] = _merge(cfgs[a], mine) if mine else Outcome(cfgs[a], epochs_done=cfgs[a].epochs)
        return outcomes, note

    def _supervise(self, work, per_worker, slots, on_progress, cancel) -> None:
        """Start a process per worker and gather what they send until every one has ended."""
        cfgs = [p.cfg for p in work.plans]
        knobs = {a: p.knobs for a, p in enumerate(work.plans)}
        ctx = context()
        stop = ctx.Event()
        procs, conns = [], {}
        try:
            for w, shares in enumerate(per_worker):
                if cancel is not None and cancel.is_set():
                    break
                recv, send = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_work, name=f"wdlab-worker-{w}", daemon=True,
                                args=(shares, cfgs, work.data, knobs, self.sweep, self.threads, send, stop))
                p.start()
                send.close()
                procs.append(p)
                conns[recv] = w
            shown = -1
            while conns:
                if cancel is not None and cancel.is_set():
                    stop.set()
                for conn in wait(list(conns), timeout=self.poll):
                    w = conns[conn]
                    try:
                        msg = conn.recv()
                    except EOFError:   # the worker is gone: whatever it did not report, it did not finish
                        del conns[conn]
                        procs[w].join()
                        _orphaned(slots[w], procs[w].exitcode)
                        continue
                    for rows in _take(slots[w][msg[1]], msg, work) or [None]:
                        done = _progress(cfgs, slots)
                        if on_progress is not None and (rows is not None or done != shown):
                            shown = done
                            on_progress(done, rows)
        finally:
            stop.set()
            for p in procs:   # all gone on the way out, unless the parent itself was interrupted
                if p.is_alive():
                    p.terminate()
                p.join()


def _torch_threads() -> int | None:
    """This process's torch threads if it has imported torch already (else None: importing it here would cost
    what a worker from the running fork server does not)."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def _take(slot: Slot, msg, work: Work) -> list[dict]:
    """One message of a worker about `slot`'s share; the epochs' rows it brought (gathered into work.rows)."""
    kind = msg[0]
    if kind == "rows":
        for epoch, rows in msg[2]:
            work.rows.add(slot.share.arch, slot.share.members.start, rows)
            slot.epoch = max(slot.epoch, epoch)
        return [rows for _, rows in msg[2]]
    slot.reported = True
    if kind == "done":
        _, _, diverged, status, epochs = msg
        slot.outcome.diverged, slot.outcome.status, slot.outcome.epochs_done = diverged, status, epochs
        if status == "done":
            slot.epoch = slot.outcome.cfg.epochs
            work.rows.finish(slot.share.arch, slot.share.members.start)
    else:
        slot.outcome.status, slot.outcome.error = "failed", msg[2]
    return []


def _orphaned(slots: list[Slot], exitcode) -> None:
    """A dead worker's shares it never reported on failed (a clean exit after a cancel left them cancelled)."""
    for s in slots:
        if not s.reported and exitcode != 0:
            s.outcome.status = "failed"
            s.outcome.error = f"its worker process ended unexpectedly (exit code {exitcode})"


def _progress(cfgs, slots) -> int:
    """Epochs done over the architectures: each architecture's shares weighted by their members."""
    done = 0
    for a, cfg in enumerate(cfgs):
        mine = [s for shares in slots for s in shares if s.share.arch == a]
        if mine:
            done += sum(s.epoch * len(s.share.members) for s in mine) // len(cfg.members)
    return done


def _merge(cfg: SweepConfig, slots: list[Slot]) -> Outcome:
    """One architecture's outcome from its shares: divergences, the worst status, the epochs finished."""
    slots = sorted(slots, key=lambda s: s.share.members.start)
    outs = [s.outcome for s in slots]
    diverged = {m: e for o in outs for m, e in o.diverged.items()}
    errors = [f"members {s.share.members.start + 1}–{s.share.members.stop} of {len(cfg.members)}: {s.outcome.error}"
              for s in slots if s.outcome.status == "failed"]
    unfinished = [o.epochs_done for o in outs if o.status != "done"]
    epochs = min(unfinished) if unfinished else max(o.epochs_done for o in outs)
    return Outcome(cfg, diverged, status_of(outs), "; ".join(errors), epochs)


__all__ = ["Workers", "split", "member_costs", "cpus", "Share", "busy_cpus", "choose_workers"]
