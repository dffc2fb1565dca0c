"""Playing through epochs in the browser (issue #27, item 6): the histograms' own ▶, and the boundary panels' (every
λ in one figure), animate every kept epoch with no script run on the server; the figure's slider and its title name
the same epoch at every moment, and the figure stays the same element throughout (nothing is remounted)."""
import pytest

from support import ARTIFACTS, wait_final, watch_runs

pytestmark = pytest.mark.browser
MOONS = "?preset=moons&optimizer=adam&lr=0.01&wd=0,0.01,0.3&seeds=0&epochs=60&hidden=16"
# the figure drawing traces of ROLE, marked data-play=ROLE so a locator finds it
FIND_JS = """(() => { const el = [...document.querySelectorAll('.js-plotly-plot')].find(el => (el._fullData || [])
        .some(t => t.meta && t.meta.role === 'ROLE')); if (el) el.setAttribute('data-play', 'ROLE'); return el; })()"""
# its epoch by the ROLE traces' meta, the title's epoch, the slider's active step, the frames
STATE_JS = """() => { const el = FIND;
    if (!el) return null;
    const lay = el._fullLayout, s = lay.sliders && lay.sliders[0];
    return {traces: [...new Set(el._fullData.filter(t => t.meta && t.meta.role === 'ROLE').map(t => t.meta.epoch))],
            title: lay.title.text, step: s ? +s.steps[s.active].label : null,
            frames: (lay.meta || {}).frames || []}; }""".replace("FIND", FIND_JS)
SAMPLE_JS = """() => { window.__play = []; const t0 = performance.now(); window.__el = FIND;
  const tick = () => { const h = (STATE)(); if (h) window.__play.push([performance.now() - t0, h.traces, h.title, h.step]);
    if (performance.now() - t0 < 60000) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }""".replace("FIND", FIND_JS).replace("STATE", STATE_JS)


@pytest.mark.parametrize("role", ["hist", "boundary"])
@pytest.mark.parametrize("width", [1400, 390])
def test_the_histograms_play_in_the_browser_and_their_slider_and_title_agree(server, browser, width, role):
    state, sample, find = (js.replace("ROLE", role) for js in (STATE_JS, SAMPLE_JS, FIND_JS))
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server + MOONS)
        wait_final(page)
        page.wait_for_function(f"({state})() && ({state})().frames.length > 5", timeout=60_000)
        first = page.evaluate(state)
        assert first["traces"] == [first["step"]] == [first["frames"][-1]] and f"epoch {first['step']}" in first["title"]
        watch_runs(page)
        runs = page.evaluate("() => window.__wdlabRuns")
        # ▶ is the figure's own button (an updatemenu); first back to the start with the figure's slider
        plot = page.locator(f".js-plotly-plot[data-play={role}]")
        plot.locator(".slider-container .slider-grip, .slider-container rect.slider-grip-rect").first \
            .evaluate("e => e.scrollIntoView({block: 'center'})")
        page.evaluate(f"""() => Plotly.animate({find}, ['{first['frames'][0]}'],
                                               {{mode: 'immediate', frame: {{duration: 0}}}})""")
        page.evaluate(sample)
        plot.locator(".updatemenu-button").first.click()
        page.wait_for_function(f"() => window.__play.length && window.__play[window.__play.length - 1][1][0] === "
                               f"{first['frames'][-1]}", timeout=60_000)
        seen = page.evaluate("() => window.__play")
        epochs = [s[1][0] for s in seen]
        assert set(first["frames"]) <= set(epochs)                      # every kept epoch was shown
        assert epochs == sorted(epochs)                                  # forward only
        for _, traces, title, step in seen:
            assert len(traces) == 1 and title.endswith(f"at epoch {traces[0]}")  # the title names what is drawn
        # the slider catches up within the frame it is drawn in: at most one step behind, never ahead
        order = first["frames"]
        assert all(0 <= order.index(s[1][0]) - order.index(s[3]) <= 1 for s in seen)
        assert page.evaluate("() => window.__wdlabRuns") == runs        # no script run: it all ran in the browser
        assert page.evaluate(f"() => window.__el === {find}")           # the same element: nothing remounted
        page.screenshot(path=str(ARTIFACTS / f"play-{role}-{width}.png"))
    finally:
        context.close()
