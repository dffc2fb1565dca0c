"""`wdlab view FILE` in Chromium: a Parquet result of an lr grid opens on the Result file page with its curves, the
summary across λ and the Landscape's maps."""
import pytest

from support import charts, streamlit_server
from wdlab.cli.main import main

pytestmark = pytest.mark.browser


def test_wdlab_view_shows_a_runs_result(tmp_path, page):
    from playwright.sync_api import expect
    out = tmp_path / "grid.parquet"
    assert main(["run", "--preset", "moons", "--hidden", "8", "--optimizer", "adam", "adamw", "--lr", "0.003", "0.03",
                 "--wd", "0", "0.01", "0.1", "--seeds", "0", "1", "--epochs", "5", "--quiet", "--out", str(out)]) == 0
    with streamlit_server(env={"WDLAB_VIEW": str(out)}) as url:
        page.goto(url)   # the Result file page is the default one: the root
        expect(page.get_by_role("heading", name="Result file")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("grid.parquet: 24 members (adam, adamw; 2 learning rates, 3 λ values, 2 seeds), "
                                "5 epochs")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("heading", name="Landscape: learning rate × λ")).to_be_visible(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 8", timeout=60_000)
        assert len(charts(page)) >= 8   # 2 curves, the grid, 4 across λ, 2 maps
        expect(page.get_by_text("Page not found")).to_have_count(0)
