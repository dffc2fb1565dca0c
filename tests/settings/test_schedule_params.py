"""The schedule's settings and the compare-at reading: the share link and the CLI flags round-trip every schedule;
bad values get a message naming the key and what it takes (a link: a warning and the default; the CLI: one line)."""
import pytest

from wdlab.cli.args import build_parser, config_from_args
from wdlab.cli.main import main
from wdlab.settings.config import SweepConfig
from wdlab.settings.params import BY_ATTR, from_query, to_query

SCHEDULED = [SweepConfig(preset="moons", epochs=40, schedule="cosine", warmup_epochs=5),
             SweepConfig(preset="sine", epochs=9, schedule="step", step_period=4, step_gamma=0.35, warmup_epochs=1),
             SweepConfig(preset="tutorial", epochs=2, schedule="constant", warmup_epochs=1),
             SweepConfig(preset="digits", epochs=300, schedule="step", step_period=1, step_gamma=1.0)]


def flags(cfg: SweepConfig) -> list[str]:
    """cfg as `wdlab run` flags, written from the same declarations the link uses."""
    out = ["run"]
    for key, value in to_query(cfg).items():
        if key in ("wd", "seeds", "lr", "optimizer"):
            out += [f"--{key}", *value.split(",")]
        elif key == "hidden":
            out += ["--hidden", *value.split(",")]
        elif key == "decay-bias":
            out += [] if value == "true" else ["--no-decay-bias"]
        elif key in ("batch-size", "val-fraction") and value in ("full", "default"):
            continue
        else:
            out += [f"--{key}", value]
    return out


@pytest.mark.parametrize("cfg", SCHEDULED, ids=lambda c: f"{c.schedule}-{c.warmup_epochs}")
def test_a_schedule_rides_in_the_share_link_and_the_cli_flags(cfg):
    query = to_query(cfg)
    assert {k: query[k] for k in ("schedule", "warmup-epochs", "step-period", "step-gamma")} == {
        "schedule": cfg.schedule, "warmup-epochs": str(cfg.warmup_epochs), "step-period": str(cfg.step_period),
        "step-gamma": repr(cfg.step_gamma)}
    assert from_query(query) == (cfg, [])
    assert config_from_args(build_parser().parse_args(flags(cfg))) == cfg


@pytest.mark.parametrize("query,says", [
    ({"schedule": "linear"}, "schedule='linear' is not valid: schedule takes one of constant, cosine, step"),
    ({"schedule": "<b>cosine</b>"}, "schedule='<b>cosine</b>' is not valid"),
    ({"epochs": "100", "warmup-epochs": "100"}, "warmup_epochs (fewer than the epochs) must be a whole number from "
                                                "0 to 99, got 100"),
    ({"warmup-epochs": "-1"}, "must be a whole number from 0"),
    ({"warmup-epochs": "2.5"}, "warmup-epochs"),
    ({"step-period": "0"}, "step_period must be a whole number ≥ 1, got 0"),
    ({"step-gamma": "0"}, "step_gamma must be a finite number > 0 and ≤ 1, got 0.0"),
    ({"step-gamma": "1.5"}, "step_gamma must be a finite number > 0 and ≤ 1, got 1.5"),
    ({"step-gamma": "nan"}, "step-gamma"),
])
def test_a_bad_schedule_value_in_a_link_is_named_and_the_default_used(query, says):
    cfg, warnings = from_query(query)
    assert len(warnings) == 1 and says in warnings[0], warnings
    key = next(k for k in query if k != "epochs")
    attr = {"warmup-epochs": "warmup_epochs", "step-period": "step_period", "step-gamma": "step_gamma"}.get(key, key)
    assert BY_ATTR[attr].format(getattr(cfg, attr)) == BY_ATTR[attr].format(getattr(SweepConfig(), attr))
    assert warnings[0].endswith(f"using the default {BY_ATTR[attr].format(getattr(SweepConfig(), attr))}")


@pytest.mark.parametrize("argv,says", [
    (["--schedule", "linear"], "schedule='linear' is not valid: schedule takes one of constant, cosine, step"),
    (["--epochs", "10", "--warmup-epochs", "10"], "warmup_epochs (fewer than the epochs) must be a whole number "
                                                  "from 0 to 9, got 10"),
    (["--schedule", "step", "--step-gamma", "0"], "step_gamma must be a finite number > 0 and ≤ 1, got 0.0"),
    (["--schedule", "step", "--step-period", "0"], "step_period must be a whole number ≥ 1, got 0"),
    (["--step-gamma", "abc"], "step-gamma='abc' is not valid: step-gamma takes a finite number"),
    (["--compare-at", "median"], "invalid choice: 'median' (choose from 'best', 'final', 'last')"),
])
def test_a_bad_schedule_flag_is_one_line_exit_2_before_training(argv, says, capsys):
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["run", "--preset", "moons", "--hidden", "4", *argv, "--quiet"]))
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == ""
    assert err.startswith("wdlab: error: ") and err.count("\n") == 1 and says in err, err
