"""Headless sweeps: `wdlab run ...` (or `python -m wdlab run ...`) writes the tidy frame as CSV.

Answering --help or a bad flag imports no torch, pandas or scikit-learn: only the settings' declarations.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

from wdlab.cli.args import build_parser, configs_from_args, data_from_args, limits_from_args
from wdlab.cli.code import code_main
from wdlab.cli.output import check_out, deliver
from wdlab.cli.view import view_main
from wdlab.engine.budget import validate
from wdlab.registry.dataset_spec import not_a_file
from wdlab.registry import schedules
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.run.checkpoint import Store, resume, units
from wdlab.run.grid import describe, groups, total_epochs
from wdlab.run.ray_backend import Ray, RaySetupError
from wdlab.run.train import InProcess, prepare, train
from wdlab.run.workers import Workers, busy_cpus, cpus, prestart
from wdlab.settings.config import ConfigError

INTERRUPTED = 130  # the shell's status for a run ended by Ctrl-C (128 + SIGINT)


class Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, stream=None):
        # sys.stderr looked up now, not at import: whoever redirected it since then gets the bar
        self.total, self.stream, self.start, self.last = total, stream or sys.stderr, time.perf_counter(), 0.0
        self.drawn = False

    def __call__(self, epoch, _rows):
        now = time.perf_counter()
        if epoch == 0 or (now - self.last < 0.1 and epoch < self.total):
            return
        self.last, self.drawn = now, True
        done = int(30 * epoch / self.total)
        left = (now - self.start) / max(epoch, 1) * (self.total - epoch)
        self.stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] epoch {epoch}/{self.total}  {left:5.1f}s left ")
        if epoch >= self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self):
        """End an unfinished bar's line (a cancelled run), so the next message starts on its own line."""
        if self.drawn and self.last and not self.stream.closed:
            self.stream.write("\n")
            self.drawn = False


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before training started (imports, loading the table): nothing to keep
        sys.stderr.write("\nwdlab: interrupted before training started; nothing written\n")
        return INTERRUPTED


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "code":
        return code_main(args)
    if args.command == "view":
        return view_main(args)
    busy = None   # CPUs other work keeps busy, measured when there are workers to size
    try:
        cfgs = configs_from_args(args)
        cfg = cfgs[0]
        if args.address and args.backend != "ray" or args.ray_cpus and args.backend != "ray":
            raise ConfigError("--address and --ray-cpus apply to --backend ray")
        if args.workers > 1:
            if args.backend == "ray":
                raise ConfigError("--workers applies to --backend local; Ray places its own tasks (--ray-cpus)")
            if args.workers * args.threads > cpus():
                raise ConfigError(f"--workers {args.workers} × --threads {args.threads} asks for "
                                  f"{args.workers * args.threads} torch threads; this machine gives wdlab "
                                  f"{cpus()} CPUs (more threads than CPUs were measured 20–100× slower)")
            busy = busy_cpus()   # before the workers' server starts: its import of torch is no other work
            prestart()   # the workers' server imports torch while this process checks the rest
        if args.out:
            check_out(args.out)
        limits = limits_from_args(args, parallel(args))
        if args.data:   # a CSV run's sizes that do not depend on the table, before reading it
            for c in cfgs:
                validate(c, limits)
            work = None   # validated once it is loaded
        else:
            work = prepare(cfgs, limits=limits)   # each sweep validated once, its knobs planned
            work.check()
    except ConfigError as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    if args.dry_run and work is not None:   # no table to read: the estimate without pandas or torch
        for line in estimate_lines(work, limits):
            sys.stderr.write(f"wdlab: {line}\n")
        return 0
    problem = args.data and not_a_file(args.data)
    if problem:  # before the table's imports: a pipe or a device is refused at once
        sys.stderr.write(f"wdlab: error: {problem}\n")
        return 2
    from wdlab.data.reading import CsvError  # the table's errors (deferred: pandas, after every flag is known good)
    try:
        data = data_from_args(args, cfg, limits)
        if work is None:
            work = prepare(cfgs, data=data, limits=limits)
            work.check()
    except (ConfigError, CsvError) as e:  # what is wrong with the table and what to do, one line
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    if data is not None and not args.quiet:
        for note in data.notes:
            sys.stderr.write(f"wdlab: {note}\n")
    total = total_epochs(groups(cfgs) if args.backend == "ray" else cfgs)
    if args.dry_run or not args.quiet and total >= 20:   # a run long enough for a bar: what it will cost first
        for line in estimate_lines(work, limits):
            sys.stderr.write(f"wdlab: {line}\n")
    if args.dry_run:
        return 0
    if args.device != "cpu":   # one device string, in every sweep's knobs: in process, workers and Ray tasks
        if not (args.backend == "ray" and args.address):   # a cluster's GPUs are the cluster's to say
            from wdlab.engine.sweep import device_problem  # deferred: torch, only for a device
            problem = next(filter(None, (device_problem(args.device, c.dtype) for c in cfgs)), None)
            if problem:
                sys.stderr.write(f"wdlab: error: {problem}\n")
                return 2
        for plan in work.plans:
            plan.knobs["device"] = args.device
    store = None
    if args.out or args.resume:   # each finished part saved as it finishes; --resume loads them
        try:
            if not args.out:
                raise ConfigError("--resume continues a run written with --out: give the same --out", "resume")
            store = Store(args.out + ".parts", fingerprint(cfgs, args), units(work, args.backend == "ray"))
            trained = resume(work, store, store.start(args.resume))
        except (ConfigError, OSError) as e:
            if args.resume or not isinstance(e, OSError):
                sys.stderr.write(f"wdlab: error: {e}\n")
                return 2
            store.broken, trained = e.strerror or type(e).__name__, 0   # trains all the same, without parts
        if trained and not args.quiet:
            sys.stderr.write(f"wdlab: resuming: {trained} of {sum(len(c.members) for c in cfgs)} members were "
                             f"trained before (kept in {store.folder})\n")
    if args.backend == "ray":
        backend = Ray(args.address, args.ray_cpus, gpus_per_task=1 if args.device.startswith("cuda") else 0)
    elif args.workers > 1:
        backend = Workers(args.workers, threads=args.threads, adapt=True, busy=busy)
    else:
        backend = InProcess()
        backend.set_threads(args.threads)   # with workers or Ray, this process only gathers rows
    progress = None if args.quiet or total < 20 else Progress(total)
    cancel = threading.Event()

    def interrupt(signum, frame):  # first Ctrl-C: stop after the current step and keep what is done
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second one ends at once

    previous = signal.signal(signal.SIGINT, interrupt) if threading.current_thread() is threading.main_thread() \
        else None
    again = False   # a second Ctrl-C ended training at once
    try:
        result = train(work, backend=backend, on_progress=progress, cancel=cancel)
        frame = result.frame
    except RaySetupError as e:   # not installed, or its --address unreachable
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    except KeyboardInterrupt:   # the second Ctrl-C: what the backend gathered so far is kept all the same
        again, result, frame = True, None, work.rows.frame()
    finally:
        if previous is not None:  # writing the result is quick: a Ctrl-C now would only lose it
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if progress is not None:
            progress.close()
    try:
        if cancel.is_set() and frame.empty:   # nothing to keep: an earlier --out stays as it was
            kept = f"; --out {args.out} left as it was" if args.out and os.path.exists(args.out) else ""
            sys.stderr.write(f"wdlab: interrupted before any epoch finished: nothing written{kept}\n")
            return INTERRUPTED
        where, lost = deliver(frame, args.out)   # where it could go: --out, stdout, or a recovery file
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if lost:
        sys.stderr.write(f"wdlab: error: {lost}\n")
    if store is not None and not again and not cancel.is_set() and not result.failures and where != "nowhere":
        store.remove()   # the whole result is written (--out, or a recovery file): its parts are no longer needed
    elif store is not None and store.broken:
        sys.stderr.write(f"wdlab: the finished parts could not be saved in {store.folder} ({store.broken}): "
                         "--resume cannot continue this run\n")
    elif store is not None:
        sys.stderr.write(f"wdlab: the finished parts are kept in {store.folder}: the same command with --resume "
                         "continues it\n")
    if again:
        sys.stderr.write(f"wdlab: interrupted twice: training stopped at once; wrote the {len(frame)} rows "
                         f"gathered by then to {where}\n")
        return INTERRUPTED
    if result.note and not args.quiet:
        sys.stderr.write(f"wdlab: {result.note}\n")
    several = len(result.outcomes) > 1
    for group, (o, lr, w, s), epoch in result.diverged:
        tag = f" ({describe(group)})" if several else ""
        sys.stderr.write(f"wdlab: member optimizer={o} lr={lr:g} weight_decay={w:g} seed={s}{tag} diverged at "
                         f"epoch {epoch}\n")
    if args.summary and not frame.empty:
        from wdlab.frame.landscape import summary_lines  # deferred: pandas, not at --help time
        metric = "val_acc" if "val_acc" in result.frame else "val_loss"
        labels = {n: s.label for n, s in OPTIMIZERS.items()}
        for line in summary_lines(result.frame, labels, metric, args.compare_at, schedules.under(cfg)):
            sys.stderr.write(f"wdlab: {line}\n")
        for line in laws_lines(cfgs, result.frame, data):
            sys.stderr.write(f"wdlab: {line}\n")
    for o in result.failures:  # a failed group is named; the others' rows are in the output
        sys.stderr.write(f"wdlab: error: group {describe(o.cfg)} failed: {o.error}\n")
    if cancel.is_set():
        if several:
            done = sum(o.status == "done" for o in result.outcomes)
            sys.stderr.write(f"wdlab: interrupted: wrote the {done} of {len(result.outcomes)} groups finished "
                             f"(and any group's finished epochs) to {where}\n")
        else:
            sys.stderr.write(f"wdlab: interrupted: wrote the {result.outcomes[0].epochs_done} epochs finished of "
                             f"{cfg.epochs} to {where}\n")
        return INTERRUPTED
    return 2 if lost else 1 if result.failures else 0


