"""`wdlab run --out x.parquet`: the same frame as the CSV, in Parquet; without pyarrow one clear line before training."""
import io
import sys

import pandas as pd

from wdlab.cli.main import main

SMALL = ["run", "--preset", "moons", "--hidden", "4", "--epochs", "3", "--wd", "0", "0.1", "--seeds", "0", "1",
         "--quiet"]


def test_parquet_holds_the_csvs_frame(tmp_path, capsys):
    assert main([*SMALL, "--out", str(tmp_path / "x.parquet")]) == 0
    assert main(SMALL) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"), csv, check_exact=True,
                                  check_dtype=False)
    assert not (tmp_path / "x.parquet.parts").exists()


def test_parquet_without_pyarrow_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)   # import pyarrow now raises ImportError
    assert main([*SMALL, "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err == f"wdlab: error: --out {tmp_path / 'x.parquet'}: writing Parquet needs pyarrow (pip install " \
                  "pyarrow); or give a .csv name\n"
    assert not (tmp_path / "x.parquet").exists()
