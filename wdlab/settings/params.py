"""Every setting declared once: its CLI flag / URL key, how to parse and print it, its label and bounds. Drives the
CLI flags, the URL keys and the app's widgets (wdlab/ui/fields.py, controls.py); its kind decides the widget."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.datasets import DATASETS
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.registry.schedules import SCHEDULES
from wdlab.settings.config import DTYPES, ConfigError, Limits, SweepConfig, preset_config

MAX_LIST = 64        # list parameters longer than this are refused before any parsing work
MAX_TEXT = 2000      # characters of one parameter value
MAX_NAMED = 10       # bad keys of one link named in its warning (the rest are counted)


@dataclass(frozen=True)
class Param:
    key: str                       # URL key and CLI flag (--key); named like torch where torch has a name
    attr: str                      # SweepConfig attribute
    kind: str                      # choice | choices | int | float | ints | floats | bool | batch | fraction
    help: str
    # a tuple, or a registry (name -> spec) read whenever it is used: entries registered at run time are listed
    choices: tuple[str, ...] | Mapping[str, Any] = field(default=(), hash=False)
    label: str = ""                # the widget's label (default: key)
    noun: str = ""                 # the setting in a sentence, plural for lists (default: label)
    low: float | None = None       # bounds of a number, of each for lists (SweepConfig checks them; a test holds
    high: float | None = None      # the two equal); the server's Limits come on top at validation
    open_low: bool = False         # low itself not allowed (a learning rate > 0)
    step: float | None = None      # a number widget's +/- step
    limit: str = ""                # the Limits field capping it: how many values (lists), the value (int)
    show: Callable[[str], str] | None = field(default=None, compare=False)  # a choice's name on screen (default:
                                   # its registry entry's label)

    def __post_init__(self):
        object.__setattr__(self, "label", self.label or self.key)
        object.__setattr__(self, "noun", self.noun or self.label)

    @property
    def item(self) -> str:
        """One value of a list setting, in a sentence ("learning rate")."""
        return self.noun.removesuffix("s")

    def bounds(self) -> str:
        """The declared bounds as text: '> 0 and ≤ 10', '≥ 1', '' when none."""
        num = lambda x: f"{x:g}" if abs(x) < 1e6 else str(int(x))  # noqa: E731  (2147483647, not 2.14748e+09)
        low = "" if self.low is None else f"{'>' if self.open_low else '≥'} {num(self.low)}"
        high = "" if self.high is None else f"≤ {num(self.high)}"
        return " and ".join(t for t in (low, high) if t)

    def full_help(self) -> str:
        """help, then each registry entry's own help (e.g. every optimizer's rule)."""
        if not isinstance(self.choices, Mapping):
            return self.help
        return self.help + ": " + "; ".join(f"{n} = {spec.help}" for n, spec in self.choices.items())

    def name_of(self, choice: str) -> str:
        """A choice as the screen names it: `show`, else its registry entry's label."""
        if self.show is not None:
            return self.show(choice)
        spec = self.choices.get(choice) if isinstance(self.choices, Mapping) else None
        return getattr(spec, "label", choice)

    def allowed(self) -> str:
        return {
            "choice": "one of " + ", ".join(self.choices),
            "choices": "comma-separated names from " + ", ".join(self.choices),
            "int": "a whole number", "float": "a finite number",
            "ints": "comma-separated whole numbers", "floats": "comma-separated finite numbers",
            "bool": "true or false", "batch": "a whole number ≥ 1, or full",
            "fraction": "a number from 0.05 to 0.5, or default",
        }[self.kind]

    def parse(self, text: str) -> Any:
        """Text (URL value, or CLI words joined by commas) -> attribute value; ConfigError saying what is allowed."""
        text = str(text).strip()
        bad = ConfigError(f"{self.key}={text[:40]!r} is not valid: {self.key} takes {self.allowed()}", self.attr)
        if len(text) > MAX_TEXT:
            raise bad
        try:
            if self.kind == "choice":
                if text.lower() not in self.choices:
                    raise bad
                return text.lower()
            if self.kind == "int":
                return _int(text)
            if self.kind == "float":
                return _float(text)
            if self.kind in ("ints", "floats", "choices"):
                items = [t for t in text.replace(" ", ",").split(",") if t]
                if len(items) > MAX_LIST:
                    raise ConfigError(f"{self.key} has {len(items)} values; at most {MAX_LIST} are read", self.attr)
                if self.kind == "choices":
                    if any(t.lower() not in self.choices for t in items):
                        raise bad
                    return tuple(dict.fromkeys(t.lower() for t in items))
                if self.attr == "hidden" and text.lower() in ("none", "linear"):
                    return ()
                return tuple((_int if self.kind == "ints" else _float)(t) for t in items)
            if self.kind == "bool":
                low = text.lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise bad
            if self.kind == "batch":
                return None if text.lower() in ("full", "") else _int(text)
            if self.kind == "fraction":
                return None if text.lower() in ("default", "") else _float(text)
        except (ValueError, OverflowError) as e:
            if isinstance(e, ConfigError):
                raise
            raise bad from None
        raise AssertionError(self.kind)

    def format(self, value: Any) -> str:
        if self.kind in ("ints", "floats", "choices"):
            return ",".join(_fmt(v) for v in value)
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "batch":
            return "full" if value is None else str(value)
        if self.kind == "fraction":
            return "default" if value is None else _fmt(value)
        return _fmt(value)


