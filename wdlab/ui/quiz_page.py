"""The Quiz page: predict a scenario's outcome, lock it in, watch the sweep train, see it graded from the run."""
from __future__ import annotations

import urllib.parse

import streamlit as st

from wdlab.quiz import bank as scenarios
from wdlab.quiz import cards as quiz
from wdlab.quiz.bank import BANK, BY_ID, Score
from wdlab.quiz.cards import Scenario
from wdlab.quiz.laws import LAWS_BANK
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.settings.config import SweepConfig
from wdlab.ui import live, quiz_reveal, results
from wdlab.ui.state import manager, owner, shown_index
from wdlab.ui.text import note

SLOTS = ("quiz_job0", "quiz_job1")   # one background job per run of the scenario shown
INTRO = ("Each card sets up a sweep and asks what it will do. Lock in your prediction first; the sweep then trains "
         "live, exactly as the explorer would train it, and the answer is read from that run, never from a stored "
         "key.")


# -- session state: the scenario shown, the locked predictions, the score ------------------------------------
def score() -> Score:
    return st.session_state.setdefault("quiz_score", Score())


def locked(scenario: Scenario) -> dict[int, str] | None:
    """The predictions locked in for this scenario, or None while the learner is still choosing."""
    return st.session_state.setdefault("quiz_locked", {}).get(scenario.id)


def go_to(scenario_id: str) -> None:
    """Show another scenario; this tab stops watching the runs of the one it leaves."""
    for slot in SLOTS:
        job = st.session_state.pop(slot, None)
        if job is not None:
            manager().cancel(job, owner())  # stops it only if unfinished and nobody else watches it
    st.session_state["quiz_current"] = scenario_id
    st.session_state.pop("quiz_run_for", None)
    st.session_state.pop("quiz_link_warning", None)


def go_next() -> None:
    go_to(scenarios.next_scenario(st.session_state.get("quiz_current"), score()).id)


def lock_in(scenario: Scenario) -> None:
    """The lock button's callback: runs before the page is drawn again, so the choices show as disabled."""
    picks = {i: st.session_state.get(question_key(scenario, i)) for i in range(len(scenario.questions))}
    if all(p is not None for p in picks.values()):
        st.session_state.setdefault("quiz_locked", {})[scenario.id] = picks


def question_key(scenario: Scenario, i: int) -> str:
    return f"quiz_{scenario.id}_q{i}"


def current_scenario() -> Scenario:
    """The scenario shown: a link's (each new link once; an unknown id is named in a warning), else the session's.
    The address bar then always holds the share link of the scenario shown."""
    raw = st.query_params.get_all("scenario")
    if raw and raw[-1] != st.session_state.get("quiz_link"):
        found = scenarios.from_query({"scenario": raw})
        if found is not None:
            go_to(found.id)
        else:
            st.session_state["quiz_link_warning"] = raw[-1][:40]
    sid = st.session_state.setdefault("quiz_current", BANK[0].id)
    st.session_state["quiz_link"] = sid
    if st.query_params.get("scenario") != sid:
        st.query_params["scenario"] = sid
    return BY_ID[sid]


# -- what is drawn ------------------------------------------------------------------------------------------
def describe(cfg: SweepConfig) -> str:
    """The run's settings in one line: dataset, model, optimizer, λ values, length, seeds."""
    layers = ", ".join(map(str, cfg.hidden))
    model = f"hidden layers {layers} ({cfg.activation})" if cfg.hidden else "a linear model"
    opt = " / ".join(OPTIMIZERS[o].label for o in cfg.optimizers) + \
        (f" (SGD momentum {cfg.momentum:g})" if cfg.momentum else "")
    batch = "full batch" if cfg.batch_size is None else f"batch {cfg.batch_size}"
    seeds = ", ".join(map(str, cfg.seeds))
    lrs = ", ".join(f"{lr:g}" for lr in cfg.lrs)
    return (f"{DATASETS[cfg.preset].title} · {model} · {opt}, lr {lrs} · {cfg.epochs} epochs, {batch} · "
            f"λ = {', '.join(f'{w:g}' for w in cfg.weight_decays)} · seed{'s' if len(cfg.seeds) > 1 else ''} {seeds}"
            + ("" if cfg.decay_bias else " · biases not decayed"))


