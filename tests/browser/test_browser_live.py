"""Live charts never flicker to zero height while training (issue #27, item 7), at 1400 and 390 px.

Streamlit gives each new figure a new element id (it hashes the spec): every live update unmounts the old chart
and mounts a new one, hidden until Plotly has drawn it. Each curves chart sits in a box of its own height holding
two charts on one spot (results.steady_chart): the new figure mounts on top while the last one stays drawn
beneath. Every animation frame of a run is checked: a drawn chart (its SVG laid out, nothing hiding it) shows."""
import pytest

from support import ARTIFACTS

pytestmark = pytest.mark.browser
LIVE = "?epochs=2000&wd=0,0.01,0.1&hidden=32&batch-size=50"
# Every animation frame: each curves box's height, and whether a visible, drawn chart is in it.
WATCH = """() => { window.__live = {frames: 0, boxes: {}, charts: {}};
  const tick = () => {
    // counted from the first frame both boxes are in the page (the progress line can land a delta earlier)
    const ready = window.__live.frames > 0 || ['main_curves', 'main_curves_l2_norm'].every(k =>
        document.querySelector('.st-key-' + k + '_box'));
    if (ready && document.body.innerText.includes('Training: epoch')) {
      window.__live.frames++;
      for (const key of ['main_curves', 'main_curves_l2_norm']) {
        const box = document.querySelector('.st-key-' + key + '_box');
        const h = box ? box.getBoundingClientRect().height : 0;
        const slots = box ? [...box.querySelectorAll('.st-key-' + key + ', .st-key-' + key + '_alt')] : [];
        const drawn = slots.some(c => getComputedStyle(c).display !== 'none' && c.getBoundingClientRect().height > 0);
        // stricter: a chart is painted — Plotly's SVG laid out the box's width, nothing above it in the box hidden
        const painted = slots.some(c => {
            const svg = c.querySelector('.main-svg');
            const shown = e => { for (; e && e !== box; e = e.parentElement) { const s = getComputedStyle(e);
                if (s.display === 'none' || s.visibility === 'hidden') return false; } return true; };
            const r = svg && svg.getBoundingClientRect();   // and the box's full width: not squeezed
            return svg && shown(svg) && r.height > 0 && r.width >= box.getBoundingClientRect().width * 0.9; });
        const b = window.__live.boxes[key] = window.__live.boxes[key] ||
            {min: 1e9, frames: 0, undrawn: 0, drawnOnce: false, blankAfter: 0};
        b.min = Math.min(b.min, h); b.frames++; if (!drawn) b.undrawn++;
        // once a chart has been painted in the box, a blank frame is a flicker (before, nothing was there yet)
        if (painted) b.drawnOnce = true; else if (b.drawnOnce) b.blankAfter++;
      }
    }
    requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


@pytest.mark.parametrize("width", [1400, 390])
def test_the_live_curves_keep_their_height_in_every_frame(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        # a seed of each width's own: a fresh sweep watched from its start, not the other width's run joined near
        # its end (the same link shares one job; CI: the 390 page's shared run ended before 40 frames were counted)
        page.goto(server + LIVE + f"&seeds={0 if width == 1400 else 1}")
        page.get_by_text("Training: epoch").first.wait_for(timeout=60_000)
        page.evaluate(WATCH)
        # a few live updates of the curves: wait until the epoch counter has moved on several times
        # (a starved browser paints a frame or two a second: waited for, not assumed)
        page.wait_for_function("() => window.__live.frames > 40", timeout=180_000)
        # the epoch shown now (0 if training already ended: the whole run was watched then)
        first = page.wait_for_function("() => { const m = document.body.innerText.match(/Training: epoch (\\d+)/);"
                                       " return m ? +m[1] + 1 : 1; }").json_value() - 1
        page.wait_for_function(f"""() => {{ const m = document.body.innerText.match(/Training: epoch (\\d+)/);
            return !m || +m[1] > {first} + 100; }}""", timeout=120_000)
        seen = page.evaluate("() => window.__live")
        page.screenshot(path=str(ARTIFACTS / f"live-{width}.png"))
        assert set(seen["boxes"]) == {"main_curves", "main_curves_l2_norm"}
        for key, box in seen["boxes"].items():
            assert box["frames"] > 40 and box["min"] >= 300, (key, box)   # never collapses, never jumps
            # a remount leaves the box blank while Plotly draws: a frame or two on an idle machine, more when
            # the CPU is starved (9 of 57 frames under CI's load), so only "most frames show a chart" is asserted
            assert box["undrawn"] <= box["frames"] * 0.5, (key, box)
            # and once painted, the box never shows blank again: the last drawing stays until the next covers it
            assert box["drawnOnce"] and box["blankAfter"] == 0, (key, box)
    finally:
        context.close()


def test_the_lambda_chips_grow_their_box_instead_of_scrolling_inside_it(server, page):
    """Twelve λ values: every chip shows, nothing inside the multiselect scrolls (issue #27, item 9)."""
    page.goto(server + "?epochs=5&wd=0,1e-5,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,0.1,0.3,1,3")
    box = page.locator(".st-key-cfg_weight_decays [data-testid=stMultiSelect]")
    box.wait_for(timeout=60_000)
    page.wait_for_function("""() => document.querySelectorAll(
        '.st-key-cfg_weight_decays [data-testid=stMultiSelectTagsContainer] > span > *').length === 12""", timeout=30_000)
    # the chips paint before the page's style (app.py's st.html) reaches them on a loaded machine (CI saw one
    # scrolling box at that moment): wait for none to scroll, which never comes if the style fails to apply
    scrolling = """() => [...document.querySelectorAll('.st-key-cfg_weight_decays *')]
        .filter(e => e.scrollHeight > e.clientHeight + 2 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
        .length"""
    try:
        page.wait_for_function(f"() => ({scrolling})() === 0", timeout=30_000)
    except Exception:
        pass
    assert page.evaluate(scrolling) == 0
    tags = page.locator(".st-key-cfg_weight_decays [data-testid=stMultiSelectTagsContainer] > span > *")
    outer = box.bounding_box()
    last = tags.nth(11).bounding_box()
    assert last["y"] + last["height"] <= outer["y"] + outer["height"] + 1   # the last chip inside the visible box
    box.screenshot(path=str(ARTIFACTS / "lambda-chips-1400.png"))
