"""Prints how the app holds up when a class opens links at once: 8 Chromium visitors on one loopback server.

Starts `streamlit run app.py` on 127.0.0.1 (WDLAB_DEMO=1 by default, as on the host), opens N browser contexts
at the same moment, each with its own share link of a default sweep (or all the same link with --same), and
prints: finished (and whether each waited in the queue first), time to first curve and to the final figure
(median and worst), the server's peak RSS (VmRSS from /proc, sampled every 50 ms), and whether every visitor
saw its own configuration. With --same, a sweep that ran once shows no queue to anyone and one training time.
Bounded: --timeout seconds in all (default 300), N ≤ 16 visitors; the server is stopped at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from support import ARGS as BASE_ARGS
from support import CHROMIUM, FIRST_CURVE_JS, ROOT, start_server

ARGS = [*BASE_ARGS,
        # each visitor is a foreground tab on its own machine: no page here may be throttled as hidden
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
        "--disable-background-timer-throttling"]
# Every drawn (panel, λ, last epoch) of the loss/norm lines, from the charts on screen (a live chart's box holds a
# second, hidden chart while it redraws: results.steady_chart).
LINES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(el => el.offsetHeight > 0)
    .flatMap(el => (el._fullData || []).filter(t => t.meta && t.meta.role === 'line')
    .map(t => [t.meta.panel, t.meta.wd, Math.max(...Array.from(t.x))]))"""
# The final figures: 'Trained' (or a cached result 'Reused') and every λ's training-loss and ‖w‖₂ lines at the last
# epoch (the finished charts mount a moment after 'Trained' shows).
FINAL_JS = """([wds, epochs]) => { if (!/Trained |Reused /.test(document.body.innerText)) return false;
    const drawn = (""" + LINES_JS + """)();
    return ['train_loss', 'l2_norm'].every(p => wds.every(w =>
        drawn.some(([panel, wd, last]) => panel === p && wd === w && last === epochs))); }"""
# In each page, every 50 ms: the highest queue position shown, and when (ms after navigation) each stage first showed.
WATCH_QUEUE = """window.__queued = 0; window.__t = {}; setInterval(() => { if (!document.body) return;
    const text = document.body.innerText, mark = k => { if (!(k in window.__t)) window.__t[k] = performance.now(); };
    const m = text.match(/Waiting in the queue: position (\\d+)/);
    if (m) { window.__queued = Math.max(window.__queued, +m[1]); mark('queued'); }
    if (document.querySelector('[data-testid=stSidebar]')) mark('page');
    if (document.querySelector('.js-plotly-plot')) mark('axes');
    if (/Training: epoch [1-9]/.test(text)) mark('training');
    if (/Trained |Reused /.test(text)) mark('trained'); }, 50);"""


BROWSER_CPU = [0.0]  # CPU seconds the browsers spent during the crowd (set by crowd())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids=None) -> float:
    """CPU time (user + system) used so far by the processes `pids`, or by every Chromium process when None."""
    tick = os.sysconf("SC_CLK_TCK")
    if pids is None:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()
                and _read(f"/proc/{d}/comm").strip() in ("chromium", "chrome", "headless_shell")]
    total = 0
    for pid in pids:
        fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
        if len(fields) > 13:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:  # the process ended meanwhile
        return ""


