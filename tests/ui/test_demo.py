"""The hosted demo's budget: when demo limits are on, that the page says so, and that a greedy link is cut down."""
import dataclasses
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, demo_mode, heartbeat_seconds, preset_config
from wdlab.ui.text import notes_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
GREEDY = {"epochs": "2000", "hidden": "512", "seeds": "0,1,2,3,4", "wd": "0,1e-5,1e-4,1e-3,1e-2,0.1,0.3,1,3",
          "optimizer": "adamw"}


def run(query=None, secrets=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    return at.run()


def test_demo_limits_are_tighter_everywhere():
    for f in dataclasses.fields(DEMO_LIMITS):
        assert getattr(DEMO_LIMITS, f.name) <= getattr(DEFAULT_LIMITS, f.name), f.name
    assert DEMO_LIMITS.max_concurrent_jobs == 1  # one small container: one sweep trains at a time


def test_demo_mode_switches():
    assert demo_mode({"WDLAB_DEMO": "1"}) and demo_mode({"WDLAB_DEMO": "true"})
    assert not demo_mode({"WDLAB_DEMO": "0"}) and not demo_mode({"WDLAB_DEMO": "no", "HOSTNAME": "streamlit"})
    assert demo_mode({}, secrets={"WDLAB_DEMO": True}) and not demo_mode({"WDLAB_DEMO": "1"}, {"WDLAB_DEMO": "off"})
    assert demo_mode({"HOSTNAME": "streamlit"})  # Community Cloud: on unless said otherwise
    assert "24 members" in DEMO_LIMITS.describe() and "500 epochs" in DEMO_LIMITS.describe()


def test_heartbeat_setting_is_bounded():
    assert heartbeat_seconds({}) == 90.0 and heartbeat_seconds({"WDLAB_HEARTBEAT_S": "2"}) == 2.0
    assert heartbeat_seconds({"WDLAB_HEARTBEAT_S": "soon"}) == 90.0
    assert heartbeat_seconds({"WDLAB_HEARTBEAT_S": "nan"}) == 90.0
    assert heartbeat_seconds({"WDLAB_HEARTBEAT_S": "0"}) == 1.0 and heartbeat_seconds({"WDLAB_HEARTBEAT_S": "1e9"}) == 3600


@pytest.mark.usefixtures("fresh_streamlit")
def test_a_greedy_link_on_the_demo_is_cut_to_defaults_and_still_runs(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")
    at = run(GREEDY)
    assert not at.exception and not notes_of(at, "error")
    assert any("Shared demo server" in c.value for c in at.sidebar.caption)
    text = " ".join(w for w in notes_of(at, "warning"))
    for key, limit in (("epochs", "at most 500"), ("hidden", "at most 256"), ("seeds", "at most 3"),
                       ("wd", "at most 8")):
        assert key in text and limit in text, (key, text)
    job = at.session_state["job"]
    own = preset_config("tutorial")  # a link without a preset: the tutorial's own settings stand in
    assert (job.cfg.epochs, job.cfg.hidden, job.cfg.seeds) == (own.epochs, own.hidden, own.seeds)
    assert job.cfg.optimizer == "adamw"  # the parts of the link within the budget are kept
    from wdlab.ui.state import manager
    m = manager()
    assert m.limits == DEMO_LIMITS and len(m._threads) == 2  # one worker (and the janitor)
    assert m.max_results == DEMO_LIMITS.max_results and m.max_result_bytes == DEMO_LIMITS.max_result_mb * 2**20
    deadline = time.monotonic() + 120
    while not at.success and time.monotonic() < deadline:  # nothing stalls: the cut-down sweep finishes
        time.sleep(0.3)
        at.run()
    assert at.success and not at.exception


@pytest.mark.usefixtures("fresh_streamlit")
def test_demo_controls_refuse_more_than_the_budget(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")
    at = run()
    at.number_input(key="cfg_epochs").set_value(DEMO_LIMITS.max_epochs + 1).run()
    assert not at.exception
    assert any(f"at most {DEMO_LIMITS.max_epochs}" in e for e in notes_of(at, "error"))
    assert at.button(key="train").disabled and "job" not in at.session_state


@pytest.mark.usefixtures("fresh_streamlit")
def test_a_secret_turns_demo_mode_on(monkeypatch):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    at = run({"epochs": "2000", "wd": "0"}, secrets={"WDLAB_DEMO": "true"})
    assert not at.exception
    assert any("Shared demo server" in c.value for c in at.sidebar.caption)
    assert any("epochs" in w and "at most 500" in w for w in notes_of(at, "warning"))


@pytest.mark.usefixtures("fresh_streamlit")
def test_without_secrets_or_demo_the_full_limits_apply_and_nothing_breaks(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "0")
    at = run({"epochs": "2000", "wd": "0", "hidden": "8"})
    assert not at.exception and not notes_of(at, "error") and not notes_of(at, "warning")
    assert not any("Shared demo server" in c.value for c in at.sidebar.caption)
    assert at.session_state["job"].cfg.epochs == 2000
    from wdlab.ui.state import manager
    manager().cancel(at.session_state["job"])


def test_the_host_can_set_how_many_sweeps_train_at_once():
    from wdlab.settings.config import concurrent_jobs
    assert concurrent_jobs(DEMO_LIMITS, {"WDLAB_CONCURRENT_JOBS": "3"}).max_concurrent_jobs == 3
    assert concurrent_jobs(DEMO_LIMITS, {"WDLAB_CONCURRENT_JOBS": "3"}).max_epochs == DEMO_LIMITS.max_epochs
    for bad in ("0", "9", "two", "-1", ""):
        assert concurrent_jobs(DEFAULT_LIMITS, {"WDLAB_CONCURRENT_JOBS": bad}) == DEFAULT_LIMITS
