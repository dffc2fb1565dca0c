"""A table read as Windows-1252 (Excel's plain "CSV") exports a script that reads it the same way (issue 27)."""
from wdlab.codegen.data import csv_source
from wdlab.codegen.script import member_script
from wdlab.data.tables import load_csv
from wdlab.engine.sweep import run_sweep
from wdlab.settings.config import SweepConfig
from test_codegen import check_member

LATIN = ("ville;prix;surface;y\n" + "".join(f"{('Besançon', 'Orléans', 'Nîmes')[i % 3]};{i * 1.5};{i % 7};"
                                            f"{i * 2 + i % 3}\n" for i in range(40))).encode("cp1252")


def test_the_script_reads_a_windows_1252_table_as_the_app(tmp_path):
    (tmp_path / "ventes.csv").write_bytes(LATIN)
    cfg = SweepConfig(preset="csv", hidden=(8,), optimizers=("adam",), lrs=(0.01,), epochs=4,
                      weight_decays=(0.0, 0.01), seeds=(0,))
    data = load_csv(LATIN, "y")
    assert any("Windows-1252" in n for n in data.notes)
    frame = run_sweep(cfg, data=data).frame
    source = csv_source(LATIN, "ventes.csv", "y")
    assert source.encoding == "cp1252"
    code = member_script(cfg, 0.01, 0, csv=source)
    assert "encoding='cp1252'" in code
    check_member(cfg, frame, 0.01, 0, code, tmp_path)