class Sampler(threading.Thread):
    """The server's resident memory every 50 ms, until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return


async def visit(browser, url: str, cfg, timeout_ms: int, note: dict) -> dict:
    """One visitor; `note` holds what it reached so far (printed even when the crowd times out)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        note["page"] = page
        await page.add_init_script(WATCH_QUEUE)
        start = time.perf_counter()
        await page.goto(url, timeout=timeout_ms)  # Playwright's 30 s default: 10 of 12 loads missed it at load 12
        await page.wait_for_function(FIRST_CURVE_JS, polling=50, timeout=timeout_ms)
        note["first"] = first = time.perf_counter() - start
        await page.wait_for_function(FINAL_JS, arg=[list(cfg.weight_decays), cfg.epochs], polling=50,
                                     timeout=timeout_ms)
        final = time.perf_counter() - start
        drawn = await page.evaluate(LINES_JS)
        lr = await page.locator('[data-testid="stMultiSelect"]').filter(has_text="learning rates").inner_text()
        text = await page.inner_text("body")
        took = re.search(r"Trained .*? in ([0-9.]+) s", text)
        lines = {(panel, wd) for panel, wd, _ in drawn if panel in ("train_loss", "l2_norm")}
        own = (lines == {(p, float(w)) for p in ("train_loss", "l2_norm") for w in cfg.weight_decays}
               and all(e == cfg.epochs for _, _, e in drawn) and repr(cfg.lr) in lr)
        marks = await page.evaluate("""() => { const t = Object.assign({}, window.__t);
            for (const r of performance.getEntriesByType('resource')) if (r.name.includes('PlotlyChart')) {
                t['plotly.js asked'] = r.startTime; t['plotly.js loaded'] = r.responseEnd; }
            return t; }""")
        return {"first": first, "final": final, "queued": await page.evaluate("window.__queued"), "own": own,
                "seen": f"(panel, λ, last epoch) drawn {drawn}, learning rate field {lr!r}", "train_s": took.group(1) if took else "?",
                "marks": " ".join(f"{k} {v / 1000:.1f}" for k, v in sorted(marks.items(), key=lambda kv: kv[1])),
                "stages": {k: v / 1000 for k, v in marks.items()}}
    finally:
        note.pop("page", None)
        await context.close()


