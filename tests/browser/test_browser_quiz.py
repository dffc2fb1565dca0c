"""One full quiz round in a real browser: predict, lock in, watch the run, see the graded reveal, go to the next."""

import pytest

from support import ARTIFACTS, chromium, idle

pytestmark = pytest.mark.browser
SCENARIO = "pure-noise"   # two direction questions and one "which curve"; 2 seeds × 3 λ, 100 epochs
PICKS = ("goes up", "goes down", "C —")
# The lettered figure's curves as the browser draws them.
CURVES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(el => (el._fullData || [])
    .filter(t => t.meta && t.meta.role === 'curve').map(t => ({letter: t.meta.letter, pick: t.meta.pick,
    right: t.meta.right, width: t.line.width})))"""


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        # Tall: Streamlit scrolls inside the page, so the screenshot shows what fits in the viewport.
        context = browser.new_context(viewport={"width": 1400, "height": 2600})
        yield context.new_page()


def test_one_full_quiz_round(server, page):
    from playwright.sync_api import expect
    page.goto(server + f"quiz?scenario={SCENARIO}")
    lock = page.get_by_role("button", name="Lock in my prediction")
    expect(lock).to_be_disabled(timeout=60_000)
    expect(page.get_by_text("“barely changes”", exact=False).first).to_be_visible()  # the grading rule
    assert page.locator(".js-plotly-plot").count() == 0  # nothing of the run before the prediction
    questions = page.locator('[data-testid="stRadio"]')
    expect(questions).to_have_count(len(PICKS))
    for i, pick in enumerate(PICKS):
        questions.nth(i).locator("label").filter(has_text=pick).first.click()
        idle(page)
    expect(lock).to_be_enabled(timeout=30_000)
    lock.click()
    page.get_by_text("What happened, and why").wait_for(timeout=180_000)
    idle(page)
    assert page.locator('input[type="radio"]:not([disabled])').count() == 0  # locked in: no changing it now
    verdicts = page.locator('[data-testid="stAlert"]').filter(has_text="You said").all_inner_texts()
    assert sorted(v.strip()[2:4] for v in verdicts) == ["Q1", "Q2", "Q3"], verdicts
    expect(page.get_by_text("Why:").first).to_be_visible()
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Answered")
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text("3")
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')].some(el => el._fullData && "
                           "el._fullData.some(t => t.meta && t.meta.role === 'curve'))", timeout=30_000)
    curves = page.evaluate(CURVES_JS)
    assert [c["letter"] for c in curves] == ["A", "B", "C"]
    assert [c["letter"] for c in curves if c["pick"]] == ["C"] and max(curves, key=lambda c: c["width"])["pick"]
    assert sum(c["right"] for c in curves) >= 1
    explorer = page.get_by_role("link", name="Try this in the explorer")
    assert explorer.get_attribute("href").startswith("./?preset=tutorial&")
    share = page.locator('[data-testid="stCode"]').filter(has_text="/quiz?scenario=")  # not the run's script
    expect(share).to_contain_text(f"/quiz?scenario={SCENARIO}")  # share link
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_quiz.png"))
    assert (ARTIFACTS / "browser_quiz.png").stat().st_size > 10_000
    page.get_by_role("button", name="Next scenario").click()
    page.wait_for_url(lambda url: f"scenario={SCENARIO}" not in url and "scenario=" in url, timeout=30_000)
    idle(page)
    expect(lock).to_be_disabled()  # a fresh card: nothing chosen yet
    assert page.locator('input[type="radio"]:checked').count() == 0
