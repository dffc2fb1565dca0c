"""Settings declared once: URL/CLI round trip, and URL junk that never raises but names the bad key."""
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wdlab.settings.config import DEMO_LIMITS, OPTIMIZERS, ConfigError, SweepConfig, preset_config
from wdlab.registry.datasets import DATASETS
from wdlab.settings.params import MAX_NAMED, BY_ATTR, BY_KEY, MAX_LIST, PARAMS, from_query, to_query
from wdlab.engine.budget import validate

PRESETS = [name for name in DATASETS if name != "csv"]
LANDING = preset_config("tutorial")  # a link without a preset: the tutorial's own settings for what it leaves out


def test_every_setting_is_declared_exactly_once():
    fields = {f.name for f in dataclasses.fields(SweepConfig)}
    assert {p.attr for p in PARAMS} == fields
    assert len(BY_KEY) == len(PARAMS) == len(BY_ATTR)


configs = st.builds(
    lambda preset, hidden, act, opt, lr, mom, epochs, batch, wds, seeds, vf, db, dt: SweepConfig(
        preset=preset, hidden=hidden, activation=act, optimizers=(opt,), lrs=(lr,), momentum=mom if opt == "sgd" else 0.0,
        epochs=epochs, batch_size=batch, weight_decays=wds, seeds=seeds, val_fraction=vf, decay_bias=db, dtype=dt),
    st.sampled_from(PRESETS), st.lists(st.integers(1, 1024), max_size=4).map(tuple),
    st.sampled_from(["relu", "tanh", "gelu"]), st.sampled_from(list(OPTIMIZERS)),
    st.floats(1e-6, 10.0), st.floats(0.0, 0.999), st.integers(1, 5000), st.none() | st.integers(1, 10_000),
    st.lists(st.floats(0.0, 100.0), min_size=1, max_size=8, unique=True).map(tuple),
    st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=5, unique=True).map(tuple),
    st.none() | st.floats(0.05, 0.5), st.booleans(), st.sampled_from(["float32", "float64"]))


@given(configs)
@settings(max_examples=150, deadline=None)
def test_url_round_trip_reproduces_every_setting(cfg):
    query = to_query(cfg)
    assert set(query) == set(BY_KEY) and all(isinstance(v, str) for v in query.values())
    back, warnings = from_query(query)
    assert warnings == []
    assert back == cfg            # floats printed with repr: bit-exact


def test_query_values_may_come_as_lists_like_streamlits_query_params():
    cfg = SweepConfig(preset="moons", weight_decays=(0.0, 0.5), seeds=(3,))
    query = {k: [v] for k, v in to_query(cfg).items()}
    assert from_query(query) == (cfg, [])
    back, warnings = from_query({"lr": ["0.1", "0.2"]})
    assert back.lr == 0.2 and warnings == ["given more than once, the last value is used: 'lr' (2 times)"]


def test_many_bad_keys_make_one_bounded_warning():
    query = {f"https://wdlab-login.example/k{i}": "1" for i in range(999)}
    query.update({"lr": ["0.1", "0.2"], "wd": ["0", "0.1"], "epochs": "-3"})
    cfg, warnings = from_query(query)
    assert cfg.lr == 0.2 and cfg.weight_decays == (0.1,) and cfg.epochs == LANDING.epochs
    assert len(warnings) == 3 and len(" ".join(warnings)) < 1200  # unknown keys, repeated keys, epochs
    unknown = warnings[0]
    assert unknown.startswith("unknown parameters 'https://wdlab-login.example/k0', ") and "and 989 more ignored" in unknown
    assert "'lr' (2 times), 'wd' (2 times)" in warnings[1] and "epochs" in warnings[2]


@pytest.mark.parametrize("query,key,says", [
    ({"lr": "fast"}, "lr", "lr takes comma-separated finite numbers"),
    ({"lr": "nan"}, "lr", "lr takes comma-separated finite numbers"),
    ({"lr": "1e999"}, "lr", "lr takes comma-separated finite numbers"),
    ({"lr": "-1"}, "lr", "> 0 and ≤ 10"),
    ({"optimizer": "lion"}, "optimizer", "comma-separated names from sgd, adam, adamw, rmsprop"),
    ({"optimizer": "adam,lion"}, "optimizer", "comma-separated names from sgd, adam, adamw, rmsprop"),
    ({"norm": "batch"}, "norm", "one of none, layernorm"),
    ({"preset": "../../etc/passwd"}, "preset", "one of tutorial"),
    ({"epochs": "1.5"}, "epochs", "a whole number"),
    ({"epochs": "٣"}, "epochs", "a whole number"),                 # a non-ASCII digit
    ({"wd": "0,abc"}, "wd", "comma-separated finite numbers"),
    ({"wd": ",".join(["0.1"] * (MAX_LIST + 1))}, "wd", f"at most {MAX_LIST}"),
    ({"wd": "0.1,0.1"}, "wd", "distinct"),
    ({"seeds": "1_000"}, "seeds", "comma-separated whole numbers"),
    ({"hidden": "64,-3"}, "hidden", "whole numbers ≥ 1"),
    ({"batch-size": "lots"}, "batch-size", "a whole number ≥ 1, or full"),
    ({"val-fraction": "0.99"}, "val-fraction", "≥ 0.05 and ≤ 0.5"),
    ({"decay-bias": "maybe"}, "decay-bias", "true or false"),
    ({"momentum": "0.9"}, "momentum", "momentum applies to sgd only"),
    ({"lr": "x" * 5000}, "lr", "lr takes comma-separated finite numbers"),
])
def test_a_bad_value_is_named_and_replaced_by_the_default(query, key, says):
    cfg, warnings = from_query(query)
    assert len(warnings) == 1, warnings
    assert key in warnings[0] and says in warnings[0] and "using the default" in warnings[0]
    assert getattr(cfg, BY_KEY[key].attr) == getattr(LANDING, BY_KEY[key].attr)


