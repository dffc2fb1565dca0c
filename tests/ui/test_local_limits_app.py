"""Issue #25 in the app: off the demo the local app caps a sweep only by this machine's memory (a 21-λ,
3,000-epoch link trains, its estimate shown); demo mode refuses it as always; WDLAB_LIMITS sets one's own."""
import pytest

from support import app
from wdlab.settings.config import DEMO_LIMITS
from wdlab.ui.text import notes_of

WDS = ",".join(f"{i / 100:g}" for i in range(21))          # 21 λ values: more than the demo's 8 and the old 16
BIG = f"?preset=moons&optimizer=adamw&lr=0.01&seeds=0&hidden=4&epochs=3000&wd={WDS}"
pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def _stop(at) -> None:
    from wdlab.ui.state import manager
    if "job" in at.session_state:
        manager().cancel(at.session_state["job"])


def test_off_the_demo_a_link_beyond_every_demo_cap_trains(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "0")
    monkeypatch.delenv("WDLAB_LIMITS")
    at = app(BIG)
    try:
        assert not at.exception and not notes_of(at, "error") and not notes_of(at, "warning")
        cfg = at.session_state["job"].cfg
        assert (len(cfg.weight_decays), cfg.epochs) == (21, 3000)
        assert not at.multiselect(key="cfg_weight_decays").max_selections   # none (0 in the protobuf): widgets follow
        assert "at most" not in at.number_input(key="cfg_epochs").help
        assert any("no cap on sizes" in c.value for c in at.sidebar.caption)
        assert not any("Shared demo server" in c.value for c in at.sidebar.caption)
    finally:
        _stop(at)


def test_off_the_demo_the_epochs_field_takes_more_than_the_old_cap(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "0")
    monkeypatch.delenv("WDLAB_LIMITS")
    at = app()
    at.number_input(key="cfg_epochs").set_value(3000).run()
    assert not at.exception and not notes_of(at, "error")
    assert not at.button(key="train").disabled
    assert any("3000 epochs" in c and "about" in c for c in (t.value for t in at.text))   # its estimate, before training


def test_in_demo_mode_the_same_link_is_cut_down_with_todays_messages(monkeypatch):
    monkeypatch.setenv("WDLAB_DEMO", "1")
    at = app(BIG)
    try:
        assert not at.exception
        text = " ".join(notes_of(at, "warning"))
        assert f"21 weight_decay values (at most {DEMO_LIMITS.max_wd_values})" in text
        assert f"3000 epochs (at most {DEMO_LIMITS.max_epochs})" in text
        assert at.multiselect(key="cfg_weight_decays").max_selections == DEMO_LIMITS.max_wd_values
    finally:
        _stop(at)
    at = app()
    at.number_input(key="cfg_epochs").set_value(3000).run()
    assert any(f"at most {DEMO_LIMITS.max_epochs}" in e for e in notes_of(at, "error"))
    assert at.button(key="train").disabled


def test_a_practitioners_own_limits_file_holds_and_a_bad_one_is_said(monkeypatch, tmp_path):
    monkeypatch.setenv("WDLAB_DEMO", "0")
    own = tmp_path / "mine.toml"
    own.write_text("max_epochs = 100\n")
    monkeypatch.setenv("WDLAB_LIMITS", str(own))
    at = app(BIG)
    try:
        assert any("3000 epochs (at most 100)" in w for w in notes_of(at, "warning"))
        assert len(at.session_state["job"].cfg.weight_decays) == 21   # only what the file caps is capped
    finally:
        _stop(at)
    from wdlab.ui.state import limits_cache
    limits_cache.clear()
    own.write_text("max_epochs = many\n")
    at = app()
    assert not at.exception
    assert any(f"WDLAB_LIMITS {own}: not TOML" in e and "this machine's limits apply" in e for e in notes_of(at, "error"))
