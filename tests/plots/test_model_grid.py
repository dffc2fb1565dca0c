"""Every λ's boundary panel in one figure, played over the epochs in the browser (plots.model_grid): one frame per
epoch whose title names it, its surfaces equal to that epoch's own figure, the payload bounded."""
import base64

import numpy as np
import plotly.io as pio
import pytest

from wdlab.plots import model_grid as grid
from wdlab.plots.model import GRID, plane


def _panels(epoch: int, wds=(0.0, 0.01, 0.3), n: int = 8, diverged=()) -> list:
    xs = np.linspace(0, 1, n)
    out = []
    for w in wds:
        z = np.clip(np.tile(xs, (n, 1)) + 0.05 * epoch - w, 0, 1).astype(np.float32)
        meta = {"wd": w, "epoch": epoch}
        if w in diverged:
            z, meta = np.full((n, n), np.nan, np.float32), dict(meta, diverged=True)
        out.append(grid.Panel(f"λ = {w:g} at {epoch}", z, meta))
    return out


TRAIN = (np.array([[0.1, 0.2], [0.8, 0.9], [0.5, 0.4]]), np.array([0, 1, 1]))


def _figure(epoch: int, **kw):
    xs = ys = np.linspace(0, 1, 8)
    return grid.grid_figure(_panels(epoch, **kw), xs, ys, TRAIN, title=f"Each λ's decision boundary at epoch {epoch}",
                            axis_titles=("<b>x</b>", "y & z"))


