"""Headless sweeps: `wdlab run ...` (or `python -m wdlab run ...`) writes the tidy frame as CSV.

Answering --help or a bad flag imports no torch, pandas or scikit-learn: only the settings' declarations.
"""
from __future__ import annotations

import argparse
import copy
import os
import signal
import sys
import tempfile
import threading
import time

from wdlab.settings.config import DEFAULT_LIMITS, ConfigError, SweepConfig, with_preset_defaults
from wdlab.registry.dataset_spec import TASKS, not_a_file
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import BY_ATTR, BY_KEY, PARAMS

# One torch thread unless --threads says otherwise. Measured on this project's 2 shared cores: two OpenMP
# threads in one process ran a sweep 20–100× slower than one thread whenever another process competed for the
# cores (the threads spin while waiting for each other; docs/CLI.md, Threads); one thread never collapsed, and
# the members wdlab trains are small enough that a second thread gains little even on an idle machine.
DEFAULT_THREADS = 1
INTERRUPTED = 130  # the shell's status for a run ended by Ctrl-C (128 + SIGINT)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and status 2, no usage dump or traceback
        self.exit(2, f"wdlab: error: {message}\n")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number ≥ 1, got {text!r}")
    return int(text)


def _workers(text: str) -> int:
    from wdlab.run.workers import cpus
    if not text.isdigit() or not 1 <= int(text) <= cpus():
        raise argparse.ArgumentTypeError(f"takes a whole number from 1 to {cpus()} (the CPUs this machine gives "
                                         f"wdlab), got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wdlab", description="Weight Decay Lab: train one model per optimizer × lr × "
                                                "weight_decay × seed.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    from wdlab.settings.config import preset_config, preset_defaults
    own = [f"{n}: " + " ".join(f"--{BY_ATTR[k].key} {BY_ATTR[k].format(v)}" for k, v in preset_defaults(n).items())
           for n, spec in DATASETS.items() if spec.defaults]
    run = sub.add_parser("run", help="train a sweep and write the frame as CSV",
                         epilog="Each preset brings its own settings, used for every flag not given (a flag given "
                                "always wins): " + "; ".join(own))
    defaults = preset_config(SweepConfig.preset)  # what `wdlab run` alone trains: the course's run
    for p in PARAMS:
        if p.key == "decay-bias":
            run.add_argument("--no-decay-bias", dest="decay_bias", action="store_const", const="false",
                             help="decay only weight matrices, not biases (like nanoGPT's groups)")
            continue
        nargs = "*" if p.kind in ("ints", "floats", "choices") else None
        extra = {"action": "append"} if p.key == "hidden" else {}
        more = "; give --hidden again for another architecture (a grid)" if p.key == "hidden" else ""
        run.add_argument(f"--{p.key}", dest=p.attr, nargs=nargs, metavar=p.key.upper().replace("-", "_"),
                         help=f"{p.full_help()} — {p.allowed()}{more} (default: the preset's own; the tutorial's "
                              f"{p.format(getattr(defaults, p.attr))})",
                         **extra)
    run.add_argument("--data", metavar="FILE", help="train on your own CSV table (implies --preset csv)")
    run.add_argument("--target", metavar="COLUMN", help="with --data: the column to predict")
    run.add_argument("--task", choices=TASKS, help="with --data: override the guessed task")
    run.add_argument("--out", help="write the CSV here instead of stdout (checked as writable before training)")
    run.add_argument("--threads", type=_positive_int, default=DEFAULT_THREADS, metavar="N",
                     help=f"torch threads (default {DEFAULT_THREADS}: on shared cores more threads were measured "
                          "20–100× slower when another process competes)")
    run.add_argument("--workers", type=_workers, default=1, metavar="N",
                     help="train the sweep's members split across up to N worker processes of --threads torch "
                          "threads each, at most one per CPU (default 1: in this process); fewer when other work "
                          "keeps CPUs busy and the time model says fewer finish sooner (said on stderr)")
    run.add_argument("--backend", choices=("local", "ray"), default="local",
                     help="local: train here; ray: one Ray task per group (architecture, optimizer, lr)")
    run.add_argument("--address", metavar="HOST:PORT", help="with --backend ray: join this Ray cluster "
                     "(default: start a local Ray and stop it afterwards)")
    run.add_argument("--ray-cpus", type=_positive_int, metavar="N",
                     help="with --backend ray and no --address: CPUs of the local Ray (default: all cores)")
    run.add_argument("--summary", action="store_true",
                     help="after the run, print the best λ per (optimizer, lr) and how far it moves, on stderr")
    run.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    code = sub.add_parser("code", help="print one member's standalone PyTorch script (the run flags + --member)")
    for action in run._actions:  # the same flags as run (whatever they become), minus the output ones
        if action.dest not in ("help", "out", "quiet", "threads", "workers", "backend", "address", "ray_cpus"):
            code._add_action(copy.copy(action))
    code.add_argument("--member", nargs=2, metavar=("WD", "SEED"), required=True,
                      help="the member to write out: one of the --wd values and one of the --seeds")
    code.add_argument("--member-optimizer", metavar="NAME",
                      help="with several --optimizer values: the member's optimizer (one of them)")
    code.add_argument("--member-lr", metavar="LR",
                      help="with several --lr values: the member's learning rate (one of them)")
    return parser


def configs_from_args(args: argparse.Namespace) -> list[SweepConfig]:
    """One config per architecture (--hidden given once, or several times for a grid)."""
    values = {"preset": "csv"} if getattr(args, "data", None) is not None else {}
    archs = getattr(args, "hidden", None)
    for p in PARAMS:
        raw = getattr(args, p.attr, None)
        if raw is None or p.attr == "hidden":
            continue
        values[p.attr] = p.parse(",".join(raw) if isinstance(raw, list) else raw)
    if getattr(args, "data", None) is not None and values["preset"] != "csv":
        raise ConfigError(f"--data trains on your CSV; drop --preset {values['preset']}", "preset")
    values = with_preset_defaults(values)  # a preset's own settings fill the flags not given
    if not archs:
        return [SweepConfig(**values)]
    hidden = [BY_KEY["hidden"].parse(",".join(a)) for a in archs]
    if len(set(hidden)) != len(hidden):
        raise ConfigError("each --hidden architecture must be different", "hidden")
    return [SweepConfig(**{**values, "hidden": h}) for h in hidden]


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    """The one config of a run with one architecture."""
    cfgs = configs_from_args(args)
    if len(cfgs) > 1:
        raise ConfigError("this command takes one architecture: give --hidden once", "hidden")
    return cfgs[0]


def data_from_args(args: argparse.Namespace, cfg: SweepConfig):
    """Your CSV (--data/--target/--task) as Data, or None for a built-in preset; ConfigError/CsvError if wrong."""
    if args.data is None:
        if cfg.preset == "csv":
            raise ConfigError("--preset csv needs --data FILE.csv --target COLUMN", "preset")
        for flag in ("target", "task"):
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag} applies to your own table; add --data FILE.csv", flag)
        return None
    if not args.target:
        raise ConfigError("--data needs --target COLUMN: the column to predict", "target")
    from wdlab.data.reading import read_file
    from wdlab.data.tables import load_csv
    vf = DATASETS["csv"].default_val_fraction if cfg.val_fraction is None else cfg.val_fraction
    raw = read_file(args.data, DEFAULT_LIMITS)
    return load_csv(raw, args.target, args.task, val_fraction=vf, limits=DEFAULT_LIMITS)


