"""`python -m wdlab run --data FILE.csv --target COLUMN`: a good table end to end, every bad one exits 2 in one line."""
import io
import subprocess
import sys

import pandas as pd
import pytest

from wdlab.cli.main import main
from wdlab.settings.config import SweepConfig
from wdlab.data.reading import MB, CsvError
from wdlab.data.tables import load_csv
from wdlab.engine.sweep import run_sweep
from support import CSV_BAD as BAD, CSV_GOOD as GOOD


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("wdlab: error: "), err
    return err


def test_good_file_end_to_end(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_bytes(GOOD)
    args = ["run", "--data", str(path), "--target", "y", "--hidden", "8", "--epochs", "3", "--wd", "0", "0.1",
            "--seeds", "0", "1", "--batch-size", "16"]
    proc = subprocess.run([sys.executable, "-m", "wdlab", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(io.StringIO(proc.stdout))
    assert len(df) == 4 * 4 and "train_acc" not in df.columns
    assert "wdlab: skipped, not used as features: 'name'" in proc.stderr  # the notes say what was used
    cfg = SweepConfig(preset="csv", hidden=(8,), epochs=3, weight_decays=(0.0, 0.1), seeds=(0, 1), batch_size=16)
    expected = run_sweep(cfg, data=load_csv(GOOD, "y")).frame
    pd.testing.assert_frame_equal(df, expected, check_exact=False, rtol=1e-12)


def test_classification_and_task_override(tmp_path, capsys):
    path, out = tmp_path / "t.csv", tmp_path / "out.csv"
    path.write_bytes(GOOD)
    assert main(["run", "--data", str(path), "--target", "color", "--epochs", "2", "--wd", "0", "--out", str(out),
                 "--quiet"]) == 0
    df = pd.read_csv(out)
    assert {"train_acc", "val_acc"} <= set(df.columns) and capsys.readouterr().err == ""
    assert main(["run", "--data", str(path), "--target", "x2", "--task", "regression", "--epochs", "2",
                 "--wd", "0", "--out", str(out)]) == 0
    assert "train_acc" not in pd.read_csv(out).columns


CLI_BAD = [b for b in BAD if b[3] in (None, "regression", "classification")]  # other tasks: argparse refuses


@pytest.mark.parametrize("raw,target,task,kind", [b[1:] for b in CLI_BAD], ids=[b[0] for b in CLI_BAD])
def test_every_bad_file_exits_2_with_one_line(tmp_path, capsys, raw, target, task, kind):
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    argv = ["run", "--data", str(path), "--target", target, "--epochs", "1", "--wd", "0"]
    assert main(argv + (["--task", task] if task else [])) == 2
    message = one_error_line(capsys)[len("wdlab: error: "):-1]
    with pytest.raises(CsvError) as err:
        load_csv(raw, target, task)
    assert message == str(err.value)  # the core's message, word for word


def test_unknown_task_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--data", "x.csv", "--target", "y", "--task", "ranking"])
    assert exit_.value.code == 2 and "invalid choice: 'ranking'" in one_error_line(capsys)


@pytest.mark.parametrize("argv,says", [
    (["--data", "{good}"], "--data needs --target COLUMN"),
    (["--target", "y"], "--target applies to your own table"),
    (["--task", "regression"], "--task applies to your own table"),
    (["--preset", "csv"], "--preset csv needs --data FILE.csv"),
    (["--data", "{good}", "--target", "y", "--preset", "moons"], "drop --preset moons"),
    (["--data", "{missing}", "--target", "y"], "no such file"),
    (["--data", "{big}", "--target", "y"], "at most 5,000,000 bytes (5 MB)"),
    (["--data", "{good}", "--target", "y", "--epochs", "2000", "--batch-size", "1"], "too large"),
])
def test_flag_mistakes_exit_2_with_one_line(tmp_path, capsys, argv, says, monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")   # today's limits: off the demo 2000 epochs of batch 1 trains
    (tmp_path / "good.csv").write_bytes(GOOD)
    with open(tmp_path / "big.csv", "wb") as f:
        f.truncate(5 * MB + 1)
    paths = {"good": tmp_path / "good.csv", "missing": tmp_path / "nope.csv", "big": tmp_path / "big.csv"}
    argv = [a.format(**paths) for a in argv]
    assert main(["run", *argv, "--wd", "0"]) == 2
    assert says in one_error_line(capsys)
