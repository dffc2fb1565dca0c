"""What the browser tests share: Debian's Chromium, the skip-or-fail rule, and a `streamlit run` on loopback."""
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "artifacts"


def unavailable(reason: str):
    """Skip locally; in CI (WDLAB_REQUIRE_BROWSER set) a missing browser is a failure, never a skip."""
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


def idle(page):
    """Wait until the script run a click or widget change started has finished."""
    page.wait_for_timeout(200)  # the rerun starts after a round trip to the server
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=60_000)


@contextlib.contextmanager
def streamlit_server(env: dict | None = None):
    """Serve app.py on a free loopback port; yield its URL; stop it afterwards. Its log goes to a temporary file
    (a pipe nobody drains could fill and stall the server) and is quoted if it fails to start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                 "--server.port", str(port), "--server.address", "127.0.0.1"],
                                cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None:
                        log.seek(0)
                        pytest.fail(f"streamlit exited: {log.read()[-2000:]}")
                    time.sleep(0.2)
            else:
                pytest.fail("streamlit did not start listening within 60 s")
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
