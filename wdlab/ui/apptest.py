"""The whole app in Streamlit's AppTest, for the tests (wdlab/testing.py holds the rest they share)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ..testing import APP


def app(query: str = "") -> AppTest:
    """The whole app (app.py) in AppTest, opened with `query` as its URL parameters."""
    at = AppTest.from_file(APP, default_timeout=60)
    for part in query.lstrip("?").split("&"):
        if part:
            key, _, value = part.partition("=")
            at.query_params[key] = value
    return at.run()
