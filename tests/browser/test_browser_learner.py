"""The learner's pages in Chromium: typing an exact λ, and the layouts at phone width (390 px) and desktop width."""
import pytest
from playwright.sync_api import expect

from support import streamlit_server, ARTIFACTS, idle, wait_final

pytestmark = pytest.mark.browser
SHORT = "?preset=moons&optimizer=adamw&wd=0,0.01,0.1,1&seeds=0,1&epochs=20&hidden=16"
# Per chart: its box on the page, and whether its legend (if any) sits above its plot area.
BOXES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const box = el.getBoundingClientRect(), plot = el.querySelector('.nsewdrag'), legend = el.querySelector('g.legend');
    const p = plot ? plot.getBoundingClientRect() : null, l = legend ? legend.getBoundingClientRect() : null;
    return {left: box.left, right: box.right, top: box.top, bottom: box.bottom, width: box.width,
            plotWidth: p ? p.width : 0, legendAbove: l && p ? l.bottom <= p.top + 2 : null,
            summary: (el._fullData || []).some(t => t.meta && t.meta.role === 'summary')}; })"""


WD_BOX = '[data-testid="stSidebar"] [data-testid="stMultiSelect"]'   # the first multiselect: the λ values


def tags(page) -> list[str]:
    """The λ multiselect's tags (the optimizer and lr multiselects below it have their own)."""
    return page.locator(WD_BOX).first.locator('[data-testid="stMultiSelectTagsContainer"] [data-tag]') \
        .evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")


def test_typing_an_exact_lambda_adds_that_value_sorted(server, page):
    page.goto(server)
    field = page.get_by_role("combobox", name="weight_decay values λ")
    expect(field).to_be_visible(timeout=60_000)
    for typed in ("1", "3e-4", "3"):
        field.click()
        field.fill(typed)
        field.press("Enter")
        idle(page)
    page.keyboard.press("Escape")
    shown = [t.strip() for t in tags(page)]
    # typing 1 used to add 1e-05 (the first grid value starting with "1"), and 3 added 3e-05
    assert "λ = 1e-05" not in shown and "λ = 3e-05" not in shown
    assert shown == ["λ = 0", "λ = 0.0001", "λ = 0.0003", "λ = 0.001", "λ = 0.01", "λ = 0.1", "λ = 1", "λ = 3"]
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(lambda url: "wd=0.0%2C0.0001%2C0.0003%2C0.001%2C0.01%2C0.1%2C1.0%2C3.0" in url, timeout=30_000)
    wait_final(page)  # the sweep of exactly these values trains


def boxes(page) -> list[dict]:
    return page.evaluate(BOXES_JS)


@pytest.mark.parametrize("width", [390, 1400])
def test_panels_stack_at_phone_width_and_stand_side_by_side_on_a_desktop(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server + SHORT)
        wait_final(page)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 6", timeout=60_000)
        idle(page)
        charts = boxes(page)
        # the curves come first; the 4 summaries across λ are found by their traces (the laws section's
        # max|w| figure sits between them)
        loss, norm, summaries = charts[0], charts[1], [c for c in charts if c["summary"]]
        assert len(summaries) == 4
        assert loss["legendAbove"] is True  # never beside the plot, where a phone has no room
        if width == 390:
            assert norm["top"] >= loss["bottom"] - 1  # stacked
            for c in (loss, norm, *summaries):
                assert c["width"] > 300 and c["plotWidth"] > 220, c  # each panel gets (nearly) the width
            for a, b in zip(summaries, summaries[1:]):
                assert b["top"] >= a["bottom"] - 1
        else:
            assert abs(norm["top"] - loss["top"]) < 2 and norm["left"] >= loss["right"] - 1  # side by side
            assert abs(summaries[1]["top"] - summaries[0]["top"]) < 2  # a 2 × 2 grid
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"learner_explorer_{width}.png"), full_page=True)
    finally:
        context.close()


def test_the_comparison_page_stacks_at_phone_width_and_shares_its_scales(browser):
    # a server of its own: the explorer tests before it leave sweeps running on the module's server until their
    # heartbeat ends, and the comparison's two runs would wait behind them
    with streamlit_server() as server:
        _comparison_page(server, browser)


def _comparison_page(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(server + "adam-vs-adamw")
        page.get_by_text("Norm and validation loss against λ").wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 6", timeout=300_000)
        idle(page)
        charts = boxes(page)
        assert all(c["width"] > 300 for c in charts)
        tops = [c["top"] for c in charts]
        assert tops == sorted(tops) and len(set(round(t) for t in tops)) == len(tops)  # one above the other
        # each run's loss and norm figures (the model pictures under each run are left out)
        ranges = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
            .filter(el => (el._fullData || []).some(t => t.meta && t.meta.role === 'line'))
            .map(el => el._fullLayout.yaxis.range.map(v => Math.round(v * 1e6) / 1e6))""")
        assert ranges[0] == ranges[2] and ranges[1] == ranges[3]  # Adam+L2's and AdamW's loss, then norm
    finally:
        context.close()
