"""Shared fixtures: torch on one thread, a gated fake runner, clean Streamlit caches, a server and a browser."""
import os
from pathlib import Path

import pytest
import torch

# The runners the worker and Ray tests name ("support:runner_…") are imported by child processes: give them tests/.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))

from support import GatedRunner, chromium, streamlit_server

# Two OpenMP threads per process on shared cores were measured 20-100x slower than one when another process
# competes (they spin while waiting for each other); the members tested here are small, so one thread it is.
torch.set_num_threads(1)


@pytest.fixture
def gated_runner():
    return GatedRunner()


@pytest.fixture
def fresh_streamlit():
    """AppTest instances share Streamlit's caches: start each test with a new job registry, and stop it after."""
    import streamlit as st
    threads = torch.get_num_threads()  # the app's registry sets torch's thread count process-wide
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()  # on_release shuts the registry's worker threads down
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def server():
    """app.py served on loopback for one test module."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
