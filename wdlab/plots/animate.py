"""One figure per epoch made into one animated figure: Plotly frames, a slider and Play/Pause in the figure itself,
so playing through the epochs runs in the browser with no round trip to the server per frame."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

FRAME_MS = 450      # one epoch per frame while playing
SLIDER_ROOM = 132   # px under the plot: the buttons and the epoch on one row, the slider under them


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b


def _frame(epoch: int, spec: dict, traces: Sequence[int] | None = None, varying: Sequence[set] = ()) -> dict:
    """What changes between epochs (spec: a figure's to_plotly_json): the traces and the texts (title, row
    titles) that name the epoch. traces: only those positions, and of each only the keys `varying` lists (Plotly
    merges a frame's trace into the one drawn), so what every epoch shares (x, y, colours) is sent once."""
    layout = spec["layout"]
    frame = dict(name=str(epoch), layout={k: layout[k] for k in ("title", "annotations") if k in layout})
    if traces is None:
        return dict(frame, data=spec["data"])
    data = [{k: v for k, v in spec["data"][i].items() if k == "type" or k in keys} for i, keys in zip(traces, varying)]
    return dict(frame, data=data, traces=list(traces))


def _varying(specs: Sequence[dict], traces: Sequence[int]) -> list[set]:
    """For each trace position, the keys whose value is not the same in every figure's spec."""
    out = []
    for i in traces:
        each = [s["data"][i] for s in specs]
        keys = set().union(*each)
        out.append({k for k in keys if any(k not in t or k not in each[0] or not _same(t[k], each[0][k])
                                           for t in each)})
    return out


def animated(figs: Sequence[tuple[int, go.Figure]], start: int, label: str = "epoch",
             traces: Sequence[int] | None = None, below: int = 0) -> go.Figure:
    """animated_specs of figures (each read back once: a figure's traces are copied when read)."""
    return animated_specs([(e, f.to_plotly_json()) for e, f in figs], start, label, traces, below)


def animated_specs(figs: Sequence[tuple[int, dict]], start: int, label: str = "epoch",
                   traces: Sequence[int] | None = None, below: int = 0) -> go.Figure:
    """figs: (epoch, figure as a dict {"data", "layout"}) in epoch order, every figure with the same traces in the
    same order (one per λ); the result shows `start` and holds every epoch as a frame. Its slider's label ("epoch N") and the frame's
    title change together, so the two always agree. layout.meta["frames"] lists the epochs. traces: the positions
    of the only traces that change (the others, the same in every figure, are sent once): frames carry those.
    below: px the figure draws under its plot area (an x-axis title) that the buttons and slider go under."""
    epochs = [int(e) for e, _ in figs]
    specs = [f for _, f in figs]
    spec = specs[epochs.index(start)] if start in epochs else specs[-1]
    layout = dict(spec["layout"])
    margin = dict(layout.get("margin") or {})
    margin["b"] = int(margin.get("b", 10)) + SLIDER_ROOM + below
    still = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
    play = dict(mode="immediate", fromcurrent=True, frame=dict(duration=FRAME_MS, redraw=True),
                transition=dict(duration=0))
    layout.update(
        height=int(layout.get("height") or 450) + SLIDER_ROOM + below, margin=margin,
        meta=dict(layout.get("meta") or {}, frames=epochs, animated=True),
        sliders=[dict(active=epochs.index(start) if start in epochs else len(epochs) - 1, x=0, len=1,
                      y=0, yanchor="top", pad=dict(t=84 + below, b=0),
                      currentvalue=dict(prefix=f"{label} ", xanchor="right", font=dict(size=13)),
                      steps=[dict(method="animate", label=str(e), args=[[str(e)], still]) for e in epochs])],
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0, xanchor="left", y=0,
                          yanchor="top", pad=dict(t=40 + below, r=8),
                          buttons=[dict(label="▶", method="animate", args=[None, play]),
                                   dict(label="❚❚", method="animate", args=[[None], still])])])
    varying = _varying(specs, traces) if traces is not None else ()
    frames = [_frame(e, s, traces, varying) for e, s in zip(epochs, specs)]
    # unvalidated, as plots.style.build_figure: validating every frame's traces cost more than building them
    return go.Figure({"data": spec["data"], "layout": layout, "frames": frames},
                     _validate=False)
