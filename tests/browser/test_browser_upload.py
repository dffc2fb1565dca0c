"""Your CSV in a real browser: Chromium uploads a too-large, a binary and a good file, trains it, sees the curves."""
import pytest

from wdlab.settings.config import DEFAULT_LIMITS
from support import ARTIFACTS, chart_lines as lines, charts, wait_final

pytestmark = pytest.mark.browser
LINK = "?preset=csv&optimizer=adamw&wd=0,0.01,0.1&seeds=0&epochs=30&hidden=16"
GOOD = ("district,rooms,area,noise,price\n" + "".join(
    f"{('north', 'south', 'east')[i % 3]},{1 + i % 5},{20 + (i * 37) % 90},{(i * 13) % 7 - 3},"
    f"{100 + 3 * ((i * 37) % 90) + 25 * (i % 3) + (i * 17) % 11}\n" for i in range(60))).encode()


def choose(page, name: str, raw: bytes) -> None:
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": raw}])


def test_upload_bad_files_then_a_good_one_and_see_its_curves(server, page, browser):
    from playwright.sync_api import expect
    page.goto(server + LINK)
    expect(page.get_by_text("This link carries the sweep's settings but not its table")).to_be_visible(timeout=60_000)
    train = page.get_by_role("button", name="Train")
    expect(train).to_be_disabled()
    # over the cap of .streamlit/config.toml: the browser refuses it before sending a byte
    choose(page, "big.csv", b"a,y\n" + b"1,2\n" * (DEFAULT_LIMITS.max_upload_bytes // 4))
    expect(page.get_by_text(f"File must be {DEFAULT_LIMITS.max_upload_mb}.0MB or smaller")).to_be_visible(
        timeout=30_000)
    choose(page, "binary.csv", bytes(range(256)) * 8)  # sent, then refused by the core with what to do
    error = page.locator('[class*="st-key-wdnote-error-"]')
    expect(error).to_contain_text("binary.csv cannot be used: the file is binary data, not CSV text; export the "
                                  "table as CSV text", timeout=30_000)
    expect(page.get_by_role("heading", name="Weight Decay Lab")).to_be_visible()  # the page is intact
    expect(train).to_be_disabled()
    choose(page, "houses.csv", GOOD)
    expect(page.get_by_text("Regression of 'price' (a number) from 6 features: 48 training and 12 validation "
                            "rows.")).to_be_visible(timeout=30_000)
    expect(error).to_have_count(0)
    expect(page.get_by_text("one-hot encoded (a 0/1 column per value): 'district' (3 values)")).to_be_visible()
    expect(train).to_be_enabled(timeout=30_000)
    train.click()
    final = [t for chart in wait_final(page)[:2] for t in chart]  # the loss and the norm figure
    for panel in ("train_loss", "l2_norm"):
        assert sorted(t["wd"] for t in lines(final, panel)) == [0.0, 0.01, 0.1]
        assert all(t["xmax"] == 30 and t["n"] > 2 for t in lines(final, panel))
    expect(page.get_by_text("links to these settings only, not to your table")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_upload.png"), full_page=True)
    # another visitor opening the same link gets the settings, never the table or its curves
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        other.goto(page.url)
        expect(other.get_by_text("This link carries the sweep's settings")).to_be_visible(timeout=60_000)
        other.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)
        assert charts(other) == [] and other.get_by_text("houses.csv").count() == 0
        expect(other.get_by_role("button", name="Train")).to_be_disabled()
    finally:
        other.context.close()