def fingerprint(cfgs, args) -> str:
    """What a resumed run must match: the configs, the table's bytes and where groups train."""
    digest = ""
    if args.data:
        import hashlib  # deferred: only for a table
        with open(args.data, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    return repr((cfgs, digest, args.target, args.task, args.backend == "ray", args.device))


def parallel(args) -> int:
    """Sweeps that may train at once: each gets its share of the machine's memory."""
    if args.backend == "ray":
        return 1 if args.address else (args.ray_cpus or cpus())
    return args.workers


def estimate_lines(work, limits) -> list[str]:
    """Per sweep: its members, how they train (chunks), peak memory and time by the budget, before training."""
    lines = []
    for plan in work.plans:
        est, n = plan.estimate, len(plan.cfg.members)
        how = f"in chunks of {est.max_chunk_members}" if est.max_chunk_members else "together"
        tag = f"hidden {describe(plan.cfg).split()[0].split('=')[1]}: " if len(work.plans) > 1 else ""
        lines.append(f"{tag}{n} members trained {how}: {est.describe()} on one core")
    room = f"this machine has {limits.max_sweep_mb:.0f} MB for each sweep training at once" if limits.machine \
        else f"demo limits: {limits.describe()}"
    return lines + [room]


def laws_lines(cfgs, frame, data) -> list[str]:
    """--summary's laws: per member where a law applies, predicted and measured side by side (wdlab.laws)."""
    from wdlab.laws.predict import predictions  # deferred: numpy and pandas, not at --help time
    from wdlab.laws.verdict import summary_lines as law_lines  # deferred: pandas, as above
    from wdlab.run.train import arch_label  # deferred with them: only a summary needs it
    lines = []
    for cfg in cfgs:
        rows = frame[frame.arch == arch_label(cfg.hidden)] if "arch" in frame else frame
        if not cfg.hidden and data is None:   # ridge needs each seed's data as the sweep drew it
            from wdlab.engine.sweep import prepare  # deferred: torch, only for a linear model's summary
            setup = prepare(cfg)
            pick = lambda i: i if setup.X.shape[0] > 1 else 0  # noqa: E731
            given = {s: (setup.X[pick(i)], setup.y[pick(i)]) for i, s in enumerate(cfg.seeds)}
        else:
            given = data
        found = law_lines(rows, predictions(cfg, given))
        if found and len(cfgs) > 1:
            found[0] = f"laws, hidden {arch_label(cfg.hidden)} (predicted vs measured):"
        lines += found
    return lines
