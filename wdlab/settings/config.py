"""The one declared set of settings: frozen dataclasses, validation, limits, CLI/URL round-trip."""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from wdlab.errors import ConfigError
from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.datasets import DATASETS
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.registry.schedules import SCHEDULES

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Limits:
    """Hard bounds on what a visitor may ask for. One place: the CLI, the app and the demo read these."""

    max_wd_values: int = 16
    max_lr_values: int = 8
    max_seeds: int = 8
    max_members: int = 64
    max_epochs: int = 2000
    max_layers: int = 4
    max_width: int = 1024
    max_steps: int = 50_000          # optimizer steps per member (epochs × batches per epoch)
    max_work: float = 3e12           # ≈ 6 · params · samples seen · members: bounds compute time
    max_concurrent_jobs: int = 2     # sweeps training at once in the app
    max_queued_jobs: int = 16        # sweeps waiting in the app's queue
    max_upload_bytes: int = 5_000_000  # CSV upload size, in bytes (a whole number of Streamlit's MB: 10⁶ bytes)
    max_results: int = 32            # finished sweeps kept for reuse (LRU) ...
    max_result_mb: int = 256         # ... and their frames' total size
    max_sweep_mb: float = 2000       # estimated peak memory of one sweep (wdlab.engine.budget); trained in chunks near it
    max_seconds: float = 1800        # estimated time of one sweep on one core of the reference machine
    max_memory_mb: float = 8000      # the whole server: budget.memory_plan(limits) must stay within it
    max_sessions: int = 64           # visitors whose uploaded tables the memory plan provides for
    max_table_cells: int = 10_000_000  # rows × features of one uploaded table after one-hot encoding
    machine: bool = False            # the memory limits are this machine's (wdlab.settings.limits), not a server's

    @property
    def max_upload_mb(self) -> int:
        """The upload cap in Streamlit's megabytes (its file_uploader's max_upload_size): 10⁶ bytes in the browser
        (10⁶·1.048576 on Windows, where the core then refuses the excess), 2²⁰ bytes on its server."""
        return -(-self.max_upload_bytes // 1_000_000)

    def describe(self) -> str:
        """The caps in words; a cap lifted (off the demo: infinite) is left out, the memory one said instead."""
        caps = [(self.max_wd_values, "{} weight_decay values"), (self.max_lr_values, "{} learning rates"),
                (self.max_seeds, "{} seeds"), (self.max_members, "{} members"), (self.max_epochs, "{} epochs"),
                (self.max_layers, "{} hidden layers"), (self.max_width, "width ≤ {}"), (self.max_steps, "{} steps")]
        said = [what.format(v) for v, what in caps if math.isfinite(v)]
        if len(said) == len(caps):  # the demo's and the full limits, worded as they always were
            said[5:7] = [f"{said[5]} of {said[6]}"]
        text = f"at most {', '.join(said)}" if said else "no cap on sizes"
        if self.machine:
            text += f"; a sweep's peak memory within {self.max_sweep_mb:,.0f} MB of this machine's available memory"
        return text


DEFAULT_LIMITS = Limits()
# The hosted demo: one small shared container (about 1 GB, 1–2 cores) serves every visitor.
DEMO_LIMITS = Limits(max_wd_values=8, max_lr_values=4, max_seeds=3, max_members=24, max_epochs=500, max_layers=3,
                     max_width=256, max_steps=10_000, max_work=2e11, max_concurrent_jobs=1,
                     max_queued_jobs=12, max_upload_bytes=2_000_000, max_results=16, max_result_mb=64,
                     max_sweep_mb=120, max_seconds=8, max_memory_mb=800, max_sessions=16,
                     max_table_cells=500_000)
HEARTBEAT_SECONDS = 90.0  # a job whose every viewer stayed silent this long is cancelled (browsers throttle
                          # hidden tabs' timers to about one a minute: stay above that)


def demo_mode(env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None) -> bool:
    """Demo limits are on when WDLAB_DEMO or a secret says so, and by default on Streamlit Community Cloud."""
    env = os.environ if env is None else env
    for source in (secrets or {}, env):
        value = source.get("WDLAB_DEMO")
        if value is not None:
            return str(value).strip().lower() in ("1", "true", "yes", "on")
    # Community Cloud runs apps from /mount/src and sets HOSTNAME=streamlit.
    return env.get("HOSTNAME") == "streamlit" or os.path.isdir("/mount/src")


def heartbeat_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a job may go unwatched before it is cancelled: WDLAB_HEARTBEAT_S (1 to 3600 s), else 90 s."""
    env = os.environ if env is None else env
    try:
        value = float(env.get("WDLAB_HEARTBEAT_S", HEARTBEAT_SECONDS))
    except ValueError:
        return HEARTBEAT_SECONDS
    return min(max(value, 1.0), 3600.0) if math.isfinite(value) else HEARTBEAT_SECONDS


def concurrent_jobs(limits: Limits, env: Mapping[str, str] | None = None) -> Limits:
    """`limits` with WDLAB_CONCURRENT_JOBS (1 to 8) sweeps training at once, when the host sets it."""
    env = os.environ if env is None else env
    text = env.get("WDLAB_CONCURRENT_JOBS", "").strip()
    if text.isdigit() and 1 <= int(text) <= 8:
        return dataclasses.replace(limits, max_concurrent_jobs=int(text))
    return limits


def host_device(env: Mapping[str, str] | None = None) -> str:
    """Where the app's sweeps train: WDLAB_DEVICE (cpu, cuda, cuda:N, mps), else the CPU."""
    env = os.environ if env is None else env
    text = env.get("WDLAB_DEVICE", "").strip().lower()
    ok = text in ("cpu", "cuda", "mps") or text.startswith("cuda:") and text[5:].isdigit()
    return text if ok else "cpu"


class Member(NamedTuple):
    """One model of a sweep."""

    optimizer: str
    lr: float
    weight_decay: float
    seed: int


@dataclass(frozen=True)
class SweepConfig:
    """One sweep: a model per (optimizer, lr, weight_decay, seed) member, all trained together.

    optimizers (in registry order), lrs, weight_decays and seeds are kept sorted and distinct, so equal
    sweeps have equal configs (one optimizer: optimizers=("sgd",); cfg.optimizer / cfg.lr read a one-value grid
    back). batch_size None = full batch; val_fraction
    None = the dataset's own held-out size.
    """

    preset: str = "tutorial"
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    norm: str = "none"
    optimizers: tuple[str, ...] = ("adam",)
    lrs: tuple[float, ...] = (0.01,)
    momentum: float = 0.0
    epochs: int = 100
    batch_size: int | None = None
    weight_decays: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
    seeds: tuple[int, ...] = (0,)
    val_fraction: float | None = None
    decay_bias: bool = True
    dtype: str = "float32"
    schedule: str = "constant"        # lr_t = lr·f(t): wdlab.registry.schedules
    warmup_epochs: int = 0            # linear warmup before any schedule
    step_period: int = 30             # step decay: every step_period epochs ...
    step_gamma: float = 0.1           # ... lr is multiplied by step_gamma

    def __post_init__(self):
        def fix(name, value):
            object.__setattr__(self, name, value)

        if not isinstance(self.preset, str) or self.preset not in DATASETS:
            raise ConfigError(f"preset {self.preset!r} is unknown; allowed: {', '.join(DATASETS)}", "preset")
        hidden = _sequence("hidden", self.hidden, "a list of widths, e.g. (64, 64); () for a linear model")
        for h in hidden:
            if isinstance(h, bool) or not isinstance(h, int) or h < 1:
                raise ConfigError(f"hidden widths must be whole numbers ≥ 1, got {h!r}", "hidden")
        fix("hidden", hidden)
        _choice("activation", self.activation, tuple(ACTIVATIONS))
        _choice("norm", self.norm, tuple(NORMS))
        _choice("dtype", self.dtype, DTYPES)
        opts = _sequence("optimizers", self.optimizers, "a list of names, e.g. ('adam', 'adamw')")
        if not opts:
            raise ConfigError("give at least one optimizer", "optimizers")
        for o in opts:
            _choice("optimizer", o, tuple(OPTIMIZERS), field="optimizers")
        if len(set(opts)) != len(opts):
            raise ConfigError("optimizers must be distinct", "optimizers")
        fix("optimizers", tuple(o for o in OPTIMIZERS if o in opts))
        lrs = _sequence("lrs", self.lrs, "a list of numbers, e.g. (0.001, 0.01)")
        if not lrs:
            raise ConfigError("give at least one learning rate", "lrs")
        for lr in lrs:
            _number("lrs", lr, 0.0, 10.0, open_low=True, label="lr")
        lrs = tuple(float(lr) for lr in lrs)
        if len(set(lrs)) != len(lrs):
            raise ConfigError("learning rates must be distinct", "lrs")
        fix("lrs", tuple(sorted(lrs)))
        _number("momentum", self.momentum, 0.0, 0.999)
        if self.momentum and not any(OPTIMIZERS[o].momentum for o in self.optimizers):
            takes = " or ".join(o for o, spec in OPTIMIZERS.items() if spec.momentum)
            raise ConfigError(f"momentum applies to {takes} only; set it to 0 or add {takes} to the optimizers",
                              "momentum")
        _integer("epochs", self.epochs, 1)
        if self.batch_size is not None:
            _integer("batch_size", self.batch_size, 1)
        wds = _sequence("weight_decays", self.weight_decays, "a list of numbers, e.g. (0, 1e-4, 1e-2)")
        if not wds:
            raise ConfigError("give at least one weight_decay value", "weight_decays")
        for w in wds:
            _number("weight_decays", w, 0.0, 100.0, label="each weight_decay")
        wds = tuple(float(w) for w in wds)
        if len(set(wds)) != len(wds):
            raise ConfigError("weight_decay values must be distinct", "weight_decays")
        fix("weight_decays", tuple(sorted(wds)))
        seeds = _sequence("seeds", self.seeds, "a list of whole numbers, e.g. (0, 1, 2)")
        if not seeds:
            raise ConfigError("give at least one seed", "seeds")
        for s in seeds:
            _integer("seeds", s, 0, 2**31 - 1, label="each seed")
        if len(set(seeds)) != len(seeds):
            raise ConfigError("seeds must be distinct", "seeds")
        fix("seeds", tuple(sorted(seeds)))
        if self.val_fraction is not None:
            _number("val_fraction", self.val_fraction, 0.05, 0.5)
        if not isinstance(self.decay_bias, bool):
            raise ConfigError("decay_bias must be true or false", "decay_bias")
        _choice("schedule", self.schedule, tuple(SCHEDULES))
        _integer("warmup_epochs", self.warmup_epochs, 0, max(0, self.epochs - 1),
                 label="warmup_epochs (fewer than the epochs)")
        _integer("step_period", self.step_period, 1)
        _number("step_gamma", self.step_gamma, 0.0, 1.0, open_low=True)

    @property
    def members(self) -> list[Member]:
        """Every member, ordered by (optimizer, lr, weight_decay, seed): the row order of every stacked tensor.
        Members sharing (optimizer, lr) are consecutive: each such group trains as one slice of the buffers."""
        return [Member(o, lr, w, s) for o in self.optimizers for lr in self.lrs
                for w in self.weight_decays for s in self.seeds]

    @property
    def optimizer(self) -> str:
        """The optimizer of a one-optimizer sweep."""
        if len(self.optimizers) != 1:
            raise ValueError(f"this sweep has {len(self.optimizers)} optimizers; read cfg.optimizers")
        return self.optimizers[0]

    @property
    def lr(self) -> float:
        """The learning rate of a one-lr sweep."""
        if len(self.lrs) != 1:
            raise ValueError(f"this sweep has {len(self.lrs)} learning rates; read cfg.lrs")
        return self.lrs[0]

    def replace(self, **changes) -> "SweepConfig":
        return dataclasses.replace(self, **changes)


def preset_defaults(preset: Any) -> dict[str, Any]:
    """The settings a preset brings (SweepConfig attributes), e.g. modular-addition's network and optimizer;
    what it does not name takes SweepConfig's own default (preset_config)."""
    spec = DATASETS.get(preset) if isinstance(preset, str) else None
    out = dict(spec.defaults) if spec is not None else {}
    return out


def preset_config(preset: str) -> SweepConfig:
    """The whole sweep a preset stands for: its own settings, SweepConfig's defaults for the rest. What the app
    shows when it is picked, what a link or `wdlab run --preset` alone trains."""
    return SweepConfig(preset=preset, **preset_defaults(preset))


def starting_group(cfg: SweepConfig) -> tuple[str, float]:
    """The (optimizer, lr) group of a grid shown first: the one its preset starts from (e.g. Adam, lr 0.01) when
    the grid has it; else that optimizer at the nearest lr (log scale); else the grid's first group."""
    own = preset_config(cfg.preset)
    opt = own.optimizers[0] if own.optimizers[0] in cfg.optimizers else cfg.optimizers[0]
    lr = min(cfg.lrs, key=lambda x: abs(math.log(x / own.lrs[0])))
    return opt, lr


def with_preset_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """SweepConfig keyword values completed by their preset's defaults for every key the user did not set."""
    defaults = preset_defaults(values.get("preset", SweepConfig.preset))
    return {**defaults, **values}


def _sequence(name, value, allowed) -> tuple:
    # a bare number or a string would otherwise be iterated (or fail) with a message that names neither
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name} must be {allowed}, got {value!r}", name)
    return tuple(value)


def _choice(name, value, allowed, field=None):
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{name} {value!r} is not allowed; choose one of: {', '.join(allowed)}", field or name)


def _number(name, value, lo, hi, open_low=False, label=None):
    label = label or name
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > hi or value < lo or (open_low and value == lo):
        low = f"> {lo:g}" if open_low else f"≥ {lo:g}"
        raise ConfigError(f"{label} must be a finite number {low} and ≤ {hi:g}, got {value!r}", name)


def _integer(name, value, lo, hi=None, label=None):
    label = label or name
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f"≥ {lo}" if hi is None else f"from {lo} to {hi}"
        raise ConfigError(f"{label} must be a whole number {rng}, got {value!r}", name)
