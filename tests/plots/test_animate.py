"""Playing through epochs in the browser (plots.animate): one frame per epoch, a slider and Play in the figure."""
import numpy as np

from wdlab.plots.animate import animated
from wdlab.plots.weights import weights_figure


def test_every_epoch_is_a_frame_whose_title_names_it_and_the_slider_starts_where_asked():
    rng = np.random.default_rng(0)
    figs = [(e, weights_figure({0.0: rng.normal(size=50) / (1 + e), 0.1: rng.normal(size=50) / (2 + e)},
                               bound=3.0, title=f"Weights at epoch {e}", meta={"epoch": e})) for e in (0, 1, 5, 9)]
    fig = animated(figs, 5)
    assert [f.name for f in fig.frames] == ["0", "1", "5", "9"]
    assert [f.layout.title.text for f in fig.frames] == [f"Weights at epoch {e}" for e in (0, 1, 5, 9)]
    assert all([t.meta["epoch"] for t in f.data] == [int(f.name)] * 2 for f in fig.frames)
    # it shows epoch 5 first: its traces, its title, the slider's step
    assert fig.layout.title.text == "Weights at epoch 5" and [t.meta["epoch"] for t in fig.data] == [5, 5]
    slider = fig.layout.sliders[0]
    assert slider.active == 2 and [s.label for s in slider.steps] == ["0", "1", "5", "9"]
    assert slider.currentvalue.prefix == "epoch " and all(s.method == "animate" for s in slider.steps)
    assert [b.method for b in fig.layout.updatemenus[0].buttons] == ["animate", "animate"]
    assert fig.layout.height == figs[0][1].layout.height + 132 and fig.layout.meta["frames"] == [0, 1, 5, 9]