def setup(scenario: Scenario) -> None:
    position = [s.id for s in BANK].index(scenario.id) + 1
    st.header(f"{position}. {scenario.title}", anchor=False)
    st.markdown(scenario.setup)
    for run in scenario.runs:
        st.caption(f"**{run.label}:** {describe(run.config)}" if run.label else describe(run.config))


def questions(scenario: Scenario, picks: dict[int, str] | None, outcomes, frames) -> None:
    """One radio per question, disabled once locked in; after the reveal each shows its ✓/✗ verdict."""
    for i, q in enumerate(scenario.questions):
        key, choices = question_key(scenario, i), dict(q.choices())
        if picks is not None:
            st.session_state[key] = picks[i]  # locked: shown as chosen, even after visiting another page
        st.radio(f"**Q{i + 1}.** {q.prompt(scenario)}", list(choices), index=shown_index(list(choices), key, None),
                 format_func=choices.get, key=key,
                 disabled=picks is not None, horizontal=q.kind == "direction")
        if outcomes is not None:
            quiz_reveal.verdict(i, outcomes[i], picks[i], frames, scenario.at)
    rules = dict.fromkeys(q.rule() for q in scenario.questions if hasattr(q, "rule"))   # the pictures' rules, once
    st.caption("**How answers are graded.** " + " ".join([quiz.tolerance_rule(at=scenario.at), *rules]))


def lock_controls(scenario: Scenario) -> None:
    ready = all(st.session_state.get(question_key(scenario, i)) is not None for i in range(len(scenario.questions)))
    c1, c2, c3 = st.columns([1.3, 1, 3], vertical_alignment="center")
    c1.button("Lock in my prediction", type="primary", key="quiz_lock", disabled=not ready, icon=":material/lock:",
              on_click=lock_in, args=(scenario,), width="stretch")
    c2.button("Skip this one", key="quiz_skip", on_click=go_next, icon=":material/skip_next:")
    c3.caption("Answer every question to lock in. Nothing of the run is shown before." if not ready else
               "Once locked in, the sweep trains and the answers are read from it.")


def runs(scenario: Scenario) -> tuple[list, list] | None:
    """Start the scenario's runs once (shared and cached like any sweep); once all are done, their frames and
    parameter snapshots (None for a run that kept none)."""
    if st.session_state.get("quiz_run_for") != scenario.id:
        st.session_state["quiz_run_for"] = scenario.id
        for i, run in enumerate(scenario.runs):
            live.start(run.config, slot=SLOTS[i])
    jobs = [st.session_state.get(SLOTS[i]) for i in range(len(scenario.runs))]
    if any(j is None or j.cfg != r.config for j, r in zip(jobs, scenario.runs)):
        return None
    snaps = [j.snapshot() for j in jobs]
    if not all(s.status == "done" for s in snaps):
        return None
    return [s.frame for s in snaps], [s.snapshots for s in snaps]


def graded(scenario: Scenario, ran: tuple[list, list]) -> list:
    """The scenario's outcomes, computed once per finished set of runs (a picture question predicts on a grid:
    not on every rerun of the page)."""
    frames, models = ran
    stamp = (scenario.id, tuple(id(f) for f in frames), tuple(id(m) for m in models))
    memo = st.session_state.get("quiz_graded")
    if memo is None or memo[0] != stamp:
        memo = (stamp, quiz.grade(scenario, frames, models))
        st.session_state["quiz_graded"] = memo
    return memo[1]


