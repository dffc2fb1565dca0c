"""The laws drawn where the curves are, in Chromium: the dashed predictions on the max|w|, rotation and layer-norm
figures of an AdamW + LayerNorm run, side by side at 1400 px and stacked, each full width, at 390 px."""
import pytest

from support import ARTIFACTS, wait_final

pytestmark = pytest.mark.browser
LINK = "?preset=diabetes&optimizer=adamw&lr=0.01&wd=0,0.3,2&seeds=0&epochs=40&hidden=16,16&norm=layernorm&batch-size=32"
LAWS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(el => el._fullData
    && el._fullData.some(t => t.meta && ['max_abs_w', 'rot1', 'norm1'].includes(t.meta.panel)))
    .map(el => { const b = el.getBoundingClientRect(); return {x: b.left, y: b.top, w: b.width,
        panel: el._fullData.find(t => t.meta).meta.panel,
        laws: el._fullData.filter(t => t.meta && t.meta.role === 'law').map(t => ({wd: t.meta.wd, law: t.meta.law,
            dash: t.mode === 'markers' ? 'marker' : t.line.dash, y: t.y[0],
            color: t.mode === 'markers' ? t.marker.color : t.line.color})),
        lines: Object.fromEntries(el._fullData.filter(t => t.meta && t.meta.role === 'line')
            .map(t => [t.meta.wd, t.line.color]))}; })"""


@pytest.mark.parametrize("width", [1400, 390])
def test_the_law_figures_draw_each_prediction_dashed_in_its_lambdas_colour(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    page = context.new_page()
    try:
        page.goto(server + LINK)
        wait_final(page)
        # (a wait, not a scroll: the finished view's redraw may replace the heading under a scroll)
        page.get_by_text("What the laws of weight decay predict").first.wait_for(timeout=60_000)
        figs = page.wait_for_function(f"() => {{ const f = ({LAWS_JS})(); return f.length === 3 && f; }}",
                                      timeout=60_000).json_value()
        by = {f["panel"]: f for f in figs}
        assert set(by) == {"max_abs_w", "rot1", "norm1"}
        box = by["max_abs_w"]["laws"]
        assert sorted((round(t["y"], 6), t["wd"]) for t in box) == [(0.5, 2.0), (round(1 / 0.3, 6), 0.3)]
        for f in figs:
            assert f["laws"] and all(t["dash"] == "dash" for t in f["laws"])   # 40 epochs: each reaches equilibrium
            colors = {float(w): c for w, c in f["lines"].items()}     # the measured curve's colour per λ
            assert all(t["color"] == colors[t["wd"]] for t in f["laws"])
            assert 0.0 not in {t["wd"] for t in f["laws"]}            # λ = 0: no law
        if width < 500:   # stacked: each figure takes the page's width, one under the other
            assert len({round(f["x"]) for f in figs}) == 1 and len({round(f["y"]) for f in figs}) == 3
            assert all(f["w"] > 0.8 * width for f in figs)
        else:             # two a row
            assert by["max_abs_w"]["y"] == pytest.approx(by["rot1"]["y"], abs=2) and by["norm1"]["y"] > by["rot1"]["y"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"law_lines_{width}.png"), full_page=True)
    finally:
        context.close()
