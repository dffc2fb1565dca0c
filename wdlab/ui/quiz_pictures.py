"""The quiz reveal's pictures of the model: the boundaries, weights and fitted curves that decided a question."""
from __future__ import annotations

import numpy as np
import streamlit as st

from wdlab.engine.predict import predict
from wdlab.plots import model as pm
from wdlab.quiz.cards import Outcome, Point, curve_letters, fmt
from wdlab.plots import outputs as po
from wdlab.quiz.filters import WhichFilters
from wdlab.quiz.pictures import FitsEveryPoint, PictureChange, WhichPanel, member_of, points
from wdlab.registry.datasets import DATASETS
from wdlab.ui.results import CHART_CONFIG


def _snapshot(scenario, models, p: Point, epoch: int | None):
    """(the epoch read, the parameters) of the model drawn at p, exactly where the grader read them."""
    cfg = scenario.runs[p.run].config
    snaps = models[p.run]
    at = snaps.latest(cfg.epochs if epoch is None else epoch)
    return at, snaps.params(at, member_of(cfg, p.weight_decay))


def boundary(cfg, params, title: str, meta: dict):
    """One boundary panel on the panels' plane, the training points filled and the validation points hollow."""
    X, y, Xv, yv = points(cfg)
    xs, ys, grid = pm.plane(np.concatenate([X, Xv]))
    z = pm.surface(predict(cfg, 2, 2, params, grid), len(xs), "binary")
    return pm.boundary_figure(z, xs, ys, (X, y), (Xv, yv), title=title, meta=meta, height=300)


def _panels(i: int, figs: list) -> None:
    """Panels two to a row (a phone stacks them)."""
    for row in range(0, len(figs), 2):
        cols = st.columns(2)
        for k, fig in enumerate(figs[row:row + 2]):
            cols[k].plotly_chart(fig, key=f"quiz_pic_q{i}_{row + k}", config=CHART_CONFIG)


def which_panel(i: int, scenario, q: WhichPanel, o: Outcome, pick: str, models) -> None:
    cfg = scenario.runs[q.run].config
    lengths = {w: o.values[f"λ = {w:g}"] for w in q.weight_decays}
    letters = curve_letters(lengths)   # as the grader letters them
    st.markdown(f"**Q{i + 1}: the boundaries, lettered by their measured length.** The black line is where the "
                "model's P(class 1) crosses 50 %; filled points are the training set, hollow ones the held-out set.")
    figs = []
    for w in sorted(q.weight_decays, key=letters.get):
        letter = letters[w]
        _, params = _snapshot(scenario, models, Point(w, q.run), None)
        right, mine = letter in o.correct, letter == pick
        title = (f"{letter}: λ = {w:g} · length {fmt(lengths[w])}" + (" ✓" if right else "")
                 + (" · your pick" if mine else ""))
        figs.append(boundary(cfg, params, title, {"letter": letter, "wd": float(w), "pick": mine, "right": right,
                                                  "length": lengths[w]}))
    _panels(i, figs)


def picture_change(i: int, scenario, q: PictureChange, o: Outcome, models) -> None:
    sides = [(q.before, q.before_epoch), (q.after, q.after_epoch)]
    read = [(p, *_snapshot(scenario, models, p, e)) for p, e in sides]
    values = list(o.values.values())
    names = [f"{scenario.where(p)}, epoch {at}" for p, at, _ in read]
    if q.what == "boundary":
        st.markdown(f"**Q{i + 1}: the two boundaries compared**, before and after.")
        _panels(i, [boundary(scenario.runs[p.run].config, params, f"{name} · length {fmt(v)}",
                             {"side": k, "wd": p.weight_decay, "epoch": at, "length": v})
                    for k, ((p, at, params), name, v) in enumerate(zip(read, names, values))])
        return
    if q.what == "spread":
        st.markdown(f"**Q{i + 1}: the weights compared** — every weight-matrix entry, one histogram each, on one "
                    "axis (weights beyond it are counted in its end bins).")
        mats = {k: np.concatenate([np.ravel(a) for a in params if np.ndim(a) == 2])
                for k, (_, _, params) in enumerate(read)}
        # four spreads of the wider one: its bulk readable, its few far weights in the edge bins
        bound = min(max(float(np.abs(m).max()) for m in mats.values()), 4 * max(values))
        fig = pm.weights_figure({float(k): m for k, m in mats.items()}, bound=bound,
                                names={float(k): f"{names[k]} · spread {fmt(values[k])}" for k in mats},
                                meta={"question": i})
        st.plotly_chart(fig, key=f"quiz_pic_q{i}_0", config=CHART_CONFIG)
        return
    cfg = scenario.runs[q.before.run].config
    fitted(i, cfg, {float(k): params for k, (_, _, params) in enumerate(read)},
           {float(k): f"{names[k]} · largest miss {fmt(values[k])}" for k in range(2)})


