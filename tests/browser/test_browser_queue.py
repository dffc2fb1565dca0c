"""A page whose sweep waited in the queue: once the sweep starts, the page follows it as a page that never waited
does — its curves at the training rate and the pictures of the models while it trains."""
import pytest

from support import streamlit_server

pytestmark = pytest.mark.browser
LONG = "?preset=moons&wd=0&epochs=50000&hidden=64&seeds=0"


def test_a_sweep_that_waited_shows_its_pictures_once_it_trains(browser):
    """A waiting page polls slowly (its place in line moves only when a sweep ends) and reruns when its sweep
    starts; before, it kept "The pictures appear once training starts." until the sweep had finished."""
    with streamlit_server({"WDLAB_DEMO": "0", "WDLAB_CONCURRENT_JOBS": "1", "WDLAB_HEARTBEAT_S": "600"}) as url:
        first, second = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))
        try:
            ahead = first.new_page()
            ahead.goto(url + LONG)
            ahead.get_by_text("Training: epoch").first.wait_for(timeout=120_000)
            waiting = second.new_page()
            waiting.goto(url + LONG.replace("wd=0", "wd=0,0.1"))
            waiting.get_by_text("Waiting in the queue: position 1").first.wait_for(timeout=120_000)
            assert waiting.get_by_text("The pictures appear once training starts.").count() == 1
            first.close()   # the visitor ahead leaves: its sweep is cancelled and the waiting one starts
            waiting.get_by_text("Training: epoch").first.wait_for(timeout=120_000)
            waiting.get_by_text("the latest so far, training goes on").first.wait_for(timeout=120_000)
            assert waiting.get_by_text("Trained ").count() == 0   # still training: the pictures came live
        finally:
            first.close()
            second.close()
