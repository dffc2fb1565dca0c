"""Prints how fast the app shows a shared link: first curve, final figure vs the core's own sweep time, cached;
with the pictures of the models (wdlab/ui/model_view.py), when to the pictures and the server's CPU per open."""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

from support import ARGS, CHROMIUM, FIRST_CURVE_JS, start_server

FINAL_JS = """() => document.querySelectorAll('.js-plotly-plot').length >= 2
    && [...document.querySelectorAll('[data-testid="stAlertContentSuccess"], [data-testid="stAlert"]')]
       .some(e => /Trained |Reused /.test(e.innerText))"""  # a cached result says it was reused
# The model pictures drawn (a boundary, fitted curve, histogram or feature-bar trace rendered by Plotly).
PICTURES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].some(el => (el._fullData || [])
    .some(t => t.meta && ['boundary', 'fit', 'hist', 'feature'].includes(t.meta.role)))"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (its threads included: the sweep and the page runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# The floor: a bare Streamlit page holding only two small Plotly charts and the same "Trained" text (no wdlab).
FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st
for key in ("a", "b"):
    st.plotly_chart(go.Figure([go.Scatter(x=list(range(101)), y=[i * k for i in range(101)], meta={"role": "line"})
                               for k in range(4)]), key=key)
    st.success("Trained in 0.1 s.")
"""


def timed_open(context, url: str, pictures: bool = False) -> tuple[float, float, float | None]:
    """Seconds from navigation to the first drawn curve, to the final figure and (pictures=True) to the model
    pictures, in a new tab of `context`."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(FIRST_CURVE_JS, polling="raf", timeout=300_000)
    first = time.perf_counter() - start
    page.wait_for_function(FINAL_JS, polling="raf", timeout=300_000)
    final = time.perf_counter() - start
    seen = None
    if pictures:
        page.wait_for_function(PICTURES_JS, polling="raf", timeout=300_000)
        seen = time.perf_counter() - start
    page.close()
    return first, final, seen


def floor(browser, repeats: int) -> float:
    """Median seconds to show FLOOR_APP in a warm browser profile: what any Streamlit + Plotly page costs here."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "floor.py").write_text(FLOOR_APP)
        proc, base = start_server("floor.py", Path(tmp))
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            times = [timed_open(context, base)[1] for _ in range(repeats + 1)][1:]  # the first fills the cache
            context.close()
        finally:
            proc.terminate()
            proc.wait(10)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--wd", default="0,0.001,0.01,0.1")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="a fresh browser profile for every open")
    parser.add_argument("--preset", default="tutorial")
    parser.add_argument("--hidden", default=None, help="hidden widths, e.g. 64,64 (default: the preset's)")
    args = parser.parse_args()
    # the app under test draws the models' pictures when it has the module (a checkout from before it: not)
    pictures = importlib.util.find_spec("wdlab.ui.model_view") is not None

    import torch
    from playwright.sync_api import sync_playwright

    from wdlab.settings.config import DEFAULT_LIMITS
    from wdlab.settings.params import from_query
    from wdlab.engine.sweep import run_sweep
    # The core gets the thread count the app gives each sweep (wdlab.ui.state.manager): a like-for-like yardstick.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // DEFAULT_LIMITS.max_concurrent_jobs))
    from wdlab.engine.sweep import warm_up
    warm_up()  # the app pre-pays the first-optimizer import at start-up; so does the yardstick
    proc, base = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            t = time.perf_counter()
            # One browser profile throughout, like a visitor's browser: its HTTP cache holds Streamlit's bundle.
            # --cold gives every open a fresh profile (nothing cached, Plotly's 4.7 MB chunk fetched each time).
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(base)
            page.get_by_text("Weight Decay Lab").first.wait_for(timeout=120_000)
            print(f"server warm-up (first page load: torch import, job pool, optimizer pre-pay): "
                  f"{time.perf_counter() - t:.2f} s")
            page.close()
            rows = []
            for i in range(args.repeats):
                lr = 0.01 + 0.001 * i  # a new config each time, so nothing is cached yet
                query = {"preset": args.preset, "optimizer": args.optimizer, "wd": args.wd, "seeds": "0",
                         "epochs": str(args.epochs), "lr": repr(lr)}
                if args.hidden:
                    query["hidden"] = args.hidden
                cfg, _ = from_query(query)
                core = run_sweep(cfg).seconds  # the core alone, same config, while the server idles
                # ... and with a listener, as the app runs it: the engine then builds a DataFrame per epoch.
                core_live = run_sweep(cfg, on_epoch=lambda epoch, rows: None).seconds
                url = base + "?" + "&".join(f"{k}={v}" for k, v in query.items())
                ctx = (lambda: browser.new_context(viewport={"width": 1400, "height": 1000})) if args.cold \
                    else (lambda: context)
                cpu = cpu_seconds(proc.pid)
                first, final, seen = timed_open(ctx(), url, pictures)
                cpu_new = cpu_seconds(proc.pid) - cpu
                cpu = cpu_seconds(proc.pid)
                _, cached, seen_cached = timed_open(ctx(), url, pictures)
                cpu_cached = cpu_seconds(proc.pid) - cpu
                rows.append((first, final, core, cached, core_live, cpu_new, cpu_cached, seen or 0.0,
                             seen_cached or 0.0))
                shown = f" | pictures {seen:.2f} s (cached {seen_cached:.2f} s)" if pictures else ""
                print(f"run {i + 1}: first curve {first:.2f} s | final figure {final:.2f} s vs core sweep {core:.2f} s "
                      f"(UI adds {100 * (final - core) / core:+.0f} %) | cached link {cached:.2f} s{shown} | "
                      f"server CPU {cpu_new:.2f} s (cached {cpu_cached:.2f} s)")
            bare = floor(browser, args.repeats)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"\nmedian of {len(rows)}, {len(cfg.weight_decays)}-λ {args.preset} sweep, {args.epochs} epochs, "
          f"{os.cpu_count()} cores, model pictures {'on' if pictures else 'absent (this checkout has none)'}:")
    print(f"  share link -> first curve on screen: {med[0]:.2f} s   (target < 2 s)")
    print(f"  share link -> final figure:          {med[1]:.2f} s vs core {med[2]:.2f} s: "
          f"UI adds {100 * (med[1] - med[2]) / med[2]:+.0f} %   (target < +30 %)")
    print(f"  cached link -> final figure:         {med[3]:.2f} s   (target < 1 s): the page's fixed cost")
    print(f"  floor: a bare Streamlit page with two Plotly charts, warm browser: {bare:.2f} s — no page of this "
          f"stack shows a figure faster here; wdlab's page adds {med[3] - bare:+.2f} s")
    print(f"  training seen in the app (final − cached): {med[1] - med[3]:.2f} s vs core {med[2]:.2f} s "
          f"({med[4]:.2f} s with a per-epoch listener)")
    if pictures:
        print(f"  share link -> model pictures drawn:  {med[7]:.2f} s (cached link {med[8]:.2f} s)")
    print(f"  server CPU per open (page runs + training): {med[5]:.2f} s; cached link {med[6]:.2f} s")


if __name__ == "__main__":
    main()
