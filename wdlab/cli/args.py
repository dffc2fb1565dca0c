"""The `wdlab` command line's flags: the parser (from the declared settings) and the configs and data they ask for.

Answering --help or a bad flag imports no torch, pandas or scikit-learn: only the settings' declarations.
"""
from __future__ import annotations

import argparse
import copy
import difflib

from wdlab.settings.config import DEFAULT_LIMITS, ConfigError, Limits, SweepConfig, preset_config, preset_defaults, \
    with_preset_defaults
from wdlab.settings.limits import cli_limits, parse_limits
from wdlab.registry.dataset_spec import TASKS
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import BY_ATTR, BY_KEY, PARAMS
from wdlab.settings.reading import COMPARED_AT, DEFAULT_AT, describe_at
from wdlab.run.workers import cpus

# One torch thread unless --threads says otherwise: on shared cores two OpenMP threads spin while waiting for each
# other and ran 20–100× slower whenever another process competed (docs/CLI.md, Threads).
DEFAULT_THREADS = 1


class _Parser(argparse.ArgumentParser):
    def add_argument(self, *args, **kwargs):
        # argparse %-formats help texts: a declared help may say "10 % of the epochs", so every % is literal here
        if isinstance(kwargs.get("help"), str):
            kwargs["help"] = kwargs["help"].replace("%", "%%")
        return super().add_argument(*args, **kwargs)

    def error(self, message):  # one clear line and status 2, no usage dump or traceback
        self.exit(2, f"wdlab: error: {message}{self._guess(message)}\n")

    def _guess(self, message: str) -> str:
        """'; did you mean --optimizer?' for a mistyped flag (the top parser reports a subcommand's extras)."""
        if not message.startswith("unrecognized arguments:"):
            return ""
        known = sorted(self._flags())
        guesses = [m[0] for word in message.split(":", 1)[1].split() if word.startswith("--")
                   for m in [difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.75)] if m]
        return f"; did you mean {' / '.join(dict.fromkeys(guesses))}?" if guesses else ""

    def _flags(self) -> set[str]:
        flags = set()
        for action in self._actions:
            flags.update(o for o in action.option_strings if o.startswith("--"))
            for sub in (action.choices or {}).values() if isinstance(action.choices, dict) else ():
                if isinstance(sub, _Parser):
                    flags |= sub._flags()
        return flags


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number ≥ 1, got {text!r}")
    return int(text)


def _at_most_cpus(text: str) -> int:
    """A count of threads or CPUs: 1 to the CPUs this machine gives wdlab (an absurd one crashed torch or Ray)."""
    n = _positive_int(text)
    if n > cpus():
        raise argparse.ArgumentTypeError(f"takes at most {cpus()} (the CPUs this machine gives wdlab), got "
                                         f"{text[:30]!r}")
    return n


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= cpus():
        raise argparse.ArgumentTypeError(f"takes a whole number from 1 to {cpus()} (the CPUs this machine gives "
                                         f"wdlab), got {text!r}")
    return int(text)


def _device(text: str) -> str:
    if text in ("cpu", "cuda", "mps") or text.startswith("cuda:") and text[5:].isdigit():
        return text
    raise argparse.ArgumentTypeError(f"takes cpu, cuda, cuda:N or mps, got {text[:30]!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wdlab", description="Weight Decay Lab: train one model per optimizer × lr × "
                                                "weight_decay × seed.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
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
                         help=f"{p.full_help()} — {p.allowed()}{more} (default: "
                              + (p.format(defaults.preset) if p.attr == "preset" else  # not "the tutorial's tutorial"
                                 f"the preset's own; the tutorial's {p.format(getattr(defaults, p.attr))}") + ")",
                         **extra)
    run.add_argument("--data", metavar="FILE", help="train on your own CSV table (implies --preset csv)")
    run.add_argument("--target", metavar="COLUMN", help="with --data: the column to predict")
    run.add_argument("--task", choices=TASKS, help="with --data: override the guessed task")
    run.add_argument("--out", help="write the CSV here instead of stdout (checked as writable before training)")
    run.add_argument("--resume", action="store_true",
                     help="with --out: continue the run that was interrupted (killed, crashed, Ctrl-C) from the "
                          "parts it finished (OUT.parts/); the CSV is the uninterrupted run's, byte for byte")
    run.add_argument("--device", type=_device, default="cpu", metavar="DEVICE",
                     help="where the members train: cpu (default), cuda (or cuda:N), mps; with --backend ray each "
                          "task asks Ray for a GPU")
    run.add_argument("--threads", type=_at_most_cpus, default=DEFAULT_THREADS, metavar="N",
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
    run.add_argument("--ray-cpus", type=_at_most_cpus, metavar="N",
                     help="with --backend ray and no --address: CPUs of the local Ray (default: all cores)")
    run.add_argument("--summary", action="store_true",
                     help="after the run, print the best λ per (optimizer, lr) and how far it moves, on stderr")
    run.add_argument("--compare-at", choices=COMPARED_AT, default=DEFAULT_AT,
                     help=f"where --summary reads each member (default {DEFAULT_AT}): best = "
                          f"{describe_at('best')}; final = the last epoch; last = {describe_at('last')}. The CSV "
                          "keeps every epoch")
    run.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    run.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                     help="a limit of your own, e.g. max_members=500 or max_seconds=3600 (docs/CLI.md, Limits); "
                          "off the demo the only limit is this machine's available memory")
    run.add_argument("--limits", metavar="FILE.toml", help="limits of your own from a TOML file (name = number)")
    run.add_argument("--dry-run", action="store_true",
                     help="print the estimate (peak memory, time, chunks) and the limits' verdict; train nothing")
    code = sub.add_parser("code", help="print one member's standalone PyTorch script (the run flags + --member)")
    for action in run._actions:  # the same flags as run (whatever they become), minus the output ones
        if action.dest not in ("help", "out", "quiet", "threads", "workers", "backend", "address", "ray_cpus",
                               "compare_at", "dry_run", "resume", "device"):
            code._add_action(copy.copy(action))
    code.add_argument("--member", nargs=2, metavar=("WD", "SEED"), required=True,
                      help="the member to write out: one of the --wd values and one of the --seeds")
    code.add_argument("--member-optimizer", metavar="NAME",
                      help="with several --optimizer values: the member's optimizer (one of them)")
    code.add_argument("--member-lr", metavar="LR",
                      help="with several --lr values: the member's learning rate (one of them)")
    view = sub.add_parser("view", help="open the app on a result of wdlab run (CSV or Parquet)")
    view.add_argument("file", metavar="FILE", help="a CSV or Parquet file written by wdlab run (any backend)")
    view.add_argument("--port", type=_positive_int, default=8501, help="the app's port (default 8501)")
    view.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
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


def limits_from_args(args: argparse.Namespace, parallel: int = 1) -> Limits:
    """The limits this run is held to: demo mode's, else this machine's memory; --limits and --limit on top."""
    return cli_limits(parallel, parse_limits(getattr(args, "limit", None) or (), getattr(args, "limits", None)))


def data_from_args(args: argparse.Namespace, cfg: SweepConfig, limits: Limits = DEFAULT_LIMITS):
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
    from wdlab.data.reading import read_file  # deferred: pandas, only for a CSV
    from wdlab.data.tables import load_csv  # deferred: pandas
    vf = DATASETS["csv"].default_val_fraction if cfg.val_fraction is None else cfg.val_fraction
    raw = read_file(args.data, limits)
    return load_csv(raw, args.target, args.task, val_fraction=vf, limits=limits)
