"""'Show me the code' on hostile tables (issue 26, item 4): long column names with spaces, quotes, slashes and
newlines come out quoted whole (the script compiles and reproduces the member), and the script reads only a plain
local file name: an uploaded file's name that is a URL, a path or otherwise not plain becomes data.csv."""
import csv
import io

import numpy as np
import pytest

from wdlab.cli.main import main
from wdlab.codegen.data import DEFAULT_FILE, csv_source, plain_file_name
from wdlab.codegen.script import member_script
from wdlab.data.tables import load_csv
from wdlab.engine.sweep import run_sweep
from wdlab.settings.config import SweepConfig
from test_codegen import check_member

# Ames-housing-style headers, then long and hostile ones (quotes of both kinds, a newline, a backslash, a
# triple quote, code); the target last
HEADERS = ["Lot Frontage", "Lot Area", "Year Built", "Year Remod/Add", "Mas Vnr Area", "BsmtFin SF 1",
           "Total Bsmt SF", "1st Flr SF", "Gr Liv Area", "Garage Yr Blt",
           "A very long column name, with a comma, that goes on and on well past the wrapping width " * 2,
           'it\'s "quoted" \'\'\' and """triple""" \\ with a backslash',
           "two\nlines and __import__('os').system('echo hacked')",
           "Neighborhood", "SalePrice"]
CFG = SweepConfig(preset="csv", hidden=(8,), optimizers=("adam",), lrs=(0.01,), epochs=4, weight_decays=(0.0, 0.01),
                  seeds=(0,), val_fraction=0.25)


def ames() -> bytes:
    rng = np.random.default_rng(0)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADERS)
    for i in range(60):
        x = rng.normal(size=len(HEADERS) - 2)
        w.writerow([f"{v:.4f}" for v in x] + [("NAmes", "OldTown", "Edwards")[i % 3], f"{x.sum() * 1000:.1f}"])
    return out.getvalue().encode()


def test_long_and_hostile_column_names_are_quoted_whole_and_the_script_reproduces_the_member(tmp_path):
    raw = ames()
    (tmp_path / "ames.csv").write_bytes(raw)
    source = csv_source(raw, "ames.csv", "SalePrice", None, 0.25)
    code = member_script(CFG, 0.01, 0, csv=source)
    compile(code, "member.py", "exec")          # before the fix: an unterminated string literal
    frame = run_sweep(CFG, data=load_csv(raw, "SalePrice", None, val_fraction=0.25)).frame
    check_member(CFG, frame, 0.01, 0, code, tmp_path)


def test_wdlab_code_on_hostile_names_prints_a_script_that_runs(capsys, tmp_path):
    (tmp_path / "ames.csv").write_bytes(ames())
    assert main(["code", "--data", str(tmp_path / "ames.csv"), "--target", "SalePrice", "--hidden", "8",
                 "--optimizer", "adam", "--lr", "0.01", "--epochs", "3", "--wd", "0", "--seeds", "0",
                 "--member", "0", "0"]) == 0
    code = capsys.readouterr().out
    compile(code, "member.py", "exec")
    assert "pd.read_csv('ames.csv'" in code          # the file by its own name, from the script's folder
    from support import run_script
    run_script(code, tmp_path)


def test_wdlab_code_never_prints_a_script_that_does_not_compile(monkeypatch, capsys):
    import wdlab.codegen.script as script
    monkeypatch.setattr(script, "_loop_lines", lambda cfg, seed: ["for epoch in range(:"])
    assert main(["code", "--preset", "tutorial", "--wd", "0", "--member", "0", "0"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "does not compile" in captured.err


@pytest.mark.parametrize("name", ["http://127.0.0.1:8719/x.csv", "../../etc/passwd", "/etc/passwd", "..", ".",
                                  "sub/x.csv", "C:\\x.csv", "c:x.csv", "~root", "~", "", "two\nlines.csv",
                                  "s3:x.csv", "x" * 300 + ".csv", "\u202ecsv.exe"])
def test_a_name_that_is_not_a_plain_local_file_name_reads_data_csv(name, tmp_path):
    raw = ames()
    assert plain_file_name(name) is None
    code = member_script(CFG, 0.0, 0, csv=csv_source(raw, name, "SalePrice", None, 0.25))
    compile(code, "member.py", "exec")
    assert f"pd.read_csv({DEFAULT_FILE!r}" in code and "put your table's file" in code
    assert "etc" not in code.split("import torch")[-1].split("table.columns")[0] and "8719" not in code


@pytest.mark.parametrize("name", ["my table.csv", "AmesHousing.csv", "ventes 2024 (final).csv", "données.csv"])
def test_a_plain_file_name_is_read_as_it_is(name):
    assert plain_file_name(name) == name
    code = member_script(CFG, 0.0, 0, csv=csv_source(ames(), name, "SalePrice", None, 0.25))
    assert f"pd.read_csv({name!r}" in code and "put your table's file" not in code
