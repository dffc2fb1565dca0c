"""The Laws page: one card per law of weight decay — its claim and source, ready-made runs trained live on demand
(shared like any sweep), measured against predicted with the verdict read from the run, and a link to the Explorer."""
from __future__ import annotations

import urllib.parse

import streamlit as st

from wdlab.laws.cards import CARDS, Card, Run, headline, law_predictions, rows
from wdlab.plots.law_cards import law_figure
from wdlab.settings.params import to_query
from wdlab.ui import live
from wdlab.ui.quiz_page import describe
from wdlab.ui.results import CHART_CONFIG
from wdlab.ui.state import POLL_SECONDS, manager, owner
from wdlab.ui.text import note

INTRO = ("Weight decay does more than “shrink the weights”: several laws predict what it does, some exactly. Each "
         "card states one, names who showed it, and holds a small run that checks it here: press **Run**, watch it "
         "train, and read the verdict computed from that run — where the law holds, and where it does not.")


def slot(run: Run) -> str:
    return f"laws_{run.id}"


def explorer_link(run: Run) -> str:
    """The run's share link: the Explorer (the app's root) opened on exactly these settings."""
    return "./?" + urllib.parse.urlencode(to_query(run.cfg))


def _cached(run: Run) -> None:
    """A run finished earlier on this server (by any visitor) is shown at once, without a click."""
    if st.session_state.get(slot(run)) is not None:
        return
    m = manager()
    job = m.get(m.key(run.cfg, None, None))
    if job is not None and job.snapshot(with_frame=False).status == "done":
        live.start(run.cfg, slot=slot(run))


def laws_page() -> None:
    st.title("The laws of weight decay")
    st.markdown(INTRO)
    for card in CARDS:
        card_view(card)


def card_view(card: Card) -> None:
    law = card.info
    with st.container(border=True, key=f"laws-card-{card.law}"):
        st.subheader(law.title, anchor=False)
        st.markdown(law.claim)
        st.code(law.formula, language=None, wrap_lines=True)
        st.caption(f"Source: {law.source}")
        if len(card.runs) == 1:
            run_view(card, card.runs[0])
            return
        for tab, run in zip(st.tabs([r.label for r in card.runs]), card.runs):
            with tab:
                run_view(card, run)


def run_view(card: Card, run: Run) -> None:
    key = f"laws_{card.law}_{run.id}"
    if len(card.runs) == 1:
        st.markdown(f"**{run.label}**")
    st.caption(describe(run.cfg))
    _cached(run)
    job = st.session_state.get(slot(run))
    stopped = st.session_state.get(f"{slot(run)}_stopped")
    if job is None or (stopped is not None and stopped[0] is job):
        if stopped is not None and job is not None:
            st.info("This run was cancelled before it finished.", icon=":material/stop_circle:")
        if st.button("Run", key=f"{key}_run", type="primary", icon=":material/play_arrow:"):
            live.start(run.cfg, slot=slot(run))
            st.rerun()
        st.caption("Trains this run on the server (a few seconds); a run someone already trained shows at once.")
        return
    manager().touch(job, owner())
    snap = job.snapshot(with_frame=False)
    if not snap.finished:
        _progress(card.law, run.id)
        return
    if snap.status != "done":
        what = f"could not run: {snap.error}" if snap.status == "failed" else \
            f"was cancelled after {snap.epochs_done} of {snap.epochs_total} epochs"
        note("error" if snap.status == "failed" else "info", f"This run {what}.", key=key)
        if st.button("Run it again", key=f"{key}_again", icon=":material/replay:"):
            live.start(run.cfg, slot=slot(run))
            st.rerun()
        return
    finished_view(card, run, job, key)


@st.fragment(run_every=POLL_SECONDS)
def _progress(law: str, run_id: str) -> None:
    run = next(r for c in CARDS for r in c.runs if r.id == run_id)
    job = st.session_state.get(slot(run))
    if job is None:
        return
    manager().touch(job, owner())  # the heartbeat: a tab that stops polling lets its job be cancelled
    snap = job.snapshot(with_frame=False)
    if snap.finished:
        st.rerun(scope="app")
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    if snap.status == "queued":
        c1.progress(0.0, text=live.waiting(snap.position))
    else:
        c1.progress(snap.epochs_done / max(snap.epochs_total, 1),
                    text=f"Training: epoch {snap.epochs_done} of {snap.epochs_total}{live.time_left(snap.eta)}")
    if c2.button("Cancel", key=f"laws_{law}_{run_id}_cancel", icon=":material/stop:"):
        st.session_state[f"{slot(run)}_stopped"] = (job, None)
        manager().cancel(job, owner())
        st.rerun(scope="app")


def finished_view(card: Card, run: Run, job, key: str) -> None:
    """A finished run: its verdict in one line, each comparison, the figure, what to look for, the Explorer link."""
    frame = job.snapshot().frame
    found = rows(card.law, run.cfg, frame)
    kind, text = headline(card.law, run.cfg, found)
    note(kind, text, key=f"{key}_verdict")
    if found:   # one line each: wraps on a phone, where a table would scroll sideways
        note("caption", "\n".join(lines(card.law, found)), key=f"{key}_rows")
    st.plotly_chart(law_figure(card.law, frame, law_predictions(card.law, run.cfg)), key=f"{key}_figure",
                    config=CHART_CONFIG)
    if run.look:
        st.caption(f"**What to look for:** {run.look}")
    st.link_button("Open these settings in the Explorer", explorer_link(run), icon=":material/open_in_new:")


def lines(law: str, found) -> list[str]:
    """Each comparison of the run as a line: who, predicted, measured, verdict (the timescale: its τ)."""
    if law == "timescale":
        return [f"{r.who}: {r.verdict.text}" for r in found]
    out = []
    for r in found:
        predicted = "—" if r.predicted is None else ("≤ " if r.bound else "") + f"{r.predicted:.4g}"
        measured = "—" if r.measured is None else f"{r.measured:.4g}"
        out.append(f"{r.who}: predicted {predicted}, measured {measured} — {r.verdict.text}")
    return out
