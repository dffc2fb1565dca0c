"""The Laws page in Chromium at 1400 and 390 px: a card's Run trains live and shows its verdict and its figure with
the dashed prediction; a law that breaks says why; on a phone the cards stack, the finished runs shown at once."""
import pytest
from playwright.sync_api import expect

from support import ARTIFACTS
from wdlab.laws.predict import FULL_BATCH

pytestmark = pytest.mark.browser
ROLES_JS = """(card) => [...document.querySelectorAll(`.st-key-laws-card-${card} .js-plotly-plot`)]
    .map(el => (el._fullData || []).map(t => t.meta ? t.meta.role : null))"""


def card(page, law):
    return page.locator(f".st-key-laws-card-{law}")


def run(page, law, tab: str | None = None):
    box = card(page, law)
    if tab:
        box.get_by_role("tab", name=tab).click()
    box.get_by_role("button", name="Run", exact=True).locator("visible=true").first.click()


def shots(page, tag: str) -> None:
    """The page scrolls inside Streamlit's frame (a full-page shot is one screen): a screen from each run card's top."""
    for law in ("box", "rotation"):
        card(page, law).evaluate("el => el.scrollIntoView({block: 'start', behavior: 'instant'})")
        page.screenshot(path=str(ARTIFACTS / f"laws-{law}-{tag}.png"))


def test_a_card_runs_live_and_shows_its_verdict_and_a_phone_shows_it_stacked(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server + "laws")
    expect(page.get_by_role("heading", name="The laws of weight decay")).to_be_visible(timeout=60_000)
    for law in ("ridge", "ridge_loss", "box", "rotation", "norm", "timescale"):
        expect(card(page, law)).to_be_visible()
    assert page.locator(".js-plotly-plot").count() == 0          # nothing trains before a Run
    run(page, "box")
    expect(card(page, "box").get_by_text("λ 10 on its edge")).to_be_visible(timeout=180_000)
    page.wait_for_function(f"() => ({ROLES_JS})('box').flat().includes('predicted')", timeout=60_000)
    expect(card(page, "box").get_by_role("link", name="Open these settings in the Explorer")).to_be_visible()
    run(page, "rotation")
    expect(card(page, "rotation").get_by_text("Holds for all 6")).to_be_visible(timeout=300_000)
    run(page, "rotation", tab="AdamW, full batch")
    expect(card(page, "rotation").get_by_text(FULL_BATCH).first).to_be_visible(timeout=300_000)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "laws-desktop.png"), full_page=True)
    shots(page, "desktop")
    ctx.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(server + "laws")
    # runs trained on this server are shown at once, without a click
    expect(card(page, "box").get_by_text("λ 10 on its edge")).to_be_visible(timeout=60_000)
    expect(card(page, "rotation").get_by_text("Holds for all 6")).to_be_visible(timeout=60_000)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 392     # no sideways scrolling
    widths = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(e => "
                           "e.getBoundingClientRect().right)")
    assert widths and max(widths) <= 390
    page.screenshot(path=str(ARTIFACTS / "laws-phone.png"), full_page=True)
    shots(page, "phone")
    phone.close()