async def crowd(base: str, configs: list, timeout_s: float) -> list[dict]:
    from playwright.async_api import async_playwright

    from wdlab.settings.params import to_query
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            warm = await browser.new_page()  # the first page load pays torch's import and the job pool's start
            t = time.perf_counter()
            await warm.goto(base)
            await warm.get_by_text("Weight Decay Lab").first.wait_for(timeout=120_000)
            print(f"server warm-up (first page load): {time.perf_counter() - t:.1f} s")
            await warm.close()
            browser0 = cpu_seconds()
            urls = [base + "?" + "&".join(f"{k}={v}" for k, v in to_query(c).items()) for c in configs]
            notes = [{} for _ in configs]
            tasks = [asyncio.ensure_future(visit(browser, u, c, int(timeout_s * 1000), note))
                     for u, c, note in zip(urls, configs, notes)]
            await asyncio.wait(tasks, timeout=timeout_s)
            results = []
            for task, note in zip(tasks, notes):
                if task.done():
                    results.append(task.exception() or task.result())
                    continue
                seen = "?"
                if "page" in note:  # what this visitor's page says when time ran out
                    try:
                        seen = " ".join((await note["page"].inner_text("body")).split())[-300:]
                    except Exception as e:
                        seen = f"({type(e).__name__})"
                task.cancel()
                results.append(TimeoutError(f"first curve: {note.get('first', 'never')}; page: {seen}"))
            await asyncio.gather(*tasks, return_exceptions=True)
            BROWSER_CPU[0] = cpu_seconds() - browser0
            return results
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--same", action="store_true", help="every visitor opens the same link")
    parser.add_argument("--no-demo", action="store_true", help="the default limits instead of WDLAB_DEMO=1")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole crowd")
    parser.add_argument("--after", type=float, default=0.0, metavar="S",
                        help="keep the server S seconds after the browsers closed and print its RSS as it goes (the "
                             "app closes a departed session after Streamlit's 120 s reconnect window)")
    parser.add_argument("--worst", choices=("memory", "time"),
                        help="each visitor opens a variant (its own lr) of the demo's worst accepted link by that "
                             "measure (benchmarks/worst_case.py)")
    args = parser.parse_args()
    n = max(1, min(args.visitors, 16))

    from wdlab.settings.config import SweepConfig
    # A default sweep each; distinct links differ in lr and epochs, so each visitor's figure is recognisably its own.
    configs = [SweepConfig() if args.same else SweepConfig(lrs=(0.01 + 0.001 * i,), epochs=100 + i) for i in range(n)]
    if args.worst:
        from benchmarks.worst_case import search
        longest, most = search(presets_only=True)
        worst, _, est = longest if args.worst == "time" else most
        print(f"worst accepted link by {args.worst}: {worst} — estimated {est.describe()}")
        configs = [worst if args.same else worst.replace(lrs=(0.01 + 0.001 * i,)) for i in range(n)]
    load_before = os.getloadavg()   # other work on the machine shares its cores with the server and the browsers
    env = dict(os.environ, WDLAB_DEMO="0" if args.no_demo else "1")
    import tempfile
    log = tempfile.TemporaryFile("w+")
    proc, base = start_server(env=env, log=log)
    sampler = Sampler(proc.pid)
    sampler.start()
    try:
        idle = rss_mb(proc.pid)
        t0, server0 = time.perf_counter(), cpu_seconds([proc.pid])
        results = asyncio.run(crowd(base, configs, args.timeout))
        wall, server_cpu = time.perf_counter() - t0, cpu_seconds([proc.pid]) - server0
        browser_cpu = BROWSER_CPU[0]
        after = rss_mb(proc.pid)
        during = sampler.peak
        sampler.peak = after   # from here: the peak after the browsers closed
        later = []   # (seconds after the browsers closed, RSS)
        closed_at = time.perf_counter()
        while time.perf_counter() - closed_at < args.after:
            time.sleep(min(10.0, args.after - (time.perf_counter() - closed_at)))
            later.append((time.perf_counter() - closed_at, rss_mb(proc.pid)))
    finally:
        sampler.stop.set()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    ok = [r for r in results if isinstance(r, dict)]
    for i, r in enumerate(results):
        if isinstance(r, dict):
            print(f"visitor {i + 1}: first curve {r['first']:.2f} s, final {r['final']:.2f} s, "
                  f"{'queued then ' if r['queued'] else ''}finished, own config: {r['own'] or r['seen']}, "
                  f"training took {r['train_s']} s\n    seen at (s): {r['marks']}")
        else:
            print(f"visitor {i + 1}: FAILED: {type(r).__name__}: {str(r)[:700]}")
    print(f"\n{n} visitors, {'the same link' if args.same else 'different links'}, "
          f"{'default' if args.no_demo else 'demo'} limits, {os.cpu_count()} cores:")
    print(f"  finished: {len(ok)} of {n} ({sum(1 for r in ok if r['queued'])} waited in the queue first)")
    if ok:
        firsts, finals = [r["first"] for r in ok], [r["final"] for r in ok]
        print(f"  first curve: median {statistics.median(firsts):.2f} s, worst {max(firsts):.2f} s")
        print(f"  final figure: median {statistics.median(finals):.2f} s, worst {max(finals):.2f} s")
        for stage, meaning in (("trained", "the server's work done ('Trained' on the page)"),
                               ("plotly.js loaded", "the browser holds Plotly's 4.7 MB chunk")):
            at = [r["stages"][stage] for r in ok if stage in r["stages"]]
            if at:
                print(f"    of which {meaning}: median {statistics.median(at):.1f} s")
        print(f"  every visitor saw only its own configuration: {all(r['own'] for r in ok) and len(ok) == n}")
    print(f"  server RSS: {idle:.0f} MB before the first page, peak {during:.0f} MB, {after:.0f} MB after "
          f"(budget 800 MB)")
    if later:
        log.seek(0)
        text = log.read()
        closed = sum(int(n) for n in re.findall(r"wdlab: closed (\d+) session", text))
        cancelled = sum(int(n) for n in re.findall(r"wdlab: cancelled (\d+) sweep", text))
        print(f"  after the browsers closed: peak {sampler.peak:.0f} MB; "
              + ", ".join(f"+{t:.0f} s {mb:.0f} MB" for t, mb in later)
              + f"; departed visitors' sweeps cancelled: {cancelled}; sessions closed: {closed}")
    print(f"  CPU over {wall:.0f} s ({os.cpu_count()} cores = {wall * (os.cpu_count() or 1):.0f} CPU-s): server "
          f"{server_cpu:.0f} CPU-s, the {n} browsers {browser_cpu:.0f} CPU-s")
    print("  machine load average (1, 5, 15 min): before " + " ".join(f"{x:.1f}" for x in load_before)
          + ", after " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    if args.same and ok:
        times = {r["train_s"] for r in ok}
        once = len(times) == 1 and max(r["queued"] for r in ok) <= 1
        print(f"  the sweep ran once: {once} (training times shown: {sorted(times)}; with one worker, copies would "
              f"queue behind each other: highest queue position seen {max(r['queued'] for r in ok)})")
    sys.exit(0 if len(ok) == n else 1)


if __name__ == "__main__":
    main()