def run_views(scenario: Scenario) -> None:
    """The same live figure as the explorer, one per run; a stopped run can be started again."""
    needs_val = any("val" in getattr(q, "metric", "val") for q in scenario.questions)
    options = results.ViewOptions(show_val=needs_val)
    st.subheader("The run", anchor=False)
    for i, run in enumerate(scenario.runs):
        if run.label:
            st.markdown(f"**{run.label}**")
        job = st.session_state.get(SLOTS[i])
        stopped = st.session_state.get(f"{SLOTS[i]}_stopped")  # cancelled here (its job may take a moment to stop)
        if job is None or job.status == "cancelled" or (stopped is not None and stopped[0] is job):
            # a failed run is shown by job_view, with its error
            st.info("This run was stopped before it finished.", icon=":material/stop_circle:")
            if st.button("Run it again", key=f"quiz_rerun{i}", icon=":material/replay:"):
                live.start(run.config, slot=SLOTS[i])
                st.rerun()
            continue
        # two runs compared: one y-scale for both
        live.job_view(SLOTS[i], key=f"quiz{i}", options=options, with_summary=False,
                      shared=SLOTS[:len(scenario.runs)] if len(scenario.runs) > 1 else (),
                      laws=scenario in LAWS_BANK)   # the laws' cards: their curves with the predictions dashed


def links(scenario: Scenario) -> None:
    """Next, the scenario's settings on the explorer (a new tab: this tab keeps the score), and its share link."""
    c1, c2 = st.columns([1, 2], vertical_alignment="top")
    c1.button("Next scenario", type="primary", key="quiz_next", on_click=go_next, icon=":material/arrow_forward:")
    with c2:
        for i, run in enumerate(scenario.runs):
            query = urllib.parse.urlencode(scenarios.explorer_query(scenario, i))  # the explorer is the app's root
            label = f"Try {run.label} in the explorer" if run.label else "Try this in the explorer"
            st.markdown(f":material/open_in_new: [{label}](./?{query}) — opens these settings, ready to change.")
    st.markdown("Share this scenario:")
    st.code(share_link(scenario), language=None)


def share_link(scenario: Scenario) -> str:
    """The scenario's link, absolute when the request's URL is known (else relative, which works on this server)."""
    share = "quiz?" + urllib.parse.urlencode(scenarios.share_query(scenario))
    try:
        return urllib.parse.urljoin(st.context.url or "", share)
    except Exception:  # no request URL (AppTest, some hosts)
        return share


def sidebar(scenario: Scenario) -> None:
    s = score()
    st.header("Your score", anchor=False)
    c1, c2, c3 = st.columns(3)
    c1.metric("Answered", s.answered)
    c2.metric("Correct", s.correct)
    c3.metric("Streak", s.streak, help=f"Best streak this session: {s.best_streak}")
    done = sum(s.done(x.id) for x in BANK)
    st.progress(done / len(BANK), text=f"{done} of {len(BANK)} scenarios answered")
    ids = [x.id for x in BANK]
    st.session_state["quiz_pick"] = scenario.id
    st.selectbox("Scenario", ids, shown_index(ids, "quiz_pick"), key="quiz_pick",
                 on_change=lambda: go_to(st.session_state["quiz_pick"]),
                 format_func=lambda x: f"{'✓ ' if s.done(x) else ''}{ids.index(x) + 1}. {BY_ID[x].title}")
    st.caption("Counts each question once, the first time it is graded. A reload starts a new session.")


def quiz_page() -> None:
    scenario = current_scenario()
    picks = locked(scenario)
    st.title("Quiz: predict, then measure")
    st.markdown(INTRO)
    bad = st.session_state.get("quiz_link_warning")
    if bad:
        note("warning", f"Link: there is no scenario “{bad}”. Showing the first one; the scenarios are: "
             + ", ".join(x.id for x in BANK) + " (or pick one on the left).")  # the link's words stay text
    setup(scenario)
    ran = runs(scenario) if picks is not None else None  # started only once the prediction is locked in
    frames, models = ran if ran is not None else (None, None)
    outcomes = graded(scenario, ran) if ran is not None else None
    if outcomes is not None:
        score().record_all(scenario, outcomes, picks)  # counts each question once, however often this reruns
    with st.sidebar:
        sidebar(scenario)
    questions(scenario, picks, outcomes, frames)
    if picks is None:
        lock_controls(scenario)
        st.divider()
        st.caption(f"Share this scenario: `{share_link(scenario)}`")
        return
    st.caption("Your prediction is locked in." + ("" if outcomes else " The answers are read from the run below "
                                                  "once it finishes."))
    run_views(scenario)
    if outcomes is not None:
        quiz_reveal.reveal(scenario, outcomes, picks, frames, models)
        links(scenario)
