"""The compare-at control in Chromium at desktop (1400 px) and phone (390 px) width: choosing the best epoch, the
final epoch or the mean of the last 10 % changes the summary's words, its table, the best-λ star and the link."""
import re

import pytest
from playwright.sync_api import expect

from support import ARTIFACTS, idle, watch_runs

pytestmark = pytest.mark.browser
# moons' 64-64 ReLU for 100 epochs: λ = 0 overfits, so its best epoch (val loss about 0.28) beats λ = 0.1 (0.36)
# while at the end it is the worst (about 0.70 against 0.41): the star moves with the reading.
LINK = "/?preset=moons&epochs=100&wd=0,0.1"
WORDS = {"best": "at each member's best epoch (lowest validation loss)", "final": "at the final epoch",
         "last": "as the mean of the last 10 % of epochs"}
LABELS = {"best": "best epoch", "final": "final epoch", "last": "mean of the last 10 %"}
VAL_COLUMN = {"best": "val loss at best epoch", "final": "final val loss", "last": "val loss, last 10 % mean"}
# What the page shows of the summary: its headings, captions, the summary table and the best-λ star (its λ and
# height on the validation-loss panel). The table is read from the data grid's accessible table, which holds only
# the columns in view: at phone width each poll scrolls the grid half a view on (round to the start), gathering the
# columns (by aria-colindex) into window.__grid until every one is seen.
SHOWN_JS = """() => {
    const text = sel => [...document.querySelectorAll(sel)].map(e => e.innerText);
    const grid = document.querySelector('[data-testid=stDataFrame] table[role=grid]');
    const cols = window.__grid = window.__grid || {};
    let complete = false;
    if (grid) {
        for (const th of grid.querySelectorAll('th'))
            cols[th.getAttribute('aria-colindex')] = {head: th.innerText, values: []};
        for (const td of grid.querySelectorAll('tbody td')) {
            const col = cols[td.getAttribute('aria-colindex')];
            const row = +td.closest('tr').getAttribute('aria-rowindex') - 2;
            if (col) col.values[row] = td.innerText;
        }
        complete = Object.keys(cols).length === +grid.getAttribute('aria-colcount');
        const scroller = grid.closest('[data-testid=stDataFrame]').querySelector('.dvn-scroller');
        if (!complete && scroller)   // one view further right; from the right end, back to the start
            scroller.scrollLeft = scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 1 ? 0
                : scroller.scrollLeft + scroller.clientWidth / 2;
    }
    const table = complete ? Object.fromEntries(Object.values(cols).map(c => [c.head, c.values])) : null;
    const stars = [...document.querySelectorAll('.js-plotly-plot')].flatMap(el => (el._fullData || [])
        .filter(t => t.meta && t.meta.role === 'best').map(t => ({wd: t.meta.wd, y: t.y[0]})));
    return {headings: text('h3'), captions: text('[data-testid=stCaptionContainer]'), table, stars,
            url: location.href};
}"""


def shown(page, at):
    """What the page shows once the summary reads `at` (its heading says so and its table is gathered): gathered
    until two gatherings in a row agree (the grid redraws after the heading, so one may mix in old columns)."""
    before = None
    for _ in range(10):
        page.evaluate("() => { window.__grid = {}; }")
        try:
            page.wait_for_function(f"""() => {{ const s = ({SHOWN_JS})();
                const ok = s.headings.some(h => h.includes({WORDS[at]!r})) && s.stars.length === 1
                    && s.table !== null && ({VAL_COLUMN[at]!r} in s.table)
                    && s.table[{VAL_COLUMN[at]!r}].filter(v => v).length === 2;
                if (!ok && s.table !== null) window.__grid = {{}};   // gathered before the redraw: again
                return ok; }}""",
                                   timeout=120_000, polling=250)
        except Exception as e:
            raise AssertionError(f"reading {at}: the page shows {page.evaluate(SHOWN_JS)}") from e
        now = page.evaluate(SHOWN_JS)
        if now == before:
            return now
        before = now
    raise AssertionError(f"reading {at}: the page kept changing: {before}")


def val_losses(seen, at) -> dict[str, float]:
    table = seen["table"]
    return {wd: float(v) for wd, v in zip(table["λ (weight_decay)"], table[VAL_COLUMN[at]], strict=True)}


