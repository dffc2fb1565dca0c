"""What the tests and benchmarks share: Debian's Chromium, a `streamlit run` on loopback, AppTest helpers.

Nothing here runs in the app; it lives beside the tests so that tests and benchmarks import one copy of it
(`from support import ...`) instead of each other's modules.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from wdlab.data.reading import MAX_COLUMNS, MAX_ROWS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# True once any chart draws a loss/norm line with at least two epochs.
FIRST_CURVE_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].some(el => (el._fullData || [])
    .some(t => t.meta && t.meta.role === 'line' && t.x && t.x.length >= 2))"""
# What every Plotly chart on the page draws (_fullData: arrays decoded from plotly's base64): per chart, its traces'
# role, panel, λ and epochs drawn so far.
CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => (el._fullData || []).map(t => ({
    role: t.meta ? t.meta.role : null, panel: t.meta ? t.meta.panel : null, wd: t.meta ? t.meta.wd : null,
    name: t.name || null, n: t.x ? t.x.length : 0, xmax: t.x && t.x.length ? Math.max(...Array.from(t.x)) : null})))"""
# Counts the script runs a page has seen start (Streamlit marks the app with data-test-script-state).
_RUNS_JS = """() => { if (window.__wdlabRuns !== undefined) return;
    window.__wdlabRuns = 0; window.__wdlabSeen = 0;
    new MutationObserver(() => { const el = document.querySelector('[data-test-script-state]');
        const state = el && el.getAttribute('data-test-script-state');
        if (state === 'running' && window.__wdlabLast !== 'running') window.__wdlabRuns += 1;
        window.__wdlabLast = state; })
      .observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']}); }"""


# -- the server -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: str = "app.py", cwd: Path = ROOT, env: dict | None = None, log=subprocess.DEVNULL,
                 timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """Serve `app` on a free loopback port; return the process and its URL once it listens (RuntimeError if it
    exits or does not listen within `timeout` s)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=cwd, env=dict(os.environ, **(env or {})), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {proc.returncode}")
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"streamlit did not start listening within {timeout:g} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def streamlit_server(env: dict | None = None):
    """For tests: serve app.py on loopback, yield its URL, stop it afterwards. Its log goes to a temporary file
    (a pipe nobody drains could fill and stall the server) and is quoted when it fails to start."""
    import pytest
    with tempfile.TemporaryFile("w+") as log:
        try:
            proc, url = start_server(env=env, log=log)
        except RuntimeError as e:
            log.seek(0)
            pytest.fail(f"{e}: {log.read()[-2000:]}")
        try:
            yield url
        finally:
            stop(proc)


# -- the browser ------------------------------------------------------------------------------------------------
def unavailable(reason: str):
    """Skip locally; in CI (WDLAB_REQUIRE_BROWSER set) a missing browser is a failure, never a skip."""
    import pytest
    if os.environ.get("WDLAB_REQUIRE_BROWSER"):
        pytest.fail(f"browser test cannot run: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium driven by Playwright: yields the browser, closed afterwards; `unavailable` if it can't."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as e:
            unavailable(f"Chromium did not start: {e}")
        try:
            yield browser
        finally:
            browser.close()


def watch_runs(page) -> None:
    """Count the page's script runs from now on (idle() then waits for the next one to finish)."""
    page.evaluate(_RUNS_JS)


def idle(page, start_timeout: float = 5.0):
    """Wait until the script run a click or widget change started has finished: the run is seen to start
    (a counter in the page, when watch_runs was called), then the app to be not running."""
    page.evaluate(_RUNS_JS)
    try:
        page.wait_for_function("() => window.__wdlabRuns > window.__wdlabSeen", timeout=start_timeout * 1000)
    except Exception:
        pass  # the action started no run (or it started and ended before the counter was installed)
    page.evaluate("() => { window.__wdlabSeen = window.__wdlabRuns; }")
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)


def charts(page) -> list:
    return page.evaluate(CHARTS_JS)


def chart_lines(chart: list, panel: str) -> list:
    return [t for t in chart if t["role"] == "line" and t["panel"] == panel]


def wait_final(page, timeout: float = 180) -> list:
    page.get_by_text("Trained ").first.wait_for(timeout=timeout * 1000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=30_000)
    return charts(page)


# -- AppTest helpers (the app opened in AppTest: wdlab/ui/apptest.py, as only wdlab/ui imports streamlit) ----------
def finished(at, timeout: float = 120):
    """AppTest never fires run_every: rerun the page until the job's finished view is drawn (its success line,
    the cancelled note, or every model diverged); AssertionError after `timeout` s."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if at.success or any("cancelled after" in i.value for i in at.info) or \
                any("so training stopped there" in w.value for w in at.warning):
            return at
        time.sleep(0.2)
    raise AssertionError("the sweep did not finish")


def chart_specs(at) -> list[dict]:
    """Every Plotly figure on the page, as the JSON Streamlit sends (AppTest has no plotly wrapper)."""
    import json
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(v) -> list:
    """A trace's array as sent to the browser (plotly sends numeric arrays base64-encoded)."""
    import numpy as np
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


