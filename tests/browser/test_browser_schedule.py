"""The schedule controls in Chromium at desktop (1400 px) and phone (390 px) width: a cosine link trains, the lr_t
figure is drawn, and the sidebar shows the schedule's widgets filled from the link."""
import pytest
from playwright.sync_api import expect

from support import ARTIFACTS, idle, wait_final

pytestmark = pytest.mark.browser
LINK = "/?preset=moons&schedule=cosine&warmup-epochs=5&epochs=40&wd=0,0.01"
# The lr_t figure's traces: its first is the lr_t line, drawn over every epoch.
LR_T_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(el => ((el.layout || {}).title || {}).text && el.layout.title.text.includes('Learning rate'))
    .map(el => ({title: el.layout.title.text, names: el._fullData.map(t => t.name),
                 points: el._fullData[0].x.length, last: el._fullData[0].x[el._fullData[0].x.length - 1],
                 height: el.getBoundingClientRect().height}))"""


@pytest.mark.parametrize("width", [1400, 390])
def test_a_cosine_link_draws_lr_t_and_the_sidebar_shows_the_schedule(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.rstrip("/") + LINK)
        wait_final(page)
        page.wait_for_function(f"({LR_T_JS})().length === 1", timeout=60_000)
        (fig,) = page.evaluate(LR_T_JS)
        assert "Learning rate: cosine after 5 warmup epochs" in fig["title"]
        assert fig["names"][0].startswith("lr_t") and fig["points"] == 40 and fig["last"] == 40 and fig["height"] > 100
        assert len(fig["names"]) == 1   # the moons preset's Adam: its coupled λ has no per-step shrink to draw
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"schedule_explorer_{width}.png"), full_page=True)
        chart = page.locator(".js-plotly-plot").filter(has_text="Learning rate")
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(ARTIFACTS / f"schedule_lr_t_{width}.png"))   # the page scrolls inside its own box
        sidebar = page.locator('[data-testid="stSidebar"]')
        if width == 390:   # a phone starts with the sidebar closed
            expect(sidebar.get_by_role("combobox", name="learning-rate schedule")).not_to_be_in_viewport()
            page.locator('[data-testid="stExpandSidebarButton"]').click()
        more = sidebar.get_by_text("More settings")
        more.scroll_into_view_if_needed()
        more.click()
        idle(page)
        expect(sidebar.get_by_role("combobox", name="learning-rate schedule")).to_have_value("cosine")
        warmup = sidebar.get_by_role("spinbutton", name="warmup epochs")
        warmup.scroll_into_view_if_needed()
        expect(warmup).to_have_value("5")
        expect(warmup).to_be_in_viewport()
        box = warmup.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width   # fits the screen
        page.screenshot(path=str(ARTIFACTS / f"schedule_sidebar_{width}.png"))
    finally:
        context.close()