def fitted(i: int, cfg, params: dict, names: dict) -> None:
    X, y, _, _ = points(cfg)
    x = pm.line(X[:, 0])
    curves = {k: predict(cfg, 1, 1, p, x[:, None])[:, 0] for k, p in params.items()}
    st.markdown(f"**Q{i + 1}: the fitted curves** over the training points.")
    fig = pm.fitted_figure(x, curves, (X[:, 0], y[:, 0]), names=names, meta={"question": i})
    st.plotly_chart(fig, key=f"quiz_pic_q{i}_0", config=CHART_CONFIG)


def fits_every_point(i: int, scenario, q: FitsEveryPoint, o: Outcome, pick: str, models) -> None:
    cfg = scenario.runs[q.run].config
    params = {w: _snapshot(scenario, models, Point(w, q.run), None)[1] for w in q.weight_decays}
    names = {w: f"λ = {w:g} · largest miss {fmt(o.values[f'largest miss, λ = {w:g}'])}"
                + (" ✓" if f"{w:g}" in o.correct else "") + (" · your pick" if pick == f"{w:g}" else "")
             for w in q.weight_decays}
    fitted(i, cfg, params, names)


def which_filters(i: int, scenario, q: WhichFilters, o: Outcome, pick: str, models) -> None:
    """Each λ's first-layer filters, a row each, lettered as the grader lettered them (by measured roughness);
    the units drawn are the smallest λ's six largest, the same in every row, as on the Explorer."""
    cfg = scenario.runs[q.run].config
    rough = {w: o.values[f"λ = {w:g}"] for w in q.weight_decays}
    letters = curve_letters(rough)
    order = sorted(q.weight_decays, key=letters.get)
    first = {w: _snapshot(scenario, models, Point(w, q.run), None)[1][0] for w in order}
    units = po.top_units(first[min(order)], 6)
    side = DATASETS[cfg.preset].image[0]
    names = {w: f"{letters[w]}: λ = {w:g}" for w in order}
    st.markdown(f"**Q{i + 1}: the filters, lettered by their measured roughness** (red > 0, blue < 0, one scale "
                "for every image). " + "; ".join(
                    f"{letters[w]}: λ = {w:g}, roughness {fmt(rough[w])}" + (" ✓" if letters[w] in o.correct else "")
                    + (" (your pick)" if letters[w] == pick else "") for w in order) + ".")
    fig = po.filters_figure({w: first[w][units] for w in order}, units, side=side, names=names,
                            meta={"question": i, "letters": [letters[w] for w in order]})
    st.plotly_chart(fig, key=f"quiz_pic_q{i}_0", config=CHART_CONFIG)


def draw(i: int, scenario, q, o: Outcome, pick: str, models) -> None:
    """The pictures question i was graded on, drawn from the same snapshots the grader read."""
    if isinstance(q, WhichPanel):
        which_panel(i, scenario, q, o, pick, models)
    elif isinstance(q, PictureChange):
        picture_change(i, scenario, q, o, models)
    elif isinstance(q, FitsEveryPoint):
        fits_every_point(i, scenario, q, o, pick, models)
    elif isinstance(q, WhichFilters):
        which_filters(i, scenario, q, o, pick, models)

