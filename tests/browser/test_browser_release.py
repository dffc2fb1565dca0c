"""A closed tab's upload is freed: the server releases the table (and Streamlit's copy of the file)."""
import re
import time

import pytest

from support import CSV_GOOD, start_server, stop

pytestmark = pytest.mark.browser


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0



def wait_in_log(log, line: str, seconds: float, failure: str) -> None:
    """Until the server's log holds `line` (read again every 0.2 s); AssertionError with the log's tail after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log.seek(0)
        if line in log.read():
            return
        time.sleep(0.2)
    log.seek(0)
    raise AssertionError(f"{failure}; server log: {log.read()[-2000:]}")

def test_closing_the_tab_releases_its_upload(browser, tmp_path):
    from playwright.sync_api import expect
    log = open(tmp_path / "server.log", "w+")
    proc, url = start_server(env={"WDLAB_HEARTBEAT_S": "2"}, log=log)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url + "?preset=csv&wd=0&epochs=2&hidden=4")
        page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
            files=[{"name": "table.csv", "mimeType": "text/csv", "buffer": CSV_GOOD}])
        expect(page.locator('[class*="st-key-wdnote-success-"]')).to_contain_text("Regression of", timeout=60_000)
        held = rss_mb(proc.pid)
        context.close()  # the tab goes: its websocket closes, Streamlit keeps the session for a reconnect
        wait_in_log(log, "released the table of a closed session", 60, "the table was never released")
        print(f"server RSS holding the table {held:.0f} MB, after release {rss_mb(proc.pid):.0f} MB")
    finally:
        stop(proc)
        log.close()



def test_closed_tabs_sessions_are_closed_after_the_reconnect_window(browser, tmp_path):
    """Streamlit reaps its stored sessions only when another is stored: without the janitor two closed tabs'
    sessions (their figures) stayed for as long as the server ran. (A tab back in time is kept: test_sessions.)"""
    log = open(tmp_path / "server.log", "w+")
    proc, url = start_server(env={"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2"}, log=log)
    try:
        tabs = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
        for i, context in enumerate(tabs):
            page = context.new_page()
            page.goto(url + f"?preset=moons&wd=0,0.1&epochs={3 + i}&hidden=4")
            page.get_by_text("Trained ").first.wait_for(timeout=120_000)
        held = rss_mb(proc.pid)
        for context in tabs:
            context.close()
        deadline, closed = time.monotonic() + 60, 0
        while time.monotonic() < deadline and closed < 2:
            log.seek(0)
            closed = sum(int(n) for n in re.findall(r"wdlab: closed (\d+) session", log.read()))
            time.sleep(0.2)
        log.seek(0)
        assert closed == 2, f"closed {closed} of the 2 sessions; server log: {log.read()[-2000:]}"
        print(f"server RSS with 2 tabs {held:.0f} MB, after they were closed {rss_mb(proc.pid):.0f} MB")
    finally:
        stop(proc)
        log.close()


def test_closing_the_tab_cancels_its_sweep_long_before_the_heartbeat(browser, tmp_path):
    """A departed visitor's sweep trained on for nobody until its heartbeat ran out (90 s; here 600 s): 12 closed
    tabs raised the server's memory by 290 MB. The tab's websocket closes with it, and its sweep stops."""
    log = open(tmp_path / "server.log", "w+")
    proc, url = start_server(env={"WDLAB_HEARTBEAT_S": "600"}, log=log)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url + "?preset=moons&wd=0,0.1&epochs=50000&hidden=256,256&seeds=0")
        page.get_by_text("Training: epoch").first.wait_for(timeout=120_000)
        context.close()
        closed = time.monotonic()
        wait_in_log(log, "wdlab: cancelled 1 sweep(s) of a visitor who left", 120, "the sweep was not cancelled")
        print(f"the departed tab's sweep was cancelled {time.monotonic() - closed:.1f} s after the tab closed")
    finally:
        stop(proc)
        log.close()
