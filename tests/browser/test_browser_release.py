"""A closed tab's upload is freed: the server releases the table (and Streamlit's copy of the file)."""
import time

import pytest

from support import CSV_GOOD, start_server, stop

pytestmark = pytest.mark.browser


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log.seek(0)
            if "released the table of a closed session" in log.read():
                break
            time.sleep(0.2)
        else:
            log.seek(0)
            raise AssertionError(f"the table was never released; server log: {log.read()[-2000:]}")
        print(f"server RSS holding the table {held:.0f} MB, after release {rss_mb(proc.pid):.0f} MB")
    finally:
        stop(proc)
        log.close()
