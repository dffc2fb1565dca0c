"""Hostile links, typed values and a hostile CSV in Chromium: their words show as text, never as links or images."""
import re
import urllib.parse

import pytest

from support import ARTIFACTS, idle, watch_runs

pytestmark = pytest.mark.browser
HOSTS = ("wdlab-login.example", "wdlab-help.example", "wdlab-answers.example", "127.0.0.1:9", "wdlab-col.example",
         "wdlab-class.example", "wdlab-file.example")
# Every <a> and <img> on the page, and any rendered LaTeX: none may come from a visitor's words.
ELEMENTS_JS = """() => ({
    links: [...document.querySelectorAll('a')].map(a => a.href + ' ' + a.textContent),
    images: [...document.querySelectorAll('img, image, source, iframe, object, embed')].map(
        e => (e.src || e.getAttribute('href') || e.data || '') + ''),
    latex: document.querySelectorAll('.katex').length,
    notes: [...document.querySelectorAll('[class*="st-key-wdnote-warning-"], [class*="st-key-wdnote-error-"]')]
        .map(e => e.innerText)})"""
BAD_KEYS = "&".join(f"www.wdlab-help.example/k{i}=http://wdlab-login.example/{i}" for i in range(999))
HOSTILE_CSV = ("http://wdlab-col.example/a,www.wdlab-col.example,kind\n" + "".join(
    f"{i},{(i * 7) % 5},{('www.wdlab-class.example/yes', '[no](http://wdlab-class.example/no)')[i % 2]}\n"
    for i in range(40))).encode()


@pytest.fixture
def visit(browser):
    """A fresh page that records every request it makes; asserts at the end that none went to a hostile host."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    yield page
    context.close()
    leaked = [u for u in requests if any(h in urllib.parse.unquote(u).split("?")[0] for h in HOSTS)]
    assert not leaked, leaked


def clean(page) -> dict:
    """The page's links, images and LaTeX hold nothing of a hostile host; returns what was found."""
    found = page.evaluate(ELEMENTS_JS)
    for item in found["links"] + found["images"]:
        assert not any(h in urllib.parse.unquote(item).split("?")[0] for h in HOSTS), item
    assert found["latex"] == 0
    return found


def settle(page) -> None:
    page.wait_for_selector("[data-testid=stSidebar]", timeout=60_000)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)
    watch_runs(page)


@pytest.mark.parametrize("link,shown", [
    ("?https://wdlab-login.example/sso=1", "'https://wdlab-login.example/sso'"),
    ("?lr=www.wdlab-help.example/x", "lr='www.wdlab-help.example/x' is not valid"),
    ("quiz?scenario=www.wdlab-answers.example/quiz", "no scenario “www.wdlab-answers.example/quiz”"),
], ids=["unknown key", "bad value", "quiz scenario"])
def test_hostile_links_show_their_words_as_text(server, visit, link, shown):
    from playwright.sync_api import expect
    visit.goto(server + link)
    settle(visit)
    notes = visit.locator('[class*="st-key-wdnote-warning-"]')
    expect(notes).to_have_count(1, timeout=30_000)
    expect(notes).to_contain_text(shown)  # the words are there, literally
    clean(visit)


def test_a_link_with_999_bad_keys_gives_one_bounded_warning(server, visit):
    from playwright.sync_api import expect
    visit.goto(server + "?" + BAD_KEYS)
    settle(visit)
    notes = visit.locator('[class*="st-key-wdnote-warning-"]')
    expect(notes).to_have_count(1, timeout=30_000)
    expect(notes).to_contain_text("and 989 more ignored")
    assert len(notes.inner_text()) < 1500
    clean(visit)


@pytest.mark.parametrize("field,typed", [("learning rates", "![x](http://127.0.0.1:9/x)"), ("seeds", "$\\frac12$")])
def test_typed_markdown_stays_text_in_the_error(server, visit, field, typed):
    from playwright.sync_api import expect
    visit.goto(server)
    settle(visit)
    sidebar = visit.locator('[data-testid="stSidebar"]')
    if field == "seeds":
        box = sidebar.get_by_role("textbox", name=field)
    else:  # a multiselect that takes typed values: its search box
        box = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text=field).locator("input")
    box.fill(typed)
    box.press("Enter")
    # the note under the field quotes it as typed, not as an image or LaTeX (the summary note names the field)
    error = visit.locator('[class*="st-key-wdnote-error-"]').filter(has_text=repr(typed))
    expect(error).to_have_count(1, timeout=30_000)
    idle(visit)
    clean(visit)
    if field == "seeds":
        visit.set_viewport_size({"width": 390, "height": 900})
        idle(visit)
        ARTIFACTS.mkdir(exist_ok=True)
        visit.screenshot(path=str(ARTIFACTS / "hostile_typed_390.png"), full_page=True)


def test_a_hostile_csv_shows_its_names_values_and_file_name_as_text(server, visit):
    from playwright.sync_api import expect
    visit.goto(server + "?preset=csv&wd=0&epochs=2&hidden=4")
    settle(visit)
    name = "www.wdlab-file.example [x](http://wdlab-file.example/f).csv"
    visit.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": HOSTILE_CSV}])
    notes = visit.locator('[class*="st-key-wdnote-"]')
    expect(notes.filter(has_text="classes: 0 = '[no](http://wdlab-class.example/no)'")).to_have_count(
        1, timeout=30_000)
    expect(notes.filter(has_text="Classification of 'kind'")).to_have_count(1)
    expect(notes.filter(has_text=f"on your table {name!r}")).to_have_count(1)
    idle(visit)
    clean(visit)
    # the target picker lists the hostile names as plain options
    visit.get_by_role("combobox", name=re.compile("Target column")).click()
    expect(visit.get_by_role("option", name="http://wdlab-col.example/a")).to_be_visible()
    clean(visit)
    visit.get_by_role("option", name="http://wdlab-col.example/a").click()
    idle(visit)
    clean(visit)
    visit.screenshot(path=str(ARTIFACTS / "hostile_csv.png"), full_page=True)
