"""The phone (issue 27, item 8) in Chromium at 390 px, touch, beside a 1400 px desktop: Plotly's mode bar never
covers a chart's title or legend (measured by bounding boxes after a tap on every chart), no title runs off its
chart, "Across the grid" stacks, and the summary table shows validation loss and
‖w‖₂ without a sideways scroll."""
import pytest

from support import ARTIFACTS, idle

pytestmark = pytest.mark.browser
GRID = "?preset=moons&optimizer=adam,adamw&lr=0.001,0.01&wd=0,0.001,0.01,0.1,1&epochs=15&hidden=16"
GROK = "?preset=modular-addition-p23&epochs=300&wd=0,0.3"
# Per chart: its box, its titles (layout title and subplot titles), its legend and its mode bar (null when hidden
# or empty), its panels' roles.
BOXES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const rect = e => { if (!e) return null; const b = e.getBoundingClientRect();
        return b.width > 0 && b.height > 0 && getComputedStyle(e).visibility !== 'hidden'
            ? {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width} : null; };
    const bar = el.querySelector('.modebar-container');
    const shown = bar && getComputedStyle(bar).display !== 'none' && el.querySelector('.modebar')
        && +getComputedStyle(el.querySelector('.modebar')).opacity > 0;
    return {box: rect(el),
            titles: [...el.querySelectorAll('.g-gtitle text, .annotation')].map(e => ({text: e.textContent,
                                                                                       rect: rect(e)})),
            legend: rect(el.querySelector('g.legend')), modebar: shown ? rect(el.querySelector('.modebar')) : null,
            panels: [...new Set((el._fullData || []).map(t => t.meta && t.meta.panel).filter(p => p))],
            roles: [...new Set((el._fullData || []).map(t => t.meta && t.meta.role).filter(p => p))],
            names: (el._fullData || []).map(t => t.name)}; })"""
# The summary table's columns in view (the data grid's accessible table holds only those), before any scroll.
COLUMNS_JS = """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].map(d => {
    const grid = d.querySelector('table[role=grid]'), scroller = d.querySelector('.dvn-scroller');
    return {left: scroller ? scroller.scrollLeft : null,
            heads: grid ? [...grid.querySelectorAll('th')].map(th => th.innerText) : []}; })"""


def overlaps(a, b) -> bool:
    return a is not None and b is not None and a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1 \
        and a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1


def open_page(browser, server, query, width):
    phone = width < 500
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.goto(server + query)
    page.get_by_text("Trained ").first.wait_for(timeout=300_000)   # or "… not trained again" (a reused run)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=180_000)
    idle(page)
    return context, page


def tap_every_chart(page) -> list[dict]:
    """Touch (or hover) every chart, as a visitor reading it does, then measure: a tap is what shows Plotly's
    mode bar on a phone."""
    charts = page.locator(".js-plotly-plot")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.hover(position={"x": 40, "y": 12}, force=True)
    return page.evaluate(BOXES_JS)


def assert_nothing_covered(charts: list[dict], width: int) -> None:
    for c in charts:
        if c["box"] is None:
            continue
        for t in c["titles"]:
            assert not overlaps(c["modebar"], t["rect"]), (t["text"], c["modebar"])
            if t["rect"] is not None and t["text"]:
                assert t["rect"]["right"] <= min(c["box"]["right"], width) + 1, t   # not clipped at the edge
        assert not overlaps(c["modebar"], c["legend"]), (c["names"][:3], c["modebar"], c["legend"])
        if width < 500:   # a phone's legend wraps into more rows than a desktop's: its room holds them all
            for t in c["titles"]:
                if t["rect"] is not None and t["text"] and c["legend"] is not None:
                    assert not overlaps(t["rect"], c["legend"]), (t["text"], t["rect"], c["legend"])


@pytest.mark.parametrize("width", [390, 1400])
def test_the_explorer_at_phone_width_keeps_titles_legends_and_numbers_in_view(server, browser, width):
    context, page = open_page(browser, server, GRID, width)
    try:
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 12", timeout=60_000)
        charts = tap_every_chart(page)
        bars = [c["modebar"] for c in charts if c["modebar"] is not None]
        if width == 390:
            assert_nothing_covered(charts, width)
            assert not bars                    # hidden on a phone: a tap left it on titles and legends
        else:
            assert bars                        # a desktop keeps its toolbar, shown while the pointer is on a chart
            curves = next(c for c in charts if c["titles"] and c["titles"][0]["text"].startswith("Training loss"))
            assert not overlaps(curves["modebar"], curves["titles"][0]["rect"])   # four buttons, not eight
        # Across the grid: a figure per panel; on a phone one above the other, each nearly the screen's width
        grid = [c for c in charts if "AdamW, lr 0.01" in c["names"] and c["panels"]]
        assert [c["panels"] for c in grid] == [["l2_norm"], ["val_loss"]]
        a, b = grid[0]["box"], grid[1]["box"]
        if width == 390:
            assert b["top"] >= a["bottom"] - 1 and a["width"] > 300 and b["width"] > 300
        else:
            assert abs(a["top"] - b["top"]) < 2
        # the λ panels: one grid figure (plots/model_grid.py), within the screen
        grids = [c["box"] for c in charts if "boundary" in c["roles"]]
        assert grids and all(g["right"] <= width + 1 and g["width"] > (300 if width == 390 else 600) for g in grids)
        # the grid's table: which group and λ, then validation loss, in view before any sideways scroll (‖w‖₂
        # follows it; a single group's table shows it too: the grokking test below)
        page.locator("[data-testid=stDataFrame]").last.scroll_into_view_if_needed()
        table = page.evaluate(COLUMNS_JS)[-1]
        heads = table["heads"]
        assert table["left"] == 0
        assert heads[:4] == ["optimizer", "lr", "λ (weight_decay)", "val loss at best epoch"], heads
        if width == 1400:
            assert heads[4] == "‖w‖₂"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"phone_explorer_{width}.png"), full_page=True)
    finally:
        context.close()


def test_the_grokking_view_at_phone_width_keeps_its_titles_whole_and_its_grok_step_in_view(server, browser):
    context, page = open_page(browser, server, GROK, 390)
    try:
        charts = tap_every_chart(page)
        assert_nothing_covered(charts, 390)
        acc = next(c for c in charts if "acc" in c["panels"])
        title = next(t for t in acc["titles"] if t["text"].startswith("Accuracy"))
        assert title["rect"]["left"] >= acc["box"]["left"] and title["rect"]["right"] <= acc["box"]["right"]
        page.locator("[data-testid=stDataFrame]").first.scroll_into_view_if_needed()
        heads = page.evaluate(COLUMNS_JS)[0]["heads"]
        assert heads[:3] == ["λ (weight_decay)", "val acc ≥ 90% at step", "delay (steps)"], heads
        # the summary table across λ: validation loss and ‖w‖₂ in view without a sideways scroll; the column
        # after ‖w‖₂ in view too (partly) proves ‖w‖₂ itself is whole
        page.locator("[data-testid=stDataFrame]").last.scroll_into_view_if_needed()
        table = page.evaluate(COLUMNS_JS)[-1]
        assert table["left"] == 0 and len(table["heads"]) >= 4, table
        assert table["heads"][:4] == ["λ (weight_decay)", "val loss at best epoch", "‖w‖₂", "train loss at best epoch"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone_grokking_390.png"), full_page=True)
    finally:
        context.close()


def test_a_landscape_cells_curves_keep_their_legend_off_the_title_at_phone_width(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 900}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "landscape?preset=moons&optimizer=adam,adamw&lr=0.01,0.1&wd=0,0.1&epochs=20&hidden=16")
        page.get_by_text("Click a cell to see its curves").wait_for(timeout=300_000)
        idle(page)
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        # the first map's cell at lr 0.1, λ 0.1, where Plotly draws it on the screen
        x, y = page.evaluate("""() => { const el = document.querySelector('.js-plotly-plot');
            const t = el._fullData.find(t => t.meta && t.meta.role === 'cells'), L = el._fullLayout;
            const i = t.customdata.findIndex(d => d[1] === 0.1 && d[2] === 0.1), box = el.getBoundingClientRect();
            return [box.left + L.xaxis._offset + L.xaxis.d2p(t.x[i]), box.top + L.yaxis._offset + L.yaxis.d2p(t.y[i])]; }""")
        page.mouse.click(x, y)
        page.get_by_text("Open these settings in the explorer").wait_for(timeout=60_000)
        idle(page)
        page.get_by_text("Open these settings in the explorer").scroll_into_view_if_needed()
        charts = tap_every_chart(page)
        assert_nothing_covered(charts, 390)
        cell = next(c for c in charts if "val" in c["roles"] and "line" in c["roles"])
        title = next(t for t in cell["titles"] if t["text"].startswith("Loss"))
        assert not overlaps(title["rect"], cell["legend"]), (title, cell["legend"])   # "(validation)" sat on it
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone_landscape_cell_390.png"))
    finally:
        context.close()
