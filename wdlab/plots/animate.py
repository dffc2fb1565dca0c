"""One figure per epoch made into one animated figure: Plotly frames, a slider and Play/Pause in the figure itself,
so playing through the epochs runs in the browser with no round trip to the server per frame."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

FRAME_MS = 450      # one epoch per frame while playing
SLIDER_ROOM = 132   # px under the plot: the buttons and the epoch on one row, the slider under them


def _frame(epoch: int, fig: go.Figure) -> dict:
    """What changes between epochs: the traces and the texts (title, row titles) that name the epoch."""
    layout = fig.to_plotly_json()["layout"]
    return dict(name=str(epoch), data=[t.to_plotly_json() for t in fig.data],
                layout={k: layout[k] for k in ("title", "annotations") if k in layout})


def animated(figs: Sequence[tuple[int, go.Figure]], start: int, label: str = "epoch") -> go.Figure:
    """figs: (epoch, figure) in epoch order, every figure with the same traces in the same order (one per λ);
    the result shows `start` and holds every epoch as a frame. Its slider's label ("epoch N") and the frame's
    title change together, so the two always agree. layout.meta["frames"] lists the epochs."""
    epochs = [int(e) for e, _ in figs]
    base = dict(figs)[start] if start in epochs else figs[-1][1]
    spec = base.to_plotly_json()
    layout = dict(spec["layout"])
    margin = dict(layout.get("margin") or {})
    margin["b"] = int(margin.get("b", 10)) + SLIDER_ROOM
    still = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
    play = dict(mode="immediate", fromcurrent=True, frame=dict(duration=FRAME_MS, redraw=True),
                transition=dict(duration=0))
    layout.update(
        height=int(layout.get("height") or 450) + SLIDER_ROOM, margin=margin,
        meta=dict(layout.get("meta") or {}, frames=epochs, animated=True),
        sliders=[dict(active=epochs.index(start) if start in epochs else len(epochs) - 1, x=0, len=1,
                      y=0, yanchor="top", pad=dict(t=84, b=0),
                      currentvalue=dict(prefix=f"{label} ", xanchor="right", font=dict(size=13)),
                      steps=[dict(method="animate", label=str(e), args=[[str(e)], still]) for e in epochs])],
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0, xanchor="left", y=0,
                          yanchor="top", pad=dict(t=40, r=8),
                          buttons=[dict(label="▶", method="animate", args=[None, play]),
                                   dict(label="❚❚", method="animate", args=[[None], still])])])
    # unvalidated, as plots.style.build_figure: validating every frame's traces cost more than building them
    return go.Figure({"data": spec["data"], "layout": layout, "frames": [_frame(e, f) for e, f in figs]},
                     _validate=False)
