"""The real app in a real browser: Playwright drives Debian's Chromium against `streamlit run` on loopback."""
import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from support import ARTIFACTS, charts, chart_lines as lines, idle, wait_final

pytestmark = pytest.mark.browser
EPOCHS = 1000  # with 256 hidden units: seconds of training even on an idle machine, so partial redraws happen
LINK = f"?preset=tutorial&optimizer=adamw&wd=0,0.001,0.01,0.1&seeds=0&epochs={EPOCHS}&hidden=256"
# Some figure's ‖w‖ lines are exactly these λ values (sorted).
NORM_WDS_JS = """wds => [...document.querySelectorAll('.js-plotly-plot')].some(el => !!el._fullData
    && JSON.stringify(el._fullData.filter(t => t.meta && t.meta.role === 'line' && t.meta.panel === 'l2_norm')
                      .map(t => t.meta.wd).sort((a, b) => a - b)) === JSON.stringify(wds))"""


def test_share_link_draws_curves_while_training_then_the_final_figure(server, page):
    # Record in the page itself, every 50 ms, how many epochs the main figure shows: no redraw is missed.
    page.add_init_script("""window.__epochs = []; setInterval(() => {
        const el = document.querySelector('.js-plotly-plot'); if (!el || !el._fullData) return;
        const xs = el._fullData.filter(t => t.meta && t.meta.role === 'line').map(t => t.x.length ? t.x[t.x.length - 1] : 0);
        if (xs.length) window.__epochs.push(Math.max(...xs)); }, 50);""")
    page.goto(server + LINK)
    final = [t for chart in wait_final(page)[:2] for t in chart]  # the loss and the norm figure
    seen = page.evaluate("window.__epochs")
    assert any(0 < e < EPOCHS for e in seen), f"never saw a partial figure; epochs drawn: {sorted(set(seen))}"
    for panel in ("train_loss", "l2_norm"):
        assert sorted(t["wd"] for t in lines(final, panel)) == [0.0, 0.001, 0.01, 0.1]
        assert all(t["xmax"] == EPOCHS and 2 < t["n"] <= EPOCHS + 1 for t in lines(final, panel))
    # the summary comes after the curves, the laws section and the model pictures: wait for it, then exactly one
    expect(page.get_by_text("Across λ")).to_have_count(1, timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_final.png"), full_page=True)
    assert (ARTIFACTS / "browser_final.png").stat().st_size > 10_000


def _query(url: str) -> dict:
    import urllib.parse
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query)


def test_change_a_control_and_run_again(server, browser):
    # A click right after the live view's app rerun used to find the browser holding every widget's default
    # (epochs=1, blank lr, decay-bias off): in a fresh browser context on a warm server, most times but not the
    # first. Three fresh visitors each open a new link; the last one goes on to train.
    for epochs in (20, 21, 22):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        sidebar = page.locator('[data-testid="stSidebar"]')
        page.goto(server + f"?preset=tutorial&optimizer=adam&wd=0,0.01,0.3&seeds=0&epochs={epochs}")
        wait_final(page)  # no waiting for idle: the click follows the run's end at once
        sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Optimizers").click()
        page.get_by_role("option", name="SGD", exact=True).click()
        page.keyboard.press("Escape")
        expect(page.get_by_text("SGD — coupled:")).to_be_visible(timeout=30_000)  # the page took the click
        idle(page)
        lrs = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="learning rates")
        expect(lrs).to_contain_text("0.01")
        expect(sidebar.get_by_role("spinbutton", name="epochs")).to_have_value(str(epochs))
        if epochs != 22:
            context.close()
    differ = page.get_by_text("differ from the run shown")
    expect(differ).to_be_visible(timeout=30_000)
    idle(page)
    train = page.get_by_role("button", name="Train")
    try:
        expect(train).to_be_enabled(timeout=30_000)
    except AssertionError:
        errors = page.locator('[class*="st-key-wdnote-error-"]').all_inner_texts()
        raise AssertionError(f"Train stayed disabled; the page says: {errors}") from None
    train.click()
    page.wait_for_url(lambda url: _query(url).get("optimizer") == ["sgd,adam"], timeout=30_000)
    expect(differ).to_have_count(0, timeout=60_000)  # the run shown is now the SGD one
    wait_final(page)
    idle(page)
    try:  # the browser swaps the old figure for the new one (for a moment there may be one chart): wait for
        # a norm figure with one line per λ, rather than read the charts mid-swap
        page.wait_for_function(NORM_WDS_JS, arg=[0.0, 0.01, 0.3], timeout=30_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser_run_again_failed.png"), full_page=True)
        seen = [sorted(t["wd"] for t in lines(c, "l2_norm")) for c in charts(page)]
        raise AssertionError(f"no norm figure with λ = 0, 0.01, 0.3; the charts' norm lines: {seen}") from None
    assert _query(page.url)["optimizer"] == ["sgd,adam"] and "epochs=22" in page.url
    context.close()


def test_download_the_csv(server, page):
    page.goto(server + "?preset=moons&optimizer=adam&wd=0,0.1&seeds=0,1&epochs=5&hidden=8")
    wait_final(page)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download the whole frame (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == 2 * 2 * 6  # members × (epochs + 1)
    assert {"weight_decay", "seed", "epoch", "train_loss", "val_loss", "l2_norm", "train_acc"} <= set(rows[0])


def test_invalid_link_shows_a_warning_in_the_page(server, page):
    page.goto(server + "?optimizer=lion&epochs=3&wd=0&hidden=4")
    page.get_by_text("optimizer='lion' is not valid").wait_for(timeout=60_000)
    assert page.get_by_text("names from sgd, adam, adamw, rmsprop").count() >= 1
    wait_final(page)