def _int(text: str) -> int:
    if not text.lstrip("+-").isdigit() or not text.isascii():
        raise ValueError(text)
    return int(text)


def _float(text: str) -> float:
    if not text.isascii() or "_" in text:
        raise ValueError(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _fmt(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


PARAMS: tuple[Param, ...] = (
    Param("preset", "preset", "choice", "dataset", DATASETS,
          label="Experiment (dataset)", noun="dataset", show=lambda n: DATASETS[n].title),
    Param("hidden", "hidden", "ints", "hidden layer widths (empty = a linear model)",
          label="hidden widths", low=1, limit="max_layers"),
    Param("activation", "activation", "choice", "activation between layers", ACTIVATIONS, label="activation"),
    Param("norm", "norm", "choice", "normalization after each hidden Linear, before its activation", NORMS,
          label="normalization"),
    Param("optimizer", "optimizers", "choices", "torch.optim optimizers, one model each", OPTIMIZERS,
          label="Optimizers (one model each)", noun="optimizers"),
    Param("lr", "lrs", "floats", "learning rates, one model each",
          label="learning rates (one model each)", noun="learning rates", low=0, high=10, open_low=True,
          limit="max_lr_values"),
    Param("momentum", "momentum", "float", "SGD momentum",
          label="SGD momentum (0 = plain SGD)", noun="momentum", low=0, high=0.999, step=0.05),
    Param("epochs", "epochs", "int", "training epochs", label="epochs", low=1, step=10, limit="max_epochs"),
    Param("batch-size", "batch_size", "batch", "minibatch size (full = the whole training set)",
          label="batch size", low=1),
    Param("wd", "weight_decays", "floats", "weight_decay values, one model each",
          label="weight_decay values λ (one model each)", noun="weight_decay values", low=0, high=100,
          limit="max_wd_values"),
    Param("seeds", "seeds", "ints", "seeds: initial weights and batch order (and the course's data)",
          label="seeds", low=0, high=2**31 - 1, limit="max_seeds"),
    Param("val-fraction", "val_fraction", "fraction", "held-out fraction (default: the dataset's own)",
          label="validation fraction", low=0.05, high=0.5),
    Param("decay-bias", "decay_bias", "bool", "decay biases too (torch's default) or only weight matrices",
          label="decay biases too", noun="decay biases"),
    Param("dtype", "dtype", "choice", "floating-point precision", DTYPES, label="precision"),
    Param("schedule", "schedule", "choice", "learning-rate schedule, lr_t = lr·f(t) as torch's LambdaLR stepped "
          "after every step", SCHEDULES, label="learning-rate schedule"),
    Param("warmup-epochs", "warmup_epochs", "int", "epochs of linear warmup (lr·(t+1)/W) before the schedule, "
          "fewer than the epochs", label="warmup epochs", low=0, step=1),
    Param("step-period", "step_period", "int", "step decay: epochs between lr cuts",
          label="step decay: period (epochs)", low=1, step=10),
    Param("step-gamma", "step_gamma", "float", "step decay: the factor of each cut",
          label="step decay: factor γ", low=0, high=1, open_low=True, step=0.05),
)
BY_KEY = {p.key: p for p in PARAMS}
BY_ATTR = {p.attr: p for p in PARAMS}


def _default(param: Param, base: SweepConfig) -> str:
    text = param.format(getattr(base, param.attr))
    if param.kind == "fraction" and getattr(base, param.attr) is None:
        return "the default (the dataset's own split)"
    return f"the default {text}"


def _some(items: list[str], k: int = MAX_NAMED) -> str:
    """At most k items, then how many more."""
    return ", ".join(items[:k]) + (f" and {len(items) - k} more" if len(items) > k else "")


def to_query(cfg: SweepConfig) -> dict[str, str]:
    """Every setting as URL parameters, so a link reproduces the run even if defaults change."""
    return {p.key: p.format(getattr(cfg, p.attr)) for p in PARAMS}


def from_query(query: Mapping[str, Any], limits: Limits | None = None,
               check: Callable[[SweepConfig], None] | None = None,
               base: SweepConfig | None = None, keep: tuple[str, ...] = ()) -> tuple[SweepConfig, list[str]]:
    """URL parameters -> (config, warnings). Never raises: a bad parameter is named in a warning (with its
    allowed values) and its default is used instead; `check` (e.g. limits) is applied the same way.

    A key the link does not carry takes its preset's own setting (preset_config): the tutorial's without a
    preset key. `base` (a page's own sweep) stands in for its preset instead; `keep`: attributes of `base` that
    a link to another preset keeps (a page's grid)."""
    base = base or preset_config(SweepConfig.preset)
    warnings: list = []
    values: dict[str, Any] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for key, raw in query.items():
        if isinstance(raw, (list, tuple)):
            if not raw:
                continue
            if len(raw) > 1:
                repeated.append(f"{str(key)[:40]!r} ({len(raw)} times)")
            raw = raw[-1]
        param = BY_KEY.get(key)
        if param is None:
            unknown.append(repr(str(key)[:40]))
            continue
        try:
            values[param.attr] = param.parse(raw)
        except ConfigError as e:
            warnings.append((e, param))  # worded below, once the defaults (the preset's own) are known
    plain, preset = base, values.get("preset", base.preset)
    if preset != base.preset and preset in DATASETS:  # the preset's own settings stand in for the rest
        base = dataclasses.replace(preset_config(preset), **{a: getattr(base, a) for a in keep})
    warnings = [w if isinstance(w, str) else f"{w[0]} — using {_default(w[1], base)}" for w in warnings]
    # many bad keys in one link make one line each for the unknown and the repeated ones, never one per key
    if repeated:
        warnings.insert(0, f"given more than once, the last value is used: {_some(repeated)}")
    if unknown:
        warnings.insert(0, f"unknown parameter{'s' if len(unknown) > 1 else ''} {_some(unknown)} ignored; "
                           f"known: {', '.join(BY_KEY)}")
    for _ in range(len(PARAMS) + 1):
        try:
            cfg = dataclasses.replace(base, **values)
            if check is not None:
                check(cfg)
            return cfg, warnings
        except ConfigError as e:
            attr = e.field if e.field in values else None
            own = attr is None and base is not plain  # the preset's own settings are what `check` refused
            attr = "preset" if own else attr or next(iter(values), None)
            if attr is None:
                raise
            param = BY_ATTR[attr]
            if attr == "preset":
                base = plain
            what = f"the settings preset {preset} brings are refused: {e}" if own else str(e)
            warnings.append(f"{param.key}: {what} — using {_default(param, base)}")
            del values[attr]
    raise AssertionError("unreachable")
