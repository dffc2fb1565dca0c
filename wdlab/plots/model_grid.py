"""Every λ's boundary panel in one figure (small multiples), and that figure over the kept epochs as one
animation that plays in the browser (plots.animate): no server round trip per frame."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from wdlab.plots.animate import animated, animated_specs
from wdlab.plots.model import GRID, point_traces, surface_traces
from wdlab.plots.style import figure_spec, plain, title_layout

PLAY_VALUES = 400_000   # surface numbers all frames hold, at most: ≈ 2.8 MB as sent (float32 base64, ~7 B each)
MIN_GRID = 16           # below this side a panel's boundary turns blocky: fewer epochs are played instead
PER_ROW = 3             # panels per row at most: three read on a phone too
ROW_PX = 260            # a row of panels: their plot areas
GAP_PX = 76             # between rows: the x-axis title above, the next row's two-line panel titles
TOP_PX = 34             # above the first row's panel titles: the figure's title
BELOW_PX = 34           # the last row's x-axis title, under the plot area


@dataclass(frozen=True)
class Panel:
    """One λ's panel at one epoch: its title (plain text), the surface (surface() of its predictions; all NaN
    when the model diverged: nothing is drawn) and its surface trace's meta."""

    title: str
    z: np.ndarray
    meta: Mapping = field(default_factory=dict)


def surfaces_per_panel(kind: str) -> int:
    """How many traces of a panel carry its surface: a binary panel's heatmap and its 0.5 line."""
    return 2 if kind == "binary" else 1


def play_plan(epochs: Sequence[int], start: int, panels: int, per_panel: int, grid: int = GRID,
              budget: int = PLAY_VALUES) -> tuple[list[int], int]:
    """The epochs to play and the grid side n, so that epochs × panels × per_panel × n² ≤ budget: the grid
    shrinks first (down to MIN_GRID), then the epochs are thinned evenly (the first, the last and start kept)."""
    epochs = list(epochs)
    cells = max(1, panels * per_panel)
    n = min(grid, math.isqrt(budget // (len(epochs) * cells)) if epochs else grid)
    if n >= MIN_GRID or len(epochs) < 3:
        return epochs, max(n, 2)
    keep = max(2, budget // (cells * MIN_GRID ** 2))
    picked = {epochs[round(i * (len(epochs) - 1) / (keep - 2))] for i in range(keep - 1)} if keep > 2 else \
        {epochs[0], epochs[-1]}
    picked.add(start if start in epochs else epochs[-1])
    return sorted(picked), MIN_GRID


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of n panels: at most PER_ROW a row, the rows balanced (4 → 2 × 2, 5 → 3 + 2)."""
    rows = max(1, math.ceil(n / PER_ROW))
    return rows, max(1, math.ceil(n / rows))


def _span(lo: float, hi: float) -> list[float]:
    """An axis domain within [0, 1] (float sums land a hair outside, which Plotly refuses)."""
    return [min(1.0, max(0.0, round(lo, 6))), min(1.0, max(0.0, round(hi, 6)))]


def grid_figure(*args, **kwargs) -> go.Figure:
    """grid_spec's figure."""
    return go.Figure(grid_spec(*args, **kwargs), _validate=False)


def grid_spec(panels: Sequence[Panel], xs: np.ndarray, ys: np.ndarray, train: tuple[np.ndarray, np.ndarray],
              val: tuple[np.ndarray, np.ndarray] | None = None, *, kind: str = "binary",
              zrange: tuple[float, float] | None = None, n_classes: int = 2, axis_titles=("x1", "x2"),
              title: str = "") -> dict:
    """Every panel (plots.model.boundary_figure's picture) in one figure, PER_ROW a row, the points on each.
    Every panel has the same traces whatever its surface (a binary one always has its 0.5 line trace), so
    figures of the same panels at different epochs are frames of one animation. Panel titles are
    annotations, the figure's title names the epoch; axis titles are escaped (a CSV's column names)."""
    rows, cols = grid_shape(len(panels))
    head = TOP_PX + 34 if title else 34     # the figure's title, the first row's panel titles
    height = rows * ROW_PX + (rows - 1) * GAP_PX + head
    gap_x, gap_y = 0.05, GAP_PX / height
    width, tall = (1 - gap_x * (cols - 1)) / cols, (1 - head / height - gap_y * (rows - 1)) / rows
    data: list[dict] = []
    layout: dict = dict(height=height + BELOW_PX, showlegend=False, margin=dict(l=10, r=10, t=0, b=BELOW_PX),
                        annotations=[])
    axis = dict(showgrid=False, zeroline=False)
    xs32, ys32 = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        n = "" if i == 0 else str(i + 1)
        x0, top = c * (width + gap_x), 1 - head / height - r * (tall + gap_y)
        info = {"role": "boundary", **panel.meta}
        surf, zr = surface_traces(panel.z, xs, ys, kind, zrange, n_classes, info, line=True)
        points = point_traces(*train, kind, "train", zr) + (point_traces(*val, kind, "validation", zr)
                                                           if val is not None else [])
        for t in surf + points:
            t.update(xaxis=f"x{n}", yaxis=f"y{n}")
        data += surf + points
        layout[f"xaxis{n}"] = dict(axis, domain=_span(x0, x0 + width), anchor=f"y{n}", range=[float(xs32[0]),
                                   float(xs32[-1])], title=dict(text=plain(axis_titles[0])) if r == rows - 1
                                   or i + cols >= len(panels) else None)
        # one y-axis labelled per row: the panels share the plane, and a phone has no room for more
        layout[f"yaxis{n}"] = dict(axis, domain=_span(top - tall, top), anchor=f"x{n}",
                                   range=[float(ys32[0]), float(ys32[-1])], showticklabels=c == 0,
                                   title=dict(text=plain(axis_titles[1])) if c == 0 else None)
        # "λ = 0.01" over "val acc 0.90": two short lines fit a phone's third of the width
        text = "<br>".join(plain(part) for part in panel.title.split(" · "))
        layout["annotations"].append(dict(text=text, x=x0, xanchor="left", y=top, yanchor="bottom", align="left",
                                          xref="paper", yref="paper", showarrow=False, font=dict(size=12)))
    for name in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        if layout[name]["title"] is None:
            del layout[name]["title"]
    if title:
        layout["title"] = title_layout(title)
    return figure_spec(data, layout)


def surface_indices(fig: go.Figure | dict) -> list[int]:
    """The positions of the traces that change with the epoch (each panel's surface): an animation's frames
    carry these only, the points stay as drawn."""
    data = fig["data"] if isinstance(fig, dict) else [t.to_plotly_json() for t in fig.data]
    return [i for i, t in enumerate(data) if (t.get("meta") or {}).get("role") in ("boundary", "boundary_line")]


def played(figs: Sequence[tuple[int, go.Figure | dict]], start: int) -> go.Figure:
    """grid_figure (or grid_spec) at each epoch (same panels, same points) as one animated figure at `start`."""
    if figs and isinstance(figs[0][1], dict):
        return animated_specs(figs, start, traces=surface_indices(figs[0][1]), below=BELOW_PX)
    return animated(figs, start, traces=surface_indices(figs[0][1]), below=BELOW_PX)