def _plain(v):
    """A trace value as numpy, whether an array or Plotly's base64 form of one."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v)


def roles(fig, role):
    return [t for t in fig.data if (t.meta or {}).get("role") == role]


def test_one_figure_holds_a_panel_per_lambda_with_its_own_axes_and_title():
    fig = _figure(3)
    surfaces = roles(fig, "boundary")
    assert [t.meta["wd"] for t in surfaces] == [0.0, 0.01, 0.3] and {t.meta["epoch"] for t in surfaces} == {3}
    assert [t.xaxis for t in surfaces] == ["x", "x2", "x3"] and [t.yaxis for t in surfaces] == ["y", "y2", "y3"]
    assert len(roles(fig, "boundary_line")) == 3                # every panel has its line trace, drawn or not
    assert [a.text for a in fig.layout.annotations] == ["λ = 0 at 3", "λ = 0.01 at 3", "λ = 0.3 at 3"]
    assert fig.layout.xaxis.title.text == "&lt;b&gt;x&lt;/b&gt;" and fig.layout.yaxis.title.text == "y &amp; z"
    # three panels side by side, none overlapping
    domains = [fig.layout[f"xaxis{n}"].domain for n in ("", "2", "3")]
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:]))
    assert grid.grid_shape(4) == (2, 2) and grid.grid_shape(5) == (2, 3) and grid.grid_shape(1) == (1, 1)


@pytest.mark.parametrize("n", [1, 2, 4, 5, 7, 16])
def test_every_panel_count_lays_out_inside_the_figure_and_validates(n):
    fig = grid.grid_figure(_panels(0, wds=tuple(range(n))), np.linspace(0, 1, 8), np.linspace(0, 1, 8), TRAIN,
                           title="at epoch 0")
    import plotly.graph_objects as go
    go.Figure(fig.to_plotly_json())                              # Plotly's own validation: domains within [0, 1]
    rows, cols = grid.grid_shape(n)
    for i in range(n):
        name = "" if i == 0 else str(i + 1)
        x, y = fig.layout[f"xaxis{name}"].domain, fig.layout[f"yaxis{name}"].domain
        assert 0 <= x[0] < x[1] <= 1 and 0 <= y[0] < y[1] <= 1
    assert len(fig.layout.annotations) == n


def test_played_has_a_frame_per_epoch_named_in_its_title_whose_surfaces_are_that_epochs_figure():
    epochs = [0, 1, 4, 9, 16]
    figs = [(e, _figure(e, diverged=(0.3,) if e >= 9 else ())) for e in epochs]
    fig = grid.played(figs, 4)
    assert [f.name for f in fig.frames] == ["0", "1", "4", "9", "16"]
    assert [f.layout.title.text for f in fig.frames] == [f"Each λ's decision boundary at epoch {e}" for e in epochs]
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == [str(e) for e in epochs] and slider.active == 2
    assert fig.layout.title.text.endswith("at epoch 4")
    for (e, own), frame in zip(figs, fig.frames):
        idx = grid.surface_indices(own)
        assert list(frame.traces) == idx                         # only the surfaces travel with a frame
        for i, t in zip(idx, frame.data):
            np.testing.assert_array_equal(_plain(t.z).ravel(), _plain(own.data[i].z).ravel())
            assert t.meta == own.data[i].meta
            # what a frame leaves out is the same at every epoch: the merged trace is that epoch's own
            sent = {k for k, v in t.to_plotly_json().items()}
            for k, v in own.data[i].to_plotly_json().items():
                if k not in sent:
                    assert np.array_equal(_plain(v), _plain(fig.data[i].to_plotly_json()[k])), k
        assert [a.text for a in frame.layout.annotations] == [a.text for a in own.layout.annotations]
    assert [t.meta.get("diverged", False) for t in roles(fig.frames[3], "boundary")] == [False, False, True]
    # the points are sent once, in the figure's own traces
    assert all((t.meta or {}).get("role") in ("boundary", "boundary_line") for f in fig.frames for t in f.data)
    # the page builds it from the figures' dicts (grid_spec): the same animation
    xs = ys = np.linspace(0, 1, 8)
    specs = [(e, grid.grid_spec(_panels(e, diverged=(0.3,) if e >= 9 else ()), xs, ys, TRAIN, axis_titles=(
        "<b>x</b>", "y & z"), title=f"Each λ's decision boundary at epoch {e}")) for e in epochs]
    assert pio.to_json(grid.played(specs, 4), validate=False) == pio.to_json(fig, validate=False)


@pytest.mark.parametrize("panels,per_panel", [(3, 2), (5, 2), (16, 2), (16, 1), (1, 1)])
def test_the_payload_is_bounded_by_shrinking_the_grid_then_thinning_the_epochs(panels, per_panel):
    epochs = list(range(25))
    shown, n = grid.play_plan(epochs, 7, panels, per_panel)
    assert len(shown) * panels * per_panel * n * n <= grid.PLAY_VALUES
    assert n <= GRID and n >= grid.MIN_GRID and 7 in shown and shown[0] == 0 and shown[-1] == 24
    assert shown == sorted(set(shown))
    if panels * per_panel <= 6:
        assert shown == epochs                                   # a usual run plays every kept epoch
    # a tiny budget thins the epochs instead of shrinking the grid below MIN_GRID
    shown, n = grid.play_plan(epochs, 7, panels, per_panel, budget=8 * panels * per_panel * grid.MIN_GRID ** 2)
    assert n == grid.MIN_GRID and len(shown) <= 8 and {0, 7, 24} <= set(shown)


def test_a_played_grid_at_the_bound_stays_within_its_bytes():
    """The bound in bytes: what Streamlit sends (plotly.io.to_json: float32 as base64, its "/" escaped) for 16 λ
    × 25 epochs: about 7 bytes a surface number."""
    epochs = list(range(25))
    shown, n = grid.play_plan(epochs, 24, 16, 2)
    xs, ys, _ = plane(np.array([[0.0, 0.0], [1.0, 1.0]]), n)
    rng = np.random.default_rng(0)
    figs = [(e, grid.grid_figure([grid.Panel(f"λ {i}", rng.random((n, n), dtype=np.float32), {"wd": i})
                                  for i in range(16)], xs, ys, TRAIN, title=f"at epoch {e}")) for e in shown]
    size = len(pio.to_json(grid.played(figs, 24), validate=False))
    assert size < grid.PLAY_VALUES * 7.5                        # 3 MB
