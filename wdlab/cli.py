"""Headless sweeps: `python -m wdlab run ...` writes the tidy frame as CSV."""
from __future__ import annotations

import argparse
import os
import sys
import time

from .config import DEFAULT_LIMITS, ConfigError, SweepConfig
from .csvdata import TASKS, CsvError, load_csv, read_file
from .data import DATASETS, Data
from .params import PARAMS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and status 2, no usage dump or traceback
        self.exit(2, f"wdlab: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m wdlab", description="Weight Decay Lab: train one model per weight_decay value.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="train a sweep and write the frame as CSV")
    defaults = SweepConfig()
    for p in PARAMS:
        if p.key == "decay-bias":
            run.add_argument("--no-decay-bias", dest="decay_bias", action="store_const", const="false",
                             help="decay only weight matrices, not biases (like nanoGPT's groups)")
            continue
        nargs = "*" if p.kind in ("ints", "floats") else None
        run.add_argument(f"--{p.key}", dest=p.attr, nargs=nargs, metavar=p.key.upper().replace("-", "_"),
                         help=f"{p.help} — {p.allowed()} (default {p.format(getattr(defaults, p.attr))})")
    run.add_argument("--data", metavar="FILE", help="train on your own CSV table (implies --preset csv)")
    run.add_argument("--target", metavar="COLUMN", help="with --data: the column to predict")
    run.add_argument("--task", choices=TASKS, help="with --data: override the guessed task")
    run.add_argument("--out", help="write the CSV here instead of stdout")
    run.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    values = {"preset": "csv"} if getattr(args, "data", None) is not None else {}
    for p in PARAMS:
        raw = getattr(args, p.attr, None)
        if raw is None:
            continue
        values[p.attr] = p.parse(",".join(raw) if isinstance(raw, list) else raw)
    if getattr(args, "data", None) is not None and values["preset"] != "csv":
        raise ConfigError(f"--data trains on your CSV; drop --preset {values['preset']}", "preset")
    return SweepConfig(**values)


def data_from_args(args: argparse.Namespace, cfg: SweepConfig) -> Data | None:
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
    vf = DATASETS["csv"].default_val_fraction if cfg.val_fraction is None else cfg.val_fraction
    raw = read_file(args.data, DEFAULT_LIMITS)
    return load_csv(raw, args.target, args.task, val_fraction=vf, limits=DEFAULT_LIMITS)


class Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, stream=None):
        # sys.stderr looked up now, not at import: whoever redirected it since then gets the bar
        self.total, self.stream, self.start, self.last = total, stream or sys.stderr, time.perf_counter(), 0.0

    def __call__(self, epoch, _rows):
        now = time.perf_counter()
        if epoch == 0 or (now - self.last < 0.1 and epoch < self.total):
            return
        self.last = now
        done = int(30 * epoch / self.total)
        left = (now - self.start) / max(epoch, 1) * (self.total - epoch)
        self.stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] epoch {epoch}/{self.total}  {left:5.1f}s left ")
        if epoch >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    from .budget import validate
    from .sweep import run_sweep

    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
            raise ConfigError(f"--out {args.out}: its folder does not exist")
        data = data_from_args(args, cfg)
        validate(cfg, DEFAULT_LIMITS, data)  # before any note is printed: a refusal stays one line
    except (ConfigError, CsvError) as e:  # CsvError: what is wrong with the table and what to do, one line
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    if data is not None and not args.quiet:
        for note in data.notes:
            sys.stderr.write(f"wdlab: {note}\n")
    progress = None if args.quiet or cfg.epochs < 20 else Progress(cfg.epochs)
    try:
        result = run_sweep(cfg, limits=DEFAULT_LIMITS, data=data, on_progress=progress)
    except ConfigError as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    if args.out:
        try:
            with open(args.out, "w", newline="") as f:
                result.frame.to_csv(f, index=False)
        except OSError as e:
            sys.stderr.write(f"wdlab: error: cannot write --out {args.out}: {e.strerror}\n")
            return 2
    else:
        result.frame.to_csv(sys.stdout, index=False)
    for (w, s), epoch in sorted(result.diverged.items()):
        sys.stderr.write(f"wdlab: member weight_decay={w:g} seed={s} diverged at epoch {epoch}\n")
    return 0
