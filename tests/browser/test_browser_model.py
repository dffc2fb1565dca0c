"""The models in Chromium: a moons link draws a boundary per λ (every λ's panel in one figure), a sine link a fitted
curve per λ; the slider moves them; screenshots at desktop width and at 390 px."""
import pytest

from support import ARTIFACTS, idle, wait_final, watch_runs

pytestmark = pytest.mark.browser
MOONS = "?preset=moons&optimizer=adam&lr=0.01&wd=0,0.001,0.01,0.1,0.3&seeds=0&epochs=300&hidden=64,64"
SINE = "?preset=sine"
# Per chart: the model traces it draws (role, λ, epoch), read from what Plotly drew.
MODEL_JS = """(roles) => [...document.querySelectorAll('.js-plotly-plot')].map(el => (el._fullData || [])
    .filter(t => t.meta && roles.includes(t.meta.role))
    .map(t => ({role: t.meta.role, wd: t.meta.wd, epoch: t.meta.epoch})))
    .filter(c => c.length)"""


def drawn(page, *roles):
    return page.evaluate(MODEL_JS, list(roles))


def move_slider_home(page, key="main_mv_epoch"):
    """Drag the epoch slider to its first epoch with the keyboard, as a visitor can."""
    watch_runs(page)
    thumb = page.locator(f".st-key-{key} input[type=range]")
    thumb.focus()
    thumb.press("Home")
    idle(page)


def shoot(page, name):
    """The model section at the top of the screen (Streamlit scrolls its main block, not the page)."""
    page.get_by_text("The models themselves").first.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(300)  # the scroll's repaint (a picture, not a condition tested)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@pytest.mark.parametrize("width", [1400, 390])
def test_moons_link_draws_a_boundary_per_lambda_and_the_slider_moves_them(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server + MOONS)
        wait_final(page)
        page.wait_for_function(f"({MODEL_JS})(['boundary']).length === 1 && "
                               f"({MODEL_JS})(['boundary'])[0].length === 5", timeout=60_000)
        (panels,) = drawn(page, "boundary")
        assert sorted(c["wd"] for c in panels) == [0.0, 0.001, 0.01, 0.1, 0.3]
        assert {c["epoch"] for c in panels} == {300}
        hist = drawn(page, "hist")
        assert len(hist) == 1 and {t["wd"] for t in hist[0]} == {0.0, 0.001, 0.01, 0.1, 0.3}
        boxes = [page.locator(".js-plotly-plot").nth(i).bounding_box() for i in
                 range(page.locator(".js-plotly-plot").count())]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= width + 1 for b in boxes)  # nothing off the screen
        if width == 390:  # a phone: the charts stack, each the full width
            lefts = {round(b["x"]) for b in boxes}
            assert len(lefts) == 1
        shoot(page, f"model-moons-{width}.png")
        move_slider_home(page)
        page.wait_for_function(f"({MODEL_JS})(['boundary']).length === 1 && ({MODEL_JS})(['boundary'])[0]"
                               f".every(c => c.epoch === 0) && ({MODEL_JS})(['boundary'])[0].length === 5",
                               timeout=60_000)
        assert {t["epoch"] for t in drawn(page, "hist")[0]} == {0}
        shoot(page, f"model-moons-{width}-epoch0.png")
    finally:
        context.close()


def test_sine_link_draws_a_fitted_curve_per_lambda_and_the_slider_moves_them(server, page):
    page.goto(server + SINE)
    wait_final(page)
    page.wait_for_function(f"({MODEL_JS})(['fit']).length === 1", timeout=60_000)
    curves = drawn(page, "fit")[0]
    wds = [c["wd"] for c in curves]
    assert len(wds) >= 3 and len(set(wds)) == len(wds) and 0.0 in wds
    last = curves[0]["epoch"]
    assert last > 0 and {c["epoch"] for c in curves} == {last}
    shoot(page, "model-sine.png")
    move_slider_home(page)
    page.wait_for_function(f"({MODEL_JS})(['fit']).length === 1 && ({MODEL_JS})(['fit'])[0]"
                           ".every(c => c.epoch === 0)", timeout=60_000)
