"""What each model makes of the data, in the app (AppTest): the digits' filters, a confusion matrix per λ, predicted
vs actual per λ in the target's own units (a preset's and an uploaded table's), and the run's figures as HTML."""
import time

import numpy as np
import pytest

from wdlab.data.tables import load_csv
from wdlab.engine.predict import held_out_outputs, held_out_targets, model_data
from support import app, chart_specs, csv_table, finished, values

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def charts(at, role):
    return [s for s in chart_specs(at) if any((t.get("meta") or {}).get("role") == role for t in s["data"])]


def meta(spec, role):
    return [t["meta"] for t in spec["data"] if (t.get("meta") or {}).get("role") == role][0]


def grid(v):
    """A 2-D trace array as sent (base64 with its shape, or nested lists; gaps are NaN)."""
    if isinstance(v, dict):
        return np.array(values(v), dtype=float).reshape([int(n) for n in str(v["shape"]).split(",")])
    return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=float)


def final(job, column):
    """Each λ's `column` at the run's last epoch (the first seed), from the job's own frame."""
    f = job.snapshot().frame
    last = f[f["epoch"] == f["epoch"].max()]
    return dict(zip(last["weight_decay"], last[column]))


def test_digits_show_first_layer_filters_and_a_confusion_matrix_per_lambda_from_the_last_snapshot():
    at = finished(app("?preset=digits&optimizer=adam&lr=0.01&wd=0,0.01,0.1&seeds=0&epochs=12&hidden=16"))
    assert not at.exception
    job = at.session_state["job"]
    (filters,) = charts(at, "filters")
    info = meta(filters, "filters")
    assert info["wds"] == [0.0, 0.01, 0.1] and info["epoch"] == 12 and len(info["units"]) == 6
    assert "epoch 12 (the last kept)" in filters["layout"]["title"]["text"]
    # the units shown are λ = 0's largest, and the images are their snapshot weights, one scale symmetric about 0
    m0 = [m for m in job.snapshots.members if m.weight_decay == 0.0][0]
    W0 = job.snapshots.params(12, m0)[0]
    norms = np.linalg.norm(W0, axis=1)
    assert set(np.argsort(-norms)[:6]) == set(info["units"])
    trace = [t for t in filters["data"] if t["meta"]["role"] == "filters"][0]
    z = grid(trace["z"])
    np.testing.assert_allclose(z[:8, :8], W0[info["units"][0]].reshape(8, 8), atol=1e-5)
    assert trace["zmin"] == -trace["zmax"] and trace["zmax"] == pytest.approx(info["bound"])
    panels = charts(at, "confusion")
    assert [meta(p, "confusion")["wd"] for p in panels] == [0.0, 0.01, 0.1]
    accuracy = final(job, "val_acc")
    data = model_data(job.cfg)
    for p in panels:
        got = meta(p, "confusion")
        counts = np.array(got["counts"])
        assert counts.shape == (10, 10) and counts.sum() == len(data.X_val)
        assert got["accuracy"] == pytest.approx(accuracy[got["wd"]], abs=1e-6)    # the run's own val_acc
        member = [m for m in job.snapshots.members if m.weight_decay == got["wd"]][0]
        pred = held_out_outputs(job.cfg, data, job.snapshots.params(12, member))
        want = np.zeros((10, 10), int)
        np.add.at(want, (held_out_targets(data), pred), 1)
        assert counts.tolist() == want.tolist()
        assert values(p["data"][0]["x"]) == [str(k) for k in range(10)]
    assert any("largest ‖w‖₂ at λ = 0" in c.value for c in at.caption)
    assert at.get("download_button") and "Download this run's figures (HTML)" in \
        [b.label for b in at.get("download_button")]


def test_a_binary_preset_labels_its_classes_by_name():
    at = finished(app("?preset=breast-cancer&optimizer=adam&lr=0.01&wd=0,1&seeds=0&epochs=8&hidden=8"))
    panels = charts(at, "confusion")
    assert len(panels) == 2 and not charts(at, "filters") and not at.exception
    assert values(panels[0]["data"][0]["x"]) == ["malignant", "benign"]


