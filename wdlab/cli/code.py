"""`wdlab code <run flags> --member WD SEED [--member-optimizer O] [--member-lr LR]`: one member's script."""
from __future__ import annotations

import argparse
import os
import sys

from wdlab.cli.args import config_from_args, data_from_args, limits_from_args
from wdlab.engine.budget import validate
from wdlab.settings.config import ConfigError
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import BY_KEY


def code_main(args: argparse.Namespace) -> int:
    """Print the script for --member (one of the --wd values, one of the --seeds; with several optimizers or lrs
    also --member-optimizer / --member-lr); 2 and one line if wrong."""
    from wdlab.codegen.script import member_script  # deferred: pandas, once the command is known to be `code`
    from wdlab.codegen.data import csv_source  # deferred: pandas
    from wdlab.data.reading import CsvError, read_file  # deferred: pandas

    try:
        cfg = config_from_args(args)
        limits = limits_from_args(args)
        data = data_from_args(args, cfg, limits)
        validate(cfg, limits, data)
        wd, seed = BY_KEY["wd"].parse(args.member[0]), BY_KEY["seeds"].parse(args.member[1])
        if len(wd) != 1 or len(seed) != 1:
            raise ConfigError(f"--member takes one weight_decay and one seed, got {' '.join(args.member)}", "member")
        opt, lr = getattr(args, "member_optimizer", None), getattr(args, "member_lr", None)
        if opt is None and len(cfg.optimizers) > 1:
            raise ConfigError(f"this sweep has several optimizers ({', '.join(cfg.optimizers)}): say which member's "
                              "with --member-optimizer", "member")
        if lr is None and len(cfg.lrs) > 1:
            raise ConfigError(f"this sweep has several learning rates ({', '.join(f'{v:g}' for v in cfg.lrs)}): "
                              "say which member's with --member-lr", "member")
        if lr is not None:
            lrs = BY_KEY["lr"].parse(lr)
            if len(lrs) != 1:
                raise ConfigError(f"--member-lr takes one learning rate, got {lr[:40]!r}", "member")
            lr = lrs[0]
        source = None
        if data is not None:
            vf = DATASETS["csv"].default_val_fraction if cfg.val_fraction is None else cfg.val_fraction
            # the script reads the file by its name from its own folder, never by a path
            source = csv_source(read_file(args.data, limits), os.path.basename(args.data), args.target,
                                args.task, vf, data=data)
        script = member_script(cfg, wd[0], seed[0], csv=source, optimizer=opt, lr=lr)
    except (ConfigError, CsvError) as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    except ValueError as e:  # a member that is not in the sweep: say which are
        sys.stderr.write(f"wdlab: error: --member: {e}\n")
        return 2
    try:  # a script that would not run is never printed (nor exit 0)
        compile(script, "member.py", "exec")
    except SyntaxError as e:
        sys.stderr.write(f"wdlab: internal error: the script for this member does not compile (line {e.lineno}: "
                         f"{e.msg}); please report it with the command\n")
        return 1
    sys.stdout.write(script)
    return 0
