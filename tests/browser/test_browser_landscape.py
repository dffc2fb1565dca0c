"""The Landscape page in Chromium: a link's maps fill in while the grid trains, and a clicked cell shows its curves."""
import pytest
from playwright.sync_api import expect

from support import ARTIFACTS

pytestmark = pytest.mark.browser
# 4,000 minibatch steps of 24 members 64 wide: seconds of training even on an idle machine
LINK = ("landscape?preset=moons&optimizer=adam,adamw&lr=0.001,0.01,0.1&wd=0,0.001,0.01,0.1&epochs=1000"
        "&batch-size=50&hidden=64")
CELLS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => (el._fullData || [])
    .filter(t => t.meta && t.meta.role === 'cells').map(t => ({n: t.customdata.length,
        colors: JSON.stringify(t.marker.color)})))
    .filter(c => c.length).map(c => c[0])"""
# Where a map's cell (its index in the cells trace) is on the screen, from plotly's own axes.
CELL_XY_JS = """([mapIndex, i]) => { const el = [...document.querySelectorAll('.js-plotly-plot')].filter(e =>
    (e._fullData || []).some(t => t.meta && t.meta.role === 'cells'))[mapIndex];
    const t = el._fullData.find(t => t.meta && t.meta.role === 'cells'); const L = el._fullLayout;
    const box = el.getBoundingClientRect();
    return [box.left + L.xaxis._offset + L.xaxis.l2p(t.x[i]),
            box.top + L.yaxis._offset + L.yaxis.l2p(Math.log10(t.y[i])), t.customdata[i]]; }"""


def test_maps_fill_in_live_then_a_clicked_cell_shows_its_curves(server, page):
    page.goto(server + LINK)
    page.get_by_text("Training: epoch").first.wait_for(timeout=120_000)
    # Both maps and the training line, read in one evaluation: a Streamlit redraw between two reads may
    # briefly remove the charts, so the maps and the "still training" check must come from the same moment.
    first, training = page.wait_for_function(
        f"() => {{ const c = ({CELLS_JS})(); return c.length === 2 &&"
        " [c, document.body.innerText.includes('Training: epoch')]; }", timeout=120_000).json_value()
    assert training, "the maps were first seen after training ended"
    assert len(first) >= 2 and {c["n"] for c in first} == {12}   # (a redraw may briefly show a stale copy)
    page.wait_for_function("() => !document.body.innerText.includes('Training: epoch')", timeout=600_000)
    expect(page.get_by_text("Click a cell to see its curves.")).to_be_visible(timeout=60_000)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)
    final = page.wait_for_function(   # the finished view's two maps, read in the same evaluation
        f"() => {{ const c = ({CELLS_JS})(); return c.length === 2 && c; }}", timeout=60_000).json_value()
    assert [c["colors"] for c in final] != [c["colors"] for c in first[-2:]]   # the colours changed as it trained
    x, y, data = page.evaluate(CELL_XY_JS, [1, 5])
    page.mouse.click(x, y)
    opt, lr, w = data
    expect(page.get_by_text(f"AdamW, lr {lr:g}, λ {w:g}")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Open these settings in the explorer")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landscape.png"), full_page=True)
