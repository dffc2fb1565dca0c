"""`wdlab view FILE`'s page: a result of wdlab run shown with the app's views; a bad file is one error."""
import pytest
from streamlit.testing.v1 import AppTest

from support import ROOT
from wdlab.cli.main import main

GRID = ["run", "--preset", "moons", "--hidden", "8", "--optimizer", "adam", "adamw", "--lr", "0.003", "0.03",
        "--wd", "0", "0.01", "0.1", "--seeds", "0", "1", "--epochs", "4", "--quiet"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_the_view_page_shows_a_runs_result(tmp_path, monkeypatch, suffix, fresh_streamlit):
    out = tmp_path / f"grid.{suffix}"
    assert main([*GRID, "--out", str(out)]) == 0
    monkeypatch.setenv("WDLAB_VIEW", str(out))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and at.title[0].value == "Result file"
    assert any("24 members (adam, adamw; 2 learning rates, 3 λ values, 2 seeds), "
               "4 epochs" in t.value for t in at.text)
    shown = [s.value for s in at.subheader]
    assert "Landscape: learning rate × λ" in shown and any(s.startswith("Across λ") for s in shown)


def test_a_file_that_is_not_a_result_is_one_error(tmp_path, monkeypatch, fresh_streamlit, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    monkeypatch.setenv("WDLAB_VIEW", str(bad))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and "not a result of wdlab run (missing columns: optimizer" in at.error[0].value
    assert main(["view", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"wdlab: error: {bad}: not a result of wdlab run")
