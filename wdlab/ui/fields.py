"""The sweep's widget values and the config they describe, both ways, generated from the declared settings
(wdlab.settings.params.PARAMS). One parse reads every widget, checks each value against the declaration and
SweepConfig, then the server's limits, and reports every bad field at once, each error naming its setting."""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from wdlab.engine.budget import validate
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import ConfigError, Limits, SweepConfig
from wdlab.settings.params import BY_ATTR, PARAMS, Param

PREFIX = "cfg_"
LISTS = ("choices", "ints", "floats")       # kinds holding several values
TAGS = ("choices", "floats")                # ... shown as a multiselect's tags, one value each
TEXT = ("ints", "batch", "fraction")        # kinds typed as text, read by the declaration's own parse
NAMES = {"optimizers": "optimizer", "lrs": "lr"}   # widgets named like their URL key: kept for their keys
MISSING = object()                          # a widget value nothing usable could be read from


def name(p: Param) -> str:
    """The setting's widget name (its key without PREFIX, and its entry in the widget state)."""
    return NAMES.get(p.attr, p.attr)


def key(p: Param) -> str:
    return PREFIX + name(p)


NOUNS = {name(p): p.noun for p in PARAMS}   # by widget name: "lr" -> "learning rates"


def applies(p: Param, state: Mapping[str, Any]) -> bool:
    """Whether the setting's widget is shown for these widget values: momentum only with an optimizer that has
    one (without, it is 0); step decay's period and factor only under step decay (else unused: their defaults)."""
    if p.attr == "momentum":
        return any(OPTIMIZERS[o].momentum for o in state.get(name(BY_ATTR["optimizers"])) or [] if o in OPTIMIZERS)
    if p.attr in ("step_period", "step_gamma"):
        return state.get(name(BY_ATTR["schedule"])) == "step"
    return True


class FieldError(str):
    """An error message that knows the setting (a SweepConfig attribute) it is about: shown under its widget."""

    field: str = "preset"


def error(field: str | None, message: str) -> FieldError:
    e = FieldError(message)
    e.field = field if field in BY_ATTR else "preset"
    return e


def tag_text(x: float) -> str:
    """A number as a tag: short (0.0003, 1e-05) when that is the exact value, else every digit (0.1234567)."""
    short = f"{x:g}"
    return short if float(short) == x else repr(float(x))


def unlabel(text) -> str:
    """A tag's value without its label ("λ = 0.5" → "0.5"): a typed value can come back labelled."""
    text = str(text).strip()
    return text.split("=", 1)[1].strip() if "=" in text else text


def normalize_wds(texts) -> list[str]:
    """The λ tags as the config will hold them: each number once, written as tag_text, sorted by value; text that
    is not a number stays (at the end) so that its error can be shown."""
    numbers, bad = {}, []
    for text in texts:
        text = unlabel(text)
        try:
            w = BY_ATTR["weight_decays"].parse(text)
        except ConfigError:
            w = ()
        if len(w) == 1:
            numbers.setdefault(w[0], tag_text(w[0]))
        elif str(text) not in bad:
            bad.append(str(text))
    return [numbers[w] for w in sorted(numbers)] + bad


def to_widget(p: Param, value: Any) -> Any:
    """A config value as its widget shows it."""
    if p.kind == "floats":
        return [tag_text(v) for v in value]
    if p.kind == "choices":
        return list(value)
    if p.kind in TEXT:
        return p.format(value)
    return value


def _each(p: Param, values: tuple) -> tuple[tuple, list[str]]:
    """The values of a list setting SweepConfig accepts one by one, and what it says of each other one."""
    good, bad = [], []
    for v in values:
        try:
            SweepConfig(**{p.attr: (v,)})
            good.append(v)
        except ConfigError as e:
            bad.append(str(e))
    return tuple(good), bad


def read(p: Param, raw: Any) -> tuple[Any, list[str]]:
    """One widget's value -> (the config value, or MISSING; what is wrong with it, every problem)."""
    if p.kind in TAGS:  # one value per tag: each bad tag named
        items, bad = [], []
        for text in raw or []:
            try:
                one = p.parse(unlabel(text))
                if len(one) != 1:  # blank, or several in one tag
                    raise ConfigError(str(text), p.attr)
                items.append(one[0])
            except ConfigError:
                what = "a number" if p.kind == "floats" else "one of " + ", ".join(p.choices)
                hint = f": type a number {p.bounds()}, e.g. {to_widget(p, getattr(SweepConfig(), p.attr))[-1]}" \
                    if p.kind == "floats" else ""
                bad.append(f"{p.item} {str(text)[:40]!r} is not {what}{hint}")
        items, out_of_bounds = _each(p, tuple(dict.fromkeys(items)))  # 1e-3 typed beside the grid's 0.001 is one
        bad += out_of_bounds
        if not items and not bad:
            bad.append(f"pick at least one {p.item}")
        return items or MISSING, bad
    if p.kind in ("int", "float"):
        if raw is None:
            return MISSING, [f"type a number for {p.noun}"]
        return (int(raw) if p.kind == "int" else float(raw)), []
    if p.kind == "bool":
        return bool(raw), []
    try:
        value = p.parse("" if raw is None else str(raw))
    except ConfigError as e:
        return MISSING, [str(e)]
    if p.kind in LISTS:
        good, bad = _each(p, value)
        return (good or MISSING) if bad else good, bad
    return value, []


def fallback(p: Param) -> Any:
    """What stands in for a bad value while the other fields are checked: the default (its first value, for a
    list, so that the limits on sizes are not tripped by values the visitor did not ask for)."""
    default = getattr(SweepConfig(), p.attr)
    return default[:1] if p.kind in LISTS and default else default


def cfg_to_state(cfg: SweepConfig) -> dict[str, Any]:
    """Widget values (by widget name) that show `cfg`."""
    return {name(p): to_widget(p, getattr(cfg, p.attr)) for p in PARAMS}


def state_to_cfg(state: Mapping[str, Any], limits: Limits) -> tuple[SweepConfig | None, list[FieldError]]:
    """Widget values -> (config, []) or (None, every error found, each a FieldError naming its setting): every
    widget's own problems, then SweepConfig's checks across fields, then the server's limits."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for p in PARAMS:
        if not applies(p, state):
            values[p.attr] = getattr(SweepConfig(), p.attr)
            continue
        value, bad = read(p, state.get(name(p)))
        errors += [error(p.attr, message) for message in bad]
        values[p.attr] = fallback(p) if value is MISSING else value
    cfg = None
    for _ in range(len(PARAMS) + 1):  # a failing value is swapped for its fallback and the rest checked again
        try:
            cfg = SweepConfig(**values)
            break
        except ConfigError as e:
            errors.append(error(e.field, str(e)))
            p = BY_ATTR.get(e.field)
            if p is None or values[p.attr] == fallback(p):
                return None, errors
            values[p.attr] = fallback(p)
    try:
        validate(cfg, limits)
    except ConfigError as e:
        if e.field not in {x.field for x in errors}:  # over a limit: said unless that field is already wrong
            errors.append(error(e.field, str(e)))
    return (None, errors) if errors else (cfg, [])


def current_state() -> dict[str, Any]:
    """The widgets' values now, by widget name."""
    return {name(p): st.session_state.get(key(p)) for p in PARAMS}