def test_a_regression_preset_draws_predicted_vs_actual_in_the_targets_units_with_its_error():
    at = finished(app("?preset=diabetes&optimizer=adam&lr=0.01&wd=0,1&seeds=0&epochs=10&hidden=8"))
    assert not at.exception
    job = at.session_state["job"]
    panels = charts(at, "predicted")
    assert [meta(p, "predicted")["wd"] for p in panels] == [0.0, 1.0]
    std = model_data(job.cfg).target_scale[1]
    loss = final(job, "val_loss")
    for p in panels:
        got = meta(p, "predicted")
        points = [t for t in p["data"] if t["meta"]["role"] == "predicted"][0]
        actual = np.array(values(points["x"]))
        assert actual.min() >= 25 and actual.max() <= 346            # diabetes progression's own range
        assert got["rmse"] == pytest.approx(np.sqrt(loss[got["wd"]]) * std, rel=1e-4)
        assert f"RMSE {got['rmse']:.4g}" in p["layout"]["title"]["text"]
        assert [t for t in p["data"] if t["meta"]["role"] == "identity"]
    assert len({tuple(p["layout"]["xaxis"]["range"]) for p in panels}) == 1     # one span for every λ


def trained_upload(name: str, raw: bytes, target: str, epochs: int, role: str):
    """The app after uploading `raw` as `name`, choosing `target` and training (Adam, λ = 0 and 0.1, seed 0, hidden
    8), rerun until a chart of `role` shows (AppTest never polls by itself); no exception on the way."""
    at = app(f"?preset=csv&optimizer=adam&lr=0.01&wd=0,0.1&seeds=0&epochs={epochs}&hidden=8")
    at.file_uploader(key="upload_file").set_value((name, raw, "text/csv")).run()
    at.selectbox(key="upload_target").set_value(target).run()
    at.button(key="train").click().run()
    deadline = time.monotonic() + 120
    while not charts(at, role) and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception
    return at


def test_an_uploaded_table_is_predicted_in_its_own_units_and_named():
    rows = [[i % 9, (i * 7) % 11, 500 + 20 * (i % 9) - 3 * ((i * 7) % 11)] for i in range(60)]
    raw = csv_table(["rooms", "age", "price"], rows)
    at = trained_upload("houses.csv", raw, "price", 15, "predicted")
    panels = charts(at, "predicted")
    assert len(panels) == 2 and panels[0]["layout"]["xaxis"]["title"]["text"] == "actual price"
    data = load_csv(raw, "price")
    points = [t for t in panels[0]["data"] if t["meta"]["role"] == "predicted"][0]
    assert sorted(values(points["x"])) == pytest.approx(sorted(held_out_targets(data)), abs=1e-3)
    assert min(values(points["x"])) >= 450                                    # prices, not standardized units
    assert any("the table's own units" in c.value for c in at.caption)


def test_a_tables_class_labels_name_the_confusion_matrix_as_plain_text():
    rows = [[i % 7, (i * 5) % 9, ("<b>low</b>", "mid & up")[(i % 7 + (i * 5) % 9) > 7]] for i in range(60)]
    raw = csv_table(["a", "b", "grade"], rows)
    at = trained_upload("grades.csv", raw, "grade", 10, "confusion")
    panels = charts(at, "confusion")
    assert len(panels) == 2
    assert values(panels[0]["data"][0]["x"]) == ["&lt;b&gt;low&lt;/b&gt;", "mid &amp; up"]   # shown as typed
    assert sum(map(sum, meta(panels[0], "confusion")["counts"])) == len(load_csv(raw, "grade").X_val)


def test_the_held_out_rows_are_capped_and_the_heading_says_so(monkeypatch):
    from types import SimpleNamespace
    from wdlab.engine import snapshots
    from wdlab.engine.sweep import run_sweep
    from wdlab.settings.config import SweepConfig
    from wdlab.ui import model_outputs
    cfg = SweepConfig(preset="digits", hidden=(4,), epochs=2, weight_decays=(0.0,), seeds=(0,))
    snaps = snapshots.plan(cfg, 64, 10, 1e9)
    run_sweep(cfg, snapshots=snaps)
    monkeypatch.setattr(model_outputs, "MAX_HELD", 100)
    data = model_data(cfg)
    figs = model_outputs.figures(SimpleNamespace(cfg=cfg, snapshots=snaps), data, list(cfg.members), 2)
    (heading, fig) = [(h, f) for kind, h, f in figs if kind == "confusion"][0]
    assert sum(map(sum, fig.data[0].meta["counts"])) == 100
    assert f"100 held-out rows (the first of {len(data.X_val)})" in heading
