"""`wdlab code <run flags> --member WD SEED`: one member's standalone plain-PyTorch script on stdout."""
from __future__ import annotations

import argparse
import sys

from .cli import config_from_args, data_from_args
from .config import DEFAULT_LIMITS, ConfigError
from .data import DATASETS
from .params import BY_KEY


def code_main(args: argparse.Namespace) -> int:
    """Print the script for --member (one of the --wd values, one of the --seeds); 2 and one line if wrong."""
    from .budget import validate
    from .codegen import member_script
    from .codegen_data import csv_source
    from .csvdata import CsvError, read_file

    try:
        cfg = config_from_args(args)
        data = data_from_args(args, cfg)
        validate(cfg, DEFAULT_LIMITS, data)
        wd, seed = BY_KEY["wd"].parse(args.member[0]), BY_KEY["seeds"].parse(args.member[1])
        if len(wd) != 1 or len(seed) != 1:
            raise ConfigError(f"--member takes one weight_decay and one seed, got {' '.join(args.member)}", "member")
        source = None
        if data is not None:
            vf = DATASETS["csv"].default_val_fraction if cfg.val_fraction is None else cfg.val_fraction
            source = csv_source(read_file(args.data, DEFAULT_LIMITS), args.data, args.target, args.task, vf,
                                data=data)
        sys.stdout.write(member_script(cfg, wd[0], seed[0], csv=source))
    except (ConfigError, CsvError) as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    except ValueError as e:  # a member that is not in the sweep: say which are
        sys.stderr.write(f"wdlab: error: --member: {e}\n")
        return 2
    return 0
