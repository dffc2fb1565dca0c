"""What each model makes of the data, in Chromium at 1400 and 390 px: the digits' filters and confusion matrices
and a regression's predicted vs actual render with a height; the run's figures download as one HTML file."""
import pytest

from support import ARTIFACTS, wait_final

pytestmark = pytest.mark.browser
DIGITS = "?preset=digits&optimizer=adam&lr=0.01&wd=0,0.01,0.1&seeds=0&epochs=30&hidden=32"
DIABETES = "?preset=diabetes&optimizer=adam&lr=0.01&wd=0,1&seeds=0&epochs=20&hidden=16"
# Per chart holding a trace of one of these roles: the role and the chart's drawn box.
DRAWN_JS = """(roles) => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const t = (el._fullData || []).find(t => t.meta && roles.includes(t.meta.role));
    const r = el.getBoundingClientRect();
    return t ? {role: t.meta.role, wd: t.meta.wd, height: r.height, left: r.left, right: r.right} : null;
  }).filter(c => c)"""


def drawn(page, *roles):
    return page.evaluate(DRAWN_JS, list(roles))


@pytest.mark.parametrize("width", [1400, 390])
def test_digits_filters_and_confusion_matrices_render_and_the_figures_download(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(server + DIGITS)
        wait_final(page)
        page.wait_for_function(f"({DRAWN_JS})(['confusion']).length === 3 && ({DRAWN_JS})(['filters']).length"
                               " === 1", timeout=120_000)
        charts = drawn(page, "filters", "confusion")
        assert all(c["height"] > 0 for c in charts)
        assert all(c["left"] >= 0 and c["right"] <= width + 1 for c in charts)     # nothing off the screen
        if width == 390:   # a phone: the confusion panels stack, each the full width
            assert len({round(c["left"]) for c in charts if c["role"] == "confusion"}) == 1
        page.get_by_text("What each model makes of the data").first.evaluate("e => e.scrollIntoView()")
        page.wait_for_timeout(300)  # the scroll's repaint (a picture, not a condition tested)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"model-outputs-digits-{width}.png"))
        if width == 1400:
            with page.expect_download(timeout=120_000) as info:
                page.get_by_role("button", name="Download this run's figures (HTML)").click()
            html = open(info.value.path(), encoding="utf-8").read()
            assert info.value.suggested_filename.endswith("_figures.html")
            assert html.count('class="plotly-graph-div"') == 2 + 1 + 1 + 3   # curves ×2, summary, filters, 3 confusion
            assert "First-layer weights" in html and "Confusion matrix, λ = 0.1" in html and \
                '<script src="' not in html                                     # plotly.js inside: opens offline
    finally:
        context.close()


@pytest.mark.parametrize("width", [1400, 390])
def test_a_regressions_predicted_vs_actual_panels_render(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server + DIABETES)
        wait_final(page)
        page.wait_for_function(f"({DRAWN_JS})(['predicted']).length === 2", timeout=120_000)
        charts = drawn(page, "predicted")
        assert sorted(c["wd"] for c in charts) == [0.0, 1.0] and all(c["height"] > 0 for c in charts)
        assert all(c["left"] >= 0 and c["right"] <= width + 1 for c in charts)
    finally:
        context.close()
