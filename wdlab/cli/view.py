"""`wdlab view FILE`: the app on a result `wdlab run` wrote (CSV or Parquet, any backend): its curves, the summary
across λ, the Landscape for an lr grid and the tables. The file is checked here first (one line, exit 2 if it is
not such a result); the app then reads it from WDLAB_VIEW and shows it on its own page."""
from __future__ import annotations

import os
import subprocess
import sys

from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import ConfigError, SweepConfig

KEYS = ("optimizer", "lr", "weight_decay", "seed", "epoch", "train_loss", "val_loss", "l2_norm")
APP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "app.py")


def read_result(path: str):
    """The file's frame and one config per architecture read back from its columns (what the views need: the
    grid's optimizers, lrs, λ values, seeds and epochs; a classification result on moons' task); ConfigError
    saying what is wrong otherwise."""
    import pandas as pd  # deferred: pandas, once the command is known to be `view`
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file (give a CSV or Parquet file written by wdlab run)")
    try:
        parquet = path.lower().endswith((".parquet", ".pq"))
        frame = pd.read_parquet(path) if parquet else pd.read_csv(path)
    except ImportError:
        raise ConfigError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    except Exception as e:  # noqa: BLE001 — any parser's error is one line for the user
        raise ConfigError(f"{path}: not a table wdlab can read ({type(e).__name__}: {str(e)[:120]})") from None
    missing = [k for k in KEYS if k not in frame.columns]
    if missing or frame.empty:
        raise ConfigError(f"{path}: not a result of wdlab run (missing columns: {', '.join(missing) or 'rows'})")
    unknown = sorted(set(map(str, frame.optimizer)) - set(OPTIMIZERS))
    if unknown:
        raise ConfigError(f"{path}: unknown optimizers {', '.join(unknown)[:80]}")
    archs = list(dict.fromkeys(frame["arch"])) if "arch" in frame.columns else [None]
    cfgs = []
    for arch in archs:
        f = frame if arch is None else frame[frame.arch == arch]
        layers = sum(c.startswith("l2_weight") for c in f.columns if f[c].notna().any())
        hidden = tuple(int(w) for w in str(arch).split("-")) if arch not in (None, "linear") else \
            ((1,) * max(0, layers - 1) if arch is None else ())
        cfgs.append(SweepConfig(
            preset="moons" if "val_acc" in f.columns else "tutorial", hidden=hidden,
            norm="layernorm" if any(c.startswith("l2_gain") for c in f.columns) else "none",
            optimizers=tuple(dict.fromkeys(map(str, f.optimizer))), lrs=tuple(sorted(set(map(float, f.lr)))),
            weight_decays=tuple(sorted(set(map(float, f.weight_decay)))),
            seeds=tuple(sorted(set(map(int, f.seed)))), epochs=max(1, int(f.epoch.max()))))
    return frame, archs, cfgs


def view_main(args) -> int:
    """Check FILE, then serve the app on it (streamlit run app.py) until Ctrl-C."""
    try:
        read_result(args.file)
    except ConfigError as e:
        sys.stderr.write(f"wdlab: error: {e}\n")
        return 2
    env = dict(os.environ, WDLAB_VIEW=os.path.abspath(args.file))
    cmd = [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(args.port),
           "--server.headless", "true" if args.no_browser else "false", "--browser.gatherUsageStats", "false"]
    sys.stderr.write(f"wdlab: showing {args.file} at http://localhost:{args.port} (Ctrl-C ends it)\n")
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
