"""Hostile links: random and malformed query strings through the real app never raise, always name what is bad."""
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from wdlab.settings.config import DEMO_LIMITS, ConfigError
from wdlab.settings.params import BY_KEY
from wdlab.engine.budget import validate
from wdlab.ui.text import notes_of

STREAMLIT_MAX_PARAMS = 1000  # "Ignoring query string with N parameters because it exceeds the 1000 parameter limit"
APP = str(Path(__file__).resolve().parents[2] / "app.py")
KEYS = sorted(BY_KEY)
NASTY = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1", "-0.1", "-1e-4", "0", "", " ", "true",
         "full", "default", "linear", "9" * 400, "1e-400", "９", "٣", "0x10", "1_000", "None", "[]", "1,,,2",
         "<b>bold</b>", "<script>alert(1)</script>", "[click](http://example.invalid)", "![i](http://x.invalid/i.png)",
         "`code`", "$\\frac{1}{0}$", ":red[x]", ":material/home:", "javascript:alert(1)", "/etc/passwd",
         "../../../etc/passwd", "file:///etc/passwd", "{{7*7}}", "__import__('os').system('id')", "\x00", "λ=0.1",
         "0.1; DROP TABLE", "www.example.invalid", "\u202e0.1", "1e4", "100000", "2000", "1024,1024,1024,1024,1024"]
value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30),
    st.lists(st.sampled_from(["0", "-1", "nan", "1e-4", "abc", "1e400", "3"]), max_size=3000).map(",".join),
)
values = st.one_of(value, st.lists(value, min_size=2, max_size=4), st.just(["0.1"] * 2000))  # lists: repeated keys
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(["", " ", "WD", "lambda", "data", "file", "wd[]", "lr "]),
                 st.text(max_size=20)).filter(lambda k: k not in ("embed", "embed_options"))
queries = st.dictionaries(keys, values, max_size=6)


def bad_keys(query: dict) -> set[str]:
    """Keys the page must name: unknown ones, repeated ones, and known ones whose value does not parse."""
    bad = set()
    for key, raw in query.items():
        if isinstance(raw, list) and len(raw) > 1:
            bad.add(key)
        last = raw[-1] if isinstance(raw, list) else raw
        if key not in BY_KEY:
            bad.add(key)
            continue
        try:
            BY_KEY[key].parse(last)
        except ConfigError:
            bad.add(key)
    return bad


HOSTILE = {w for w in NASTY if re.search(r"[\[\]()<>`$!*_|~#]|://|www\.", w)}  # Markdown/HTML/autolink bait


@pytest.fixture(scope="module")
def demo_app():
    """The hosted setting (demo limits), one job registry for the module, cleared before and after."""
    import streamlit as st_
    mp = pytest.MonkeyPatch()
    mp.setenv("WDLAB_DEMO", "1")
    st_.cache_resource.clear()
    yield
    st_.cache_resource.clear()
    mp.undo()


@given(queries)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_link_shows_warnings_naming_what_is_bad_and_never_raises(demo_app, query):
    at = AppTest.from_file(APP, default_timeout=60)
    for key, raw in query.items():
        at.query_params[key] = raw
    at.run()
    assert not at.exception, at.exception
    if sum(len(v) if isinstance(v, list) else 1 for v in query.values()) > STREAMLIT_MAX_PARAMS:
        # Streamlit itself drops a query string of more parameters whole: the page is the default page
        assert not notes_of(at, "warning") and "job" not in at.session_state
        return
    warnings = notes_of(at, "warning")
    assert len(warnings) <= 1  # one note for the whole link, however many keys were bad
    shown = " ".join(warnings)
    for key in bad_keys(query):
        name = key if key in BY_KEY else repr(key[:40])
        assert name in shown, f"no warning names {name}: {shown[:500]}"
    # a link's words render as text: nothing of them reaches a Markdown element (st.text parses nothing)
    markdown = " ".join(e.value for e in (*at.markdown, *at.caption, *at.warning, *at.error, *at.info, *at.success))
    for key, raw in query.items():
        for word in [key, *(raw if isinstance(raw, list) else [raw])]:
            if word in HOSTILE:
                assert word not in markdown, word
    job = at.session_state["job"] if "job" in at.session_state else None
    if job is not None:  # whatever the link asked, what runs is within the demo's budget
        validate(job.cfg, DEMO_LIMITS)
        assert all(math.isfinite(w) and w >= 0 for w in job.cfg.weight_decays)
        from wdlab.ui.state import manager
        manager().cancel(job)  # the next example needs no CPU spent on this one