def check_out(path: str) -> None:
    """Refuse an --out that could not be written, before any training: a folder, a missing folder, or one
    where no file can be created (tried for real: permission bits say nothing to root)."""
    if os.path.isdir(path) or path.endswith(os.sep):
        raise ConfigError(f"--out {path}: that is a folder; give a file name, e.g. {os.path.join(path, 'sweep.csv')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"--out {path}: its folder does not exist")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ConfigError(f"--out {path}: not a regular file")
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as e:
        raise ConfigError(f"--out {path}: cannot create a file in {folder}: {e.strerror}") from None


def write_frame(frame, path: str | None) -> None:
    """The frame as CSV on stdout, or to `path` through a temporary file in its folder (no half-written file)."""
    if path is None:
        frame.to_csv(sys.stdout, index=False)
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            frame.to_csv(f, index=False)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
        from wdlab.cli.code import code_main
        return code_main(args)
    busy = None   # CPUs other work keeps busy, measured when there are workers to size
    try:
        cfgs = configs_from_args(args)
        cfg = cfgs[0]
        if args.address and args.backend != "ray" or args.ray_cpus and args.backend != "ray":
            raise ConfigError("--address and --ray-cpus apply to --backend ray")
        if args.workers > 1:
            from wdlab.run.workers import cpus
            if args.backend == "ray":
                raise ConfigError("--workers applies to --backend local; Ray places its own tasks (--ray-cpus)")
            if args.workers * args.threads > cpus():
                raise ConfigError(f"--workers {args.workers} × --threads {args.threads} asks for "
                                  f"{args.workers * args.threads} torch threads; this machine gives wdlab "
                                  f"{cpus()} CPUs (more threads than CPUs were measured 20–100× slower)")
            from wdlab.run.workers import busy_cpus, prestart
            busy = busy_cpus()   # before the workers' server starts: its import of torch is no other work
            prestart()   # the workers' server imports torch while this process checks the rest
        if args.out:
            check_out(args.out)
        from wdlab.engine.budget import validate
        for c in cfgs:
            validate(c, DEFAULT_LIMITS)  # the preset's sizes; a CSV's are checked once it is loaded
    except ConfigError as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    problem = args.data and not_a_file(args.data)
    if problem:  # before the table's imports: a pipe or a device is refused at once
        sys.stderr.write(f"wdlab: error: {problem}\n")
        return 2
    from wdlab.data.reading import CsvError  # the table's errors (deferred: pandas, after every flag is known good)
    try:
        data = data_from_args(args, cfg)
        if data is not None:
            for c in cfgs:
                validate(c, DEFAULT_LIMITS, data)
    except (ConfigError, CsvError) as e:  # what is wrong with the table and what to do, one line
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    if data is not None and not args.quiet:
        for note in data.notes:
            sys.stderr.write(f"wdlab: {note}\n")
    from wdlab.run.grid import groups, run_local, total_epochs
    if args.workers == 1:   # with workers, this process only gathers rows: the workers set their own threads
        import torch
        torch.set_num_threads(args.threads)
    total = total_epochs(groups(cfgs) if args.backend == "ray" else cfgs)
    progress = None if args.quiet or total < 20 else Progress(total)
    cancel = threading.Event()

    def interrupt(signum, frame):  # first Ctrl-C: stop after the current step and keep what is done
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second one ends at once

    previous = signal.signal(signal.SIGINT, interrupt) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        if args.backend == "ray":
            from wdlab.run.ray_backend import RayMissing, run_ray
            try:
                result = run_ray(cfgs, data=data, address=args.address, num_cpus=args.ray_cpus,
                                 limits=DEFAULT_LIMITS, on_progress=progress, cancel=cancel)
            except RayMissing as e:
                sys.stderr.write(f"wdlab: error: {e}\n")
                return 2
        elif args.workers > 1:
            from wdlab.run.workers import run_workers
            result = run_workers(cfgs, workers=args.workers, threads=args.threads, data=data, limits=DEFAULT_LIMITS,
                                 on_progress=progress, cancel=cancel, adapt=True, busy=busy)
            if result.note and not args.quiet:
                sys.stderr.write(f"wdlab: {result.note}\n")
        else:
            result = run_local(cfgs, data=data, limits=DEFAULT_LIMITS, on_progress=progress, cancel=cancel)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if progress is not None:
            progress.close()
    try:
        write_frame(result.frame, args.out)
    except OSError as e:
        sys.stderr.write(f"wdlab: error: cannot write --out {args.out}: {e.strerror}\n")
        return 2
    from wdlab.run.grid import describe
    several = len(result.outcomes) > 1
    for group, (o, lr, w, s), epoch in result.diverged:
        where = f" ({describe(group)})" if several else ""
        sys.stderr.write(f"wdlab: member optimizer={o} lr={lr:g} weight_decay={w:g} seed={s}{where} diverged at "
                         f"epoch {epoch}\n")
    if args.summary and not result.frame.empty:
        from wdlab.frame.landscape import summary_lines
        from wdlab.registry.optimizers import OPTIMIZERS
        metric = "val_acc" if "val_acc" in result.frame else "val_loss"
        for line in summary_lines(result.frame, {n: s.label for n, s in OPTIMIZERS.items()}, metric):
            sys.stderr.write(f"wdlab: {line}\n")
    for o in result.failures:  # a failed group is named; the others' rows are in the output
        sys.stderr.write(f"wdlab: error: group {describe(o.cfg)} failed: {o.error}\n")
    if cancel.is_set():
        where = args.out or "stdout"
        if several:
            done = sum(o.status == "done" for o in result.outcomes)
            sys.stderr.write(f"wdlab: interrupted: wrote the {done} of {len(result.outcomes)} groups finished "
                             f"(and any group's finished epochs) to {where}\n")
        else:
            sys.stderr.write(f"wdlab: interrupted: wrote the {result.outcomes[0].epochs_done} epochs finished of "
                             f"{cfg.epochs} to {where}\n")
        return INTERRUPTED
    return 1 if result.failures else 0