def test_good_values_survive_next_to_bad_ones():
    cfg, warnings = from_query({"optimizer": "sgd", "momentum": "0.9", "lr": "oops", "wd": "0, 1e-2", "spam": "1"})
    assert (cfg.optimizer, cfg.momentum, cfg.weight_decays, cfg.lr) == ("sgd", 0.9, (0.0, 0.01), LANDING.lr)
    assert any("'spam'" in w and "unknown parameter" in w for w in warnings)
    assert any(w.startswith("lr=") for w in warnings) and len(warnings) == 2


def test_special_spellings():
    cfg, warnings = from_query({"hidden": "linear", "batch-size": "full", "val-fraction": "default",
                                "decay-bias": "off", "optimizer": "AdamW"})
    assert warnings == []
    assert (cfg.hidden, cfg.batch_size, cfg.val_fraction, cfg.decay_bias, cfg.optimizer) == \
        ((), None, None, False, "adamw")


def test_limits_check_is_applied_like_a_bad_value():
    cfg, warnings = from_query({"epochs": "100000", "lr": "0.5"}, check=lambda c: validate(c, DEMO_LIMITS))
    assert cfg.epochs == LANDING.epochs and cfg.lr == 0.5
    assert len(warnings) == 1 and warnings[0].startswith("epochs:") and "at most 500" in warnings[0]
    validate(cfg, DEMO_LIMITS)


@given(st.dictionaries(st.one_of(st.sampled_from(list(BY_KEY)), st.text(max_size=20)),
                       st.one_of(st.text(max_size=60), st.lists(st.text(max_size=20), max_size=3),
                                 st.sampled_from(["0", "1e-3,0.1", "nan", "inf", "-0", "full", "", " , ",
                                                  "1e308", "99999999999999999999", "true", "64 64"]))))
@settings(max_examples=300, deadline=None)
def test_junk_never_raises(query):
    cfg, warnings = from_query(query, check=lambda c: validate(c, DEMO_LIMITS))
    assert isinstance(cfg, SweepConfig)
    validate(cfg, DEMO_LIMITS)
    unknown = [key for key, value in query.items() if key not in BY_KEY and value != []]  # [] = absent
    for key in unknown[:MAX_NAMED]:  # the first ones are named, the rest counted
        assert any(repr(str(key)[:40]) in w for w in warnings)
    if len(unknown) > MAX_NAMED:
        assert any(f"and {len(unknown) - MAX_NAMED} more ignored" in w for w in warnings)


def test_parse_refuses_with_config_error_naming_the_key():
    with pytest.raises(ConfigError, match="seeds takes comma-separated whole numbers") as e:
        BY_KEY["seeds"].parse("1,two")
    assert e.value.field == "seeds"


@pytest.mark.parametrize("param", [p for p in PARAMS if p.low is not None or p.high is not None], ids=lambda p: p.key)
def test_declared_bounds_are_the_ones_the_config_checks(param):
    """A widget's min/max and help read the declaration; SweepConfig checks its own: they must not drift apart."""
    integer = param.kind in ("int", "ints", "batch")
    one = (lambda v: (v,)) if param.kind in ("ints", "floats") else (lambda v: v)
    extra = {"optimizers": ("sgd",)} if param.attr == "momentum" else {}
    step = 1 if integer else 1e-9
    make = lambda v: SweepConfig(**{param.attr: one(int(v) if integer else float(v))}, **extra)  # noqa: E731
    for bound, outside in ((param.low, -step), (param.high, step)):
        if bound is None:
            continue
        if not (bound == param.low and param.open_low):
            make(bound)
        else:
            make(bound + step)
        with pytest.raises(ConfigError) as e:
            make(bound + outside if not (bound == param.low and param.open_low) else bound)
        assert e.value.field == param.attr
    assert param.bounds()
