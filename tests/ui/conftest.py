"""The app's tests run under today's full limits, as a practitioner's own (WDLAB_LIMITS): off the demo the app
caps sizes only by memory, and these tests were written against the caps (a 2,001-epoch field refused, a huge
link cut down). Tests of the machine's limits unset it; demo mode ignores it."""
import dataclasses

import pytest

from wdlab.settings.config import DEFAULT_LIMITS


@pytest.fixture(autouse=True)
def todays_limits(tmp_path_factory, monkeypatch):
    from wdlab.ui.state import limits_cache  # defer: streamlit
    path = tmp_path_factory.getbasetemp() / "todays_limits.toml"
    if not path.exists():
        path.write_text("".join(f"{f.name} = {getattr(DEFAULT_LIMITS, f.name)}\n"
                                for f in dataclasses.fields(DEFAULT_LIMITS) if f.name != "machine"))
    monkeypatch.setenv("WDLAB_LIMITS", str(path))
    limits_cache.clear()  # computed once per server: each test its own environment's
    yield
    limits_cache.clear()
