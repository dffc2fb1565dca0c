"""The epoch results are compared at, in the app: one radio beside the summary, said in words, kept in the link."""
from support import app as open_app
from support import finished
from wdlab.settings.reading import DEFAULT_AT
from wdlab.ui.text import notes_of

LINK = "?wd=0,0.1&epochs=12&hidden=4&seeds=0"


def columns(at) -> set:
    return {c for d in at.dataframe for c in d.value.columns}


def texts(at) -> str:
    return " ".join([s.value for s in at.subheader] + [c.value for c in at.caption])


def test_the_summary_reads_the_best_epoch_by_default_and_a_chosen_reading_rides_in_the_link():
    at = finished(open_app(LINK))
    radio = at.radio(key="main_at")
    assert DEFAULT_AT == "best" and radio.value == "best" and list(radio.options) == [
        "best epoch", "final epoch", "mean of the last 10 %"]
    assert "Across λ, at each member's best epoch (lowest validation loss)" in texts(at)
    assert "val loss at best epoch" in columns(at)
    assert "compare-at" not in at.query_params                     # the default is not written
    radio.set_value("final").run()
    assert "Across λ, at the final epoch" in texts(at)
    assert "final val loss" in columns(at)
    assert at.query_params["compare-at"] in (["final"], "final")
    again = finished(open_app(LINK + "&compare-at=last"))
    assert again.radio(key="main_at").value == "last" and not notes_of(again, "warning")
    assert "as the mean of the last 10 % of epochs" in texts(again)
    bad = open_app(LINK + "&compare-at=median")
    assert any("compare-at='median' is not valid" in w and "best or final or last" in w
               for w in notes_of(bad, "warning"))