@pytest.mark.parametrize("width", [1400, 390])
def test_choosing_where_results_are_compared_changes_words_table_and_star(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.rstrip("/") + LINK)
        page.get_by_text("Trained ").first.wait_for(timeout=180_000)   # shown() then waits for the summary
        watch_runs(page)
        ARTIFACTS.mkdir(exist_ok=True)
        radio = page.get_by_role("radiogroup").filter(has_text=LABELS["final"])
        seen = {}
        for at in ("best", "final", "last"):
            if at != "best":                       # best is the default: the link carries no compare-at
                option = radio.get_by_text(LABELS[at], exact=True)
                option.scroll_into_view_if_needed()
                box = option.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width   # the option fits the screen
                option.click()
                idle(page)
            seen[at] = shown(page, at)
            heading = next(h for h in seen[at]["headings"] if h.startswith("Across λ"))
            assert heading == f"Across λ, {WORDS[at]}"
            assert any(f"Every number is read {WORDS[at]}." in c for c in seen[at]["captions"])
            others = [VAL_COLUMN[o] for o in VAL_COLUMN if o != at]
            assert not any(c in seen[at]["table"] for c in others)   # no column keeps another reading's name
            vals = val_losses(seen[at], at)
            (star,) = seen[at]["stars"]
            best = min(vals, key=vals.get)
            assert float(best) == star["wd"] and star["y"] == pytest.approx(vals[best], rel=1e-3)
            assert any(f"Best here: λ = {best}." in c for c in seen[at]["captions"])
            assert ("compare-at=" + at in seen[at]["url"]) == (at != "best")
            page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"compare_at_{at}_{width}.png"))   # the control, heading, star
            table = page.locator('[data-testid=stDataFrame]').first
            table.scroll_into_view_if_needed()
            page.evaluate("() => { document.querySelector('[data-testid=stDataFrame] .dvn-scroller').scrollLeft = 0; }")
            page.wait_for_function(
                "() => !!document.querySelector('[data-testid=stDataFrame] th[aria-colindex=\"1\"]')")
            table.screenshot(path=str(ARTIFACTS / f"compare_at_{at}_table_{width}.png"))
        # the readings differ where the issue says they should: λ = 0 overfits late, so its best epoch wins the
        # comparison and its end loses it; the mean of the last 10 % is not the final epoch's value
        assert seen["best"]["stars"][0]["wd"] == 0 and seen["final"]["stars"][0]["wd"] == 0.1
        assert seen["last"]["stars"][0]["wd"] == 0.1
        best, final, last = (val_losses(seen[at], at) for at in ("best", "final", "last"))
        assert best["0"] < best["0.1"] and final["0"] > 1.5 * final["0.1"]
        assert best["0"] < last["0"] != final["0"]
        again = browser.new_context(viewport={"width": width, "height": 900})   # the link keeps the reading
        try:
            other = again.new_page()
            other.goto(seen["last"]["url"])
            other.get_by_text("Trained ").first.wait_for(timeout=180_000)   # then shown() waits for the summary
            assert val_losses(shown(other, "last"), "last") == last
            expect(other.get_by_role("radio", name=LABELS["last"])).to_be_checked()
        finally:
            again.close()
    finally:
        context.close()


# The Landscape's own compare-at: its maps' cell colours (the values read) and the caption under them.
MAP_JS = """() => ({cells: [...document.querySelectorAll('.js-plotly-plot')].flatMap(el => (el._fullData || [])
        .filter(t => t.meta && t.meta.role === 'cells').map(t => Array.from(t.marker.color))),
    captions: [...document.querySelectorAll('[data-testid=stCaptionContainer]')].map(e => e.innerText),
    words: [...document.querySelectorAll('[data-testid=stMarkdownContainer]')].map(e => e.innerText)
        .filter(t => t.startsWith('Where the best λ sits')), url: location.href})"""


@pytest.mark.parametrize("width", [1400, 390])
def test_the_landscapes_compare_at_recolours_its_maps_and_says_where_it_reads(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.rstrip("/") + "/landscape?preset=moons&optimizer=adam,adamw&lr=0.01,0.1&wd=0,0.1"
                  "&epochs=60&hidden=16")
        expect(page.get_by_text("Click a cell to see its curves.")).to_be_visible(timeout=180_000)
        watch_runs(page)
        ARTIFACTS.mkdir(exist_ok=True)
        radio = page.get_by_role("radiogroup").filter(has_text=LABELS["final"])
        seen = {}
        for at in ("best", "final", "last"):
            if at != "best":
                option = radio.get_by_text(LABELS[at], exact=True)
                option.scroll_into_view_if_needed()
                box = option.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width
                option.click()
                idle(page)
            seen[at] = page.wait_for_function(
                f"() => {{ const s = ({MAP_JS})(); return s.cells.length === 2"
                f" && s.words.length === 1 && s.captions.some(c => c.includes({WORDS[at]!r})) && s; }}",
                timeout=120_000).json_value()
            assert ("compare-at=" + at in seen[at]["url"]) == (at != "best")
            page.get_by_text(WORDS[at]).first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"landscape_compare_at_{at}_{width}.png"))
        assert seen["best"]["cells"] != seen["final"]["cells"] != seen["last"]["cells"]
        # the sentences on where the best λ sits read the same cells: here λ = 0 wins every lr at the best epoch,
        # and at the end λ = 0.1 wins at lr 0.1
        # (the page's words were "… → 0 at lr 0.1" / "… → 0.1 at lr 0.1"; now one plain line per optimizer)
        assert re.search(r"(then |best λ )0 at lr [0-9. ,and]*0\.1 —", seen["best"]["words"][0])
        assert re.search(r"(then |best λ )0\.1 at lr [0-9. ,and]*0\.1 —", seen["final"]["words"][0])
        # at its best epoch a member's validation loss is at most its final one
        for best, final in zip(sum(seen["best"]["cells"], []), sum(seen["final"]["cells"], [])):
            assert best <= final + 1e-9
    finally:
        context.close()
