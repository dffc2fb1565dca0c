"""`wdlab run`: flags -> the same sweep as the API, CSV out, progress on stderr, one-line errors, Ctrl-C keeps work."""
import io
import os
import subprocess
import sys

import pandas as pd
import pytest

from wdlab.cli.args import build_parser, config_from_args
from wdlab.cli.main import main
from wdlab.settings.config import SweepConfig, preset_config
from wdlab.engine.sweep import run_sweep
from support import ROOT, interrupted_run

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
        preset="diabetes", hidden=(64, 64), activation="tanh", optimizers=("sgd",), momentum=0.9, lrs=(0.05,), epochs=7,
        batch_size=32, weight_decays=(0.0, 1e-4, 1e-2), seeds=(0, 1, 2), decay_bias=False, val_fraction=0.3,
        dtype="float64")
    assert config_from_args(build_parser().parse_args(["run"])) == preset_config("tutorial")  # the course's run
    assert config_from_args(build_parser().parse_args(["run", "--hidden"])).hidden == ()   # a linear model


def test_grid_flags_take_several_learning_rates_and_optimizers(capsys):
    args = build_parser().parse_args(["run", "--lr", "0.003", "0.001", "--optimizer", "adamw", "adam", "rmsprop",
                                      "--norm", "layernorm"])
    cfg = config_from_args(args)
    assert (cfg.lrs, cfg.optimizers, cfg.norm) == ((0.001, 0.003), ("adam", "adamw", "rmsprop"), "layernorm")
    code, out, err = run_main(["run", "--preset", "moons", "--hidden", "4", "--epochs", "2", "--wd", "0", "0.1",
                               "--lr", "0.01", "0.1", "--optimizer", "sgd", "adamw", "--quiet"], capsys)
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and len(df) == 2 * 2 * 2 * 3
    assert sorted(set(zip(df.optimizer, df.lr))) == [("adamw", 0.01), ("adamw", 0.1), ("sgd", 0.01), ("sgd", 0.1)]


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
    (["run", "--optimizer", "lion"],
     "optimizer='lion' is not valid: optimizer takes comma-separated names from sgd, adam, adamw, rmsprop"),
    (["run", "--norm", "batchnorm"], "norm='batchnorm' is not valid: norm takes one of none, layernorm"),
    (["run", "--lr", "0.1", "0.1"], "learning rates must be distinct"),
    (["run", "--lr", "fast"], "lr takes comma-separated finite numbers"),
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
    (["run", "--out", "/tmp/"], "that is a folder; give a file name"),
    (["run", "--out", "/proc/wdlab.csv"], "cannot create a file in /proc"),
    (["run", "--batch-size", "0"], "batch_size must be a whole number ≥ 1, got 0"),
    (["run", "--threads", "0"], "--threads: takes a whole number ≥ 1"),
    # absurd numbers: one line, not a traceback from torch or a raylet killed (issue 26, item 7)
    (["run", "--threads", "99999999999999999"], "--threads: takes at most"),
    (["run", "--backend", "ray", "--ray-cpus", "99999999999999"], "--ray-cpus: takes at most"),
    (["run", "--workers", "99999999999999999999"], "--workers: takes a whole number from 1 to"),
    (["run", "--data", "/tmp"], "is a folder; pass a CSV file"),
    (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "the following arguments are required"),
])
def test_bad_flags_exit_2_with_one_clear_line(argv, says, capsys, monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")   # today's limits (100000 epochs trains off the demo: test_cli_limits)
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


def heavy_imports(*argv: str, demo: bool = True) -> set[str]:
    """Which of torch, pandas and scikit-learn a fresh `python -m wdlab ...` process imports (in demo mode: today's
    limits refuse --epochs 100000, which trains off the demo)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "wdlab", *argv], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, WDLAB_DEMO="1" if demo else "0"))
    names = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    return names & {"torch", "pandas", "sklearn"}


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["run", "--lr", "fast"], ["run", "--epochs", "0"],
                                  ["run", "--out", "/no/such/folder/x.csv"], ["run", "--epochs", "100000"],
                                  ["run", "--data", "/tmp"], ["fly"]])
def test_help_and_flag_errors_import_no_torch_pandas_or_sklearn(argv):
    assert heavy_imports(*argv) == set()


@pytest.mark.parametrize("argv", [["run", "--epochs", "100000", "--dry-run"],
                                  ["run", "--preset", "digits", "--hidden", "100000", "100000"]])
def test_off_the_demo_estimates_and_refusals_import_no_torch_pandas_or_sklearn(argv):
    assert heavy_imports(*argv, demo=False) == set()


def test_a_run_on_the_courses_data_imports_no_sklearn(tmp_path):
    assert "sklearn" not in heavy_imports("run", "--epochs", "1", "--wd", "0", "--hidden", "2", "--out",
                                          str(tmp_path / "x.csv"))


def test_a_fifo_is_refused_at_once_without_blocking(tmp_path):
    fifo = tmp_path / "table.csv"
    os.mkfifo(fifo)
    out = subprocess.run([sys.executable, "-m", "wdlab", "run", "--data", str(fifo), "--target", "y"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)   # opening a FIFO would block forever
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "not a regular file" in out.stderr


def test_an_unwritable_out_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "some_folder").mkdir()
    code, out, err = run_main(SMALL + ["--out", str(tmp_path / "some_folder") + "/"], capsys)
    assert code == 2 and out == "" and "that is a folder" in err and "epoch" not in err


def test_the_out_file_is_never_left_half_written(tmp_path, capsys):
    target = tmp_path / "sweep.csv"
    target.write_text("old results\n")
    code, *_ = run_main(SMALL + ["--out", str(target)], capsys)
    assert code == 0 and target.read_text().startswith("optimizer,lr,weight_decay,") and list(tmp_path.iterdir()) == [target]


def test_ctrl_c_writes_the_epochs_done_says_so_and_exits_130(tmp_path):
    target = tmp_path / "sweep.csv"
    # about 1.7e12 multiply-adds: half a minute or more, whatever the machine, so the signal comes mid-run
    code, text = interrupted_run(["--preset", "tutorial", "--hidden", "256", "256", "--epochs", "2000",
                                  "--batch-size", "50", "--wd", "0", "0.01", "--seeds", "0", "--out", str(target)])
    assert code == 130
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    last = text.strip().splitlines()[-1]
    frame = pd.read_csv(target)
    done = int(frame.epoch.max())
    assert 1 <= done < 2000 and len(frame) == 2 * (done + 1)   # whole epochs only, both members
    assert last == f"wdlab: interrupted: wrote the {done} epochs finished of 2000 to {target}"


def test_threads_flag_sets_torchs_thread_count(capsys, monkeypatch):
    import torch
    seen = []
    import wdlab.engine.sweep
    real = wdlab.engine.sweep.run_sweep
    monkeypatch.setattr(wdlab.engine.sweep, "run_sweep", lambda *a, **k: (seen.append(torch.get_num_threads()), real(*a, **k))[1])
    before = torch.get_num_threads()
    try:
        assert run_main(SMALL + ["--threads", "2"], capsys)[0] == 0
        assert run_main(SMALL, capsys)[0] == 0
    finally:
        torch.set_num_threads(before)
    assert seen == [2, 1]


def test_backend_ray_without_ray_says_how_to_get_it_in_one_line():
    code = ("import sys; sys.modules['ray'] = None\nfrom wdlab.cli.main import main\n"
            "sys.exit(main(['run', '--backend', 'ray', '--epochs', '1', '--wd', '0', '--hidden', '2', '--quiet']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1
    assert out.stderr.startswith("wdlab: error: --backend ray needs Ray") and "pip install" in out.stderr


def test_ray_flags_without_the_ray_backend_are_refused(capsys):
    code, _, err = run_main(SMALL + ["--address", "127.0.0.1:6379"], capsys)
    assert code == 2 and "apply to --backend ray" in err


def test_summary_prints_the_best_lambda_per_optimizer_and_lr(capsys):
    from wdlab.frame.landscape import summary_lines
    from wdlab.registry.optimizers import OPTIMIZERS
    from wdlab.cli.args import build_parser, configs_from_args
    from wdlab.cli.main import laws_lines
    argv = ["run", "--preset", "moons", "--hidden", "8", "--epochs", "5", "--lr", "0.01", "0.1",
            "--optimizer", "adam", "adamw", "--wd", "0", "0.1", "--summary", "--quiet"]
    code, out, err = run_main(argv, capsys)
    frame = pd.read_csv(io.StringIO(out))
    assert code == 0 and set(frame.optimizer) == {"adam", "adamw"} and set(frame.lr) == {0.01, 0.1}
    expected = summary_lines(frame, {n: s.label for n, s in OPTIMIZERS.items()}, "val_acc")
    # then the laws: AdamW's box for its two λ = 0.1 members, and their τ (no normalization: no rotation)
    laws = laws_lines(configs_from_args(build_parser().parse_args(argv)), frame, None)
    assert laws[0] == "laws (predicted vs measured):" and len(laws) == 1 + 2 + 2
    assert err.splitlines() == [f"wdlab: {line}" for line in expected + laws] and len(expected) == 1 + 4 + 2


def test_summary_names_the_schedule_in_its_first_line(capsys):
    code, _, err = run_main(["run", "--preset", "moons", "--hidden", "8", "--epochs", "6", "--optimizer", "adamw",
                             "--wd", "0", "0.1", "--schedule", "cosine", "--warmup-epochs", "2", "--summary",
                             "--quiet"], capsys)
    assert code == 0
    assert err.splitlines()[0].endswith("(mean over seeds), trained under cosine after 2 warmup epochs:"), err


def test_summary_reads_where_compare_at_says_and_says_so(capsys):
    from wdlab.frame.landscape import summary_lines
    from wdlab.registry.optimizers import OPTIMIZERS
    from wdlab.settings.reading import COMPARED_AT, DEFAULT_AT, describe_at
    labels = {n: s.label for n, s in OPTIMIZERS.items()}
    argv = ["run", "--preset", "moons", "--epochs", "100", "--wd", "0", "0.1", "--summary", "--quiet"]
    printed = {}
    for at in COMPARED_AT:
        code, out, err = run_main(argv + ([] if at == DEFAULT_AT else ["--compare-at", at]), capsys)
        assert code == 0
        expected = summary_lines(pd.read_csv(io.StringIO(out)), labels, "val_acc", at)
        assert expected[0].startswith(f"best λ by val_acc read {describe_at(at)} (mean over seeds)")
        assert err.splitlines()[:len(expected)] == [f"wdlab: {line}" for line in expected]
        printed[at] = expected[1]
    assert len(set(printed.values())) > 1, printed   # the readings give different numbers
