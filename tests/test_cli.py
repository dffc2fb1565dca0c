"""`python -m wdlab run`: flags -> the same sweep as the API, CSV out, progress on stderr, one-line errors."""
import io
import subprocess
import sys

import pandas as pd
import pytest

from wdlab.cli import config_from_args, build_parser, main
from wdlab.config import SweepConfig
from wdlab.sweep import run_sweep

SMALL = ["run", "--preset", "moons", "--hidden", "8", "4", "--epochs", "3", "--wd", "0", "1e-2", "--seeds", "0", "1"]


def run_main(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_flags_make_the_config_they_say():
    args = build_parser().parse_args([
        "run", "--preset", "diabetes", "--hidden", "64", "64", "--activation", "tanh", "--optimizer", "sgd",
        "--momentum", "0.9", "--lr", "0.05", "--epochs", "7", "--batch-size", "32", "--wd", "0", "1e-4", "1e-2",
        "--seeds", "2", "0", "1", "--no-decay-bias", "--val-fraction", "0.3", "--dtype", "float64"])
    assert config_from_args(args) == SweepConfig(
        preset="diabetes", hidden=(64, 64), activation="tanh", optimizer="sgd", momentum=0.9, lr=0.05, epochs=7,
        batch_size=32, weight_decays=(0.0, 1e-4, 1e-2), seeds=(0, 1, 2), decay_bias=False, val_fraction=0.3,
        dtype="float64")
    assert config_from_args(build_parser().parse_args(["run"])) == SweepConfig()
    assert config_from_args(build_parser().parse_args(["run", "--hidden"])).hidden == ()   # a linear model


def test_stdout_csv_is_the_sweeps_frame(capsys):
    code, out, err = run_main(SMALL, capsys)
    assert code == 0 and err == ""
    expected = run_sweep(SweepConfig(preset="moons", hidden=(8, 4), epochs=3, weight_decays=(0.0, 1e-2),
                                     seeds=(0, 1))).frame
    got = pd.read_csv(io.StringIO(out))
    pd.testing.assert_frame_equal(got, expected, check_exact=True)   # floats are written to round-trip


def test_out_file_gets_the_same_csv(tmp_path, capsys):
    target = tmp_path / "sweep.csv"
    code, out, _ = run_main(SMALL + ["--out", str(target)], capsys)
    assert code == 0 and out == ""
    _, stdout_csv, _ = run_main(SMALL, capsys)
    assert target.read_text() == stdout_csv


def test_progress_bar_on_stderr_for_long_sweeps_unless_quiet(capsys):
    long = ["run", "--preset", "highdim-linear", "--hidden", "--epochs", "25", "--wd", "0", "--seeds", "0"]
    code, out, err = run_main(long, capsys)
    assert code == 0 and "epoch 25/25" in err and err.endswith("\n") and "[" in err
    assert len(pd.read_csv(io.StringIO(out))) == 26
    code, _, err = run_main(long + ["--quiet"], capsys)
    assert code == 0 and err == ""


def test_diverged_members_are_reported_on_stderr(capsys):
    code, out, err = run_main(["run", "--preset", "tutorial", "--hidden", "4", "--optimizer", "sgd", "--lr", "0.5",
                               "--epochs", "15", "--wd", "0", "20", "--seeds", "0", "--quiet"], capsys)
    df = pd.read_csv(io.StringIO(out))
    epoch = int(df[df.diverged].epoch.item())
    assert code == 0 and f"weight_decay=20 seed=0 diverged at epoch {epoch}" in err


@pytest.mark.parametrize("argv,says", [
    (["run", "--optimizer", "rmsprop"], "optimizer='rmsprop' is not valid: optimizer takes one of sgd, adam, adamw"),
    (["run", "--lr", "fast"], "lr takes a finite number"),
    (["run", "--lr", "0"], "lr must be a finite number > 0"),
    (["run", "--epochs", "-3"], "epochs must be a whole number ≥ 1"),
    (["run", "--wd"], "give at least one weight_decay value"),
    (["run", "--wd", "0.1", "0.1"], "weight_decay values must be distinct"),
    (["run", "--seeds", "a"], "seeds takes comma-separated whole numbers"),
    (["run", "--momentum", "0.9"], "momentum applies to sgd only"),
    (["run", "--preset", "mnist"], "preset takes one of tutorial"),
    (["run", "--epochs", "100000"], "too large: 100000 epochs (at most 2000)"),
    (["run", "--hidden", "64", "0"], "hidden widths must be whole numbers ≥ 1"),
    (["run", "--val-fraction", "0.9"], "val_fraction must be a finite number ≥ 0.05 and ≤ 0.5"),
    (["run", "--out", "/no/such/folder/x.csv"], "its folder does not exist"),
    (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "the following arguments are required"),
])
def test_bad_flags_exit_2_with_one_clear_line(argv, says, capsys):
    with pytest.raises(SystemExit) as e:
        code = main(argv)
        raise SystemExit(code)
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == ""
    assert err.startswith("wdlab: error: ") and err.count("\n") == 1 and says in err, err


def test_real_process_exit_status_and_no_traceback():
    bad = subprocess.run([sys.executable, "-m", "wdlab", "run", "--lr", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("wdlab: error: lr") and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