# -- the CLI interrupted -------------------------------------------------------------------------------------
@contextlib.contextmanager
def busy_loop():
    """One CPU-bound process (a Python busy loop) running for the duration of the block, then killed."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield hog
    finally:
        hog.kill()
        hog.wait()


def interrupted_run(argv: list[str], *, env: dict | None = None, timeout: float = 120, min_epoch: int = 1,
                    signals: int = 1) -> tuple[int, str]:
    """`python -m wdlab run *argv`, sent Ctrl-C (SIGINT) once training has begun (its progress bar shows epoch
    `min_epoch` or later; AssertionError if it ends first or shows none within 300 s), `signals` times 0.5 s
    apart: its exit status and all it wrote to stderr."""
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "wdlab", "run", *argv], cwd=ROOT, stderr=subprocess.PIPE,
                            text=True, env=None if env is None else dict(os.environ, **env))
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while max(map(int, re.findall(r"epoch (\d+)/", "".join(err))), default=0) < min_epoch:
        assert proc.poll() is None and time.monotonic() < deadline, "".join(err)
        time.sleep(0.05)
    for i in range(signals):
        time.sleep(0.5 if i else 0)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout)
    reader.join(10)
    return code, "".join(err)


# -- a stand-in for the engine ------------------------------------------------------------------------------------
class GatedRunner:
    """Stands in for run_sweep (the job manager's backend: InProcess(GatedRunner())): emits one row per member and
    epoch, and holds each epoch until `gate` opens, so tests decide when jobs progress. Records every config it
    was asked to train."""

    def __init__(self, open_gate: bool = False, fail: bool = False):
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.fail = fail
        self.calls = []
        self.started = threading.Semaphore(0)
        self.lock = threading.Lock()

    def __call__(self, cfg, *, data, on_epoch, cancel, **_knobs):  # keeps no snapshots: it has no weights
        from wdlab.frame.schema import FrameBuilder
        from wdlab.engine.sweep import SweepResult
        with self.lock:
            self.calls.append((cfg, data))
        self.started.release()
        if self.fail:
            raise RuntimeError("boom")
        builder = None
        for epoch in range(cfg.epochs + 1):
            n = len(cfg.weight_decays)
            rows = {"weight_decay": list(cfg.weight_decays), "seed": [cfg.seeds[0]] * n, "epoch": [epoch] * n,
                    "train_loss": [1.0 / (epoch + 1)] * n, "train_eval_loss": [1.0 / (epoch + 2)] * n,
                    "val_loss": [1.0] * n, "l2_norm": [2.0] * n, "diverged": [False] * n}
            builder = builder or FrameBuilder(list(rows))
            builder.add(rows)
            on_epoch(epoch, rows)
            while not self.gate.wait(0.005):
                if cancel.is_set():
                    return SweepResult(cfg, builder.frame(), "cancelled", epochs_done=epoch)
        return SweepResult(cfg, builder.frame(), "done", epochs_done=cfg.epochs, seconds=0.01)


# -- tables for the CSV tests -------------------------------------------------------------------------------------
def csv_table(header, rows, sep=",") -> bytes:
    return (sep.join(header) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows)).encode()


def good_rows(n=40):
    # name has quoted commas; color is a 3-value category; y is a noisy linear target
    return [[f'"Smith, {i}"', ("red", "blue", "green")[i % 3], i * 0.5, (i * 7) % 11, round(i * 1.5 + (i % 3), 2)]
            for i in range(n)]


CSV_GOOD = csv_table(["name", "color", "x1", "x2", "y"], good_rows())
CSV_NUMS = [[i, (i * 7) % 11, i * 2] for i in range(30)]

# (id, file bytes, target, task, kind): made here, each one of the cases the issue lists
CSV_BAD = [
    ("empty", b"", "y", None, "empty"),
    ("blank lines", b"\n \r\n\n", "y", None, "empty"),
    ("header only", b"a,b,y\n", "y", None, "header_only"),
    ("one column", csv_table(["y"], [[i] for i in range(20)]), "y", None, "one_column"),
    ("target missing", CSV_GOOD, "price", None, "target_missing"),
    ("target constant", csv_table(["a", "y"], [[i, 1] for i in range(20)]), "y", None, "target_constant"),
    ("features all text", csv_table(["who", "y"], [[f"p{i}", i] for i in range(20)]), "y", None, "no_numeric_features"),
    ("everything NaN", b"a,b,y\n,,\nNA,nan,\n,,NaN\n", "y", None, "all_missing"),
    ("target empty", csv_table(["a", "y"], [[i, ""] for i in range(20)]), "y", None, "all_missing"),
    ("single row", b"a,y\n1,2\n", "y", None, "too_few_rows"),
    ("too few rows for a split", csv_table(["a", "y"], [[i, i] for i in range(5)]), "y", None, "too_few_rows"),
    ("too few complete rows", csv_table(["a", "y"], [[i, i if i < 4 else ""] for i in range(30)]), "y", None,
     "too_few_rows"),
    ("every row infinite", csv_table(["a", "y"], [[("inf", "-inf")[i % 2], i] for i in range(20)]), "y", None, "infinite"),
    ("rows missing or infinite", csv_table(["a", "y"], [[("inf", "", "-inf")[i % 3], i] for i in range(21)]), "y", None,
     "infinite"),
    ("latin-1 bytes", "name,y\ncafé,1\n".encode("latin-1"), "y", None, "not_utf8"),
    ("utf-16", "a,y\n1,2\n".encode("utf-16"), "y", None, "not_utf8"),
    ("binary renamed .csv", bytes(range(256)) * 8, "y", None, "binary"),
    ("xlsx renamed .csv", b"PK\x03\x04" + b"\x14\x00" * 50, "y", None, "binary"),
    ("too many columns", csv_table([f"c{i}" for i in range(MAX_COLUMNS + 1)], [range(MAX_COLUMNS + 1)]), "c0", None,
     "too_many_columns"),
    ("one-hot too wide", csv_table([f"c{j}" for j in range(101)] + ["y"], [[f"v{i}"] * 101 + [i] for i in range(10)]), "y",
     None, "too_many_columns"),
    ("too many rows", csv_table(["a", "y"], [[i % 7, i % 5] for i in range(MAX_ROWS + 1)]), "y", None, "too_many_rows"),
    ("row too long", b"a,b,y\n1,2,3\n4,5,6,7\n", "y", None, "malformed"),
    ("unclosed quote", b'a,b,y\n1,2,3\n"4,5,6\n7,8,9\n', "y", None, "malformed"),
    ("text target for regression", CSV_GOOD, "color", "regression", "target_not_numeric"),
    ("too many classes", csv_table(["a", "y"], [[i, i] for i in range(80)]), "y", "classification", "too_many_classes"),
    ("unknown task", CSV_GOOD, "y", "ranking", "bad_option"),
]


def runner_failing_on_width_3(cfg, **kw):
    """A sweep (run_sweep's signature; a backend's `sweep=`) that fails for any architecture with a 3-wide layer: a backend's
    failure path, tested with a real failure inside a real worker."""
    if 3 in cfg.hidden:
        raise RuntimeError("this group was made to fail (a 3-wide layer)")
    from wdlab.engine.sweep import run_sweep
    return run_sweep(cfg, **kw)


def runner_failing_past_member_0(cfg, *, members=None, **kw):
    """A sweep runner that fails in any worker whose run of members does not start at the first member."""
    if members is not None and members.start > 0:
        raise RuntimeError("this run of members was made to fail")
    from wdlab.engine.sweep import run_sweep
    return run_sweep(cfg, members=members, **kw)


def runner_dying_past_member_0(cfg, *, members=None, on_epoch=None, **kw):
    """A sweep runner whose worker process dies (exit status 3, no goodbye) after epoch 2 of any run of members
    past the first member: a crash, not an exception."""
    from wdlab.engine.sweep import run_sweep

    def listen(epoch, rows):
        on_epoch(epoch, rows)
        if members is not None and members.start > 0 and epoch >= 2:
            os._exit(3)
    return run_sweep(cfg, members=members, on_epoch=listen, **kw)


def app(query: str = ""):
    """The whole app (app.py) in AppTest, opened with `query` as its URL parameters."""
    from streamlit.testing.v1 import AppTest  # streamlit only for the tests that open the app
    at = AppTest.from_file(APP, default_timeout=60)
    for part in query.lstrip("?").split("&"):
        if part:
            key, _, value = part.partition("=")
            at.query_params[key] = value
    return at.run()


# -- a quiz scenario trained headless -------------------------------------------------------------------------------
def train_scenario(scenario, limits=None) -> tuple[list, list]:
    """(frames, models): each run's frame and, for a scenario whose questions read the model (quiz_model), its
    parameter snapshots (else None), planned as the app's jobs plan them (run.train.prepare); quiz.grade takes
    both. The app runs them as jobs instead."""
    from wdlab.run.train import prepare, train
    from wdlab.settings.config import DEFAULT_LIMITS
    pictures = any(getattr(q, "uses_models", False) for q in scenario.questions)
    frames, models = [], []
    for r in scenario.runs:
        work = prepare(r.config, limits=limits or DEFAULT_LIMITS, snapshots=pictures)
        work.check()
        frames.append(train(work).frame)
        models.append(work.plans[0].snapshots)
    return frames, models


# -- exported scripts ("Show me the code") ------------------------------------------------------------------------
FINAL = re.compile(r"^Final training loss: (\S+)$")
EPOCH = re.compile(r"^epoch (\d+)/\d+: training loss (\S+), validation loss (\S+)$")


def run_script(code: str, cwd: Path) -> tuple[list[tuple[int, float, float]], float]:
    """Run the script as its own process (no wdlab on the path); (per-epoch lines, final training loss)."""
    path = cwd / "member.py"
    path.write_text(code)
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    final = FINAL.match(lines[-1])
    assert final, f"the last line is {lines[-1]!r}"
    epochs = [(int(m[1]), float(m[2]), float(m[3])) for m in map(EPOCH.match, lines[:-1]) if m]
    return epochs, float(final[1])
