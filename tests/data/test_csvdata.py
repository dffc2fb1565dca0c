"""Your CSV: every bad file gets its own kind of message; good tables load, split and train exactly."""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, ConfigError, Limits, SweepConfig
from wdlab.data.reading import MAX_COLUMNS, MAX_ROWS, MB, CsvError, read_file
from wdlab.data.tables import inspect_csv, load_csv
from wdlab.settings.params import from_query
from wdlab.reference import reference_run
from support import CSV_BAD as BAD, CSV_GOOD as GOOD, CSV_NUMS as NUMS, csv_table as table, good_rows
from wdlab.engine.budget import validate
from wdlab.engine.sweep import run_sweep


@pytest.mark.parametrize("raw,target,task,kind", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_bad_file_gets_its_kind_of_message(raw, target, task, kind):
    with pytest.raises(CsvError) as err:
        load_csv(raw, target, task)
    assert err.value.kind == kind
    message = str(err.value)
    assert "\n" not in message and 20 < len(message) < 400  # one line the CLI and the app can show as is
    assert any(w in message for w in ("; ", " — ")), message  # what is wrong, then what to do


def test_file_over_the_size_cap_is_refused_in_memory_and_on_disk_before_reading(tmp_path):
    small = Limits(max_upload_bytes=len(GOOD) * 3)
    inspect_csv(GOOD * 3, small)  # exactly the cap: accepted
    with pytest.raises(CsvError) as err:
        inspect_csv(GOOD * 3 + b"1,2,3\n", small)
    assert err.value.kind == "too_large" and f"at most {len(GOOD) * 3:,} bytes" in str(err.value)
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(5 * MB + 1)  # sparse: only its size is real, so this fails unless the size is checked first
    with pytest.raises(CsvError) as err:
        read_file(str(path))
    assert err.value.kind == "too_large"
    (tmp_path / "ok.csv").write_bytes(GOOD)
    assert read_file(str(tmp_path / "ok.csv")) == GOOD


def test_one_upload_limit_in_bytes_agrees_with_streamlits_config():
    import tomllib
    from pathlib import Path
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    mb = config["server"]["maxUploadSize"]  # Streamlit's browser: mb × 10⁶ bytes (its server allows mb × 2²⁰)
    assert mb * 1_000_000 == DEFAULT_LIMITS.max_upload_bytes == DEFAULT_LIMITS.max_upload_mb * MB
    for lim in (DEFAULT_LIMITS, DEMO_LIMITS):  # the widget's MB setting is the exact byte limit
        assert lim.max_upload_bytes % 1_000_000 == 0 and lim.max_upload_mb <= mb
    cap = DEMO_LIMITS.max_upload_bytes
    row = b"1," + b"7" * 97 + b"\n"  # 100 bytes
    ok = b"a,y" + b" " * 96 + b"\n" + row * (cap // 100 - 1)
    assert len(ok) == cap
    assert inspect_csv(ok, DEMO_LIMITS).n_rows == cap // 100 - 1  # exactly the cap: accepted
    with pytest.raises(CsvError) as err:
        inspect_csv(ok + b"\n", DEMO_LIMITS)
    assert str(err.value) == (f"the file is {cap + 1:,} bytes; at most 2,000,000 bytes (2 MB) are accepted — keep "
                              "fewer rows or columns")


def test_a_target_named_twice_is_refused_and_trimmed_twins_among_features_are_noted():
    raw = b"noise,price,price\n" + b"".join(f"{i % 3},{i},{i * 2}\n".encode() for i in range(30))
    summary = inspect_csv(raw)
    assert summary.names == ["noise", "price", "price_"] and summary.suggested_target == "noise"
    assert any("2 columns are named 'price'" in n for n in summary.notes)
    for target in ("price", "price_", "PRICE"):  # the copy would be a feature: the answer would leak
        with pytest.raises(CsvError) as err:
            load_csv(raw, target)
        assert err.value.kind == "target_duplicate" and "leak" in str(err.value)
    raw = b" y ,a,y \n" + b"".join(f"{i % 3},{i},{i * 2}\n".encode() for i in range(30))
    data = load_csv(raw, "a")
    assert data.feature_names == ("y", "y_")
    assert any("2 columns are named 'y' once spaces are trimmed" in n and "'y', 'y_'" in n for n in data.notes)
    with pytest.raises(CsvError, match="shares its name"):
        load_csv(raw, "y")


def test_missing_path_and_folder_are_clear(tmp_path):
    for path, kind in ((tmp_path / "nope.csv", "not_found"), (tmp_path, "unreadable")):
        with pytest.raises(CsvError) as err:
            read_file(str(path))
        assert err.value.kind == kind


def test_semicolons_and_decimal_commas_are_read_as_such():
    semi = table(["x1", "x2", "y"], [[f"{i},5", i % 4, f"{i * 2},25"] for i in range(20)], sep=";")
    d = load_csv(semi, "y")
    assert any("semicolons" in n for n in d.notes) and any("decimal commas" in n for n in d.notes)
    assert d.feature_names == ("x1", "x2") and d.task == "regression"
    summary = inspect_csv(semi)
    assert summary.delimiter == ";" and [c.kind for c in summary.columns] == ["numeric"] * 3


def test_quoted_commas_stay_in_one_column():
    s = inspect_csv(GOOD)
    assert s.names == ["name", "color", "x1", "x2", "y"] and s.n_rows == 40
    assert s.preview["name"][3] == "Smith, 3" and s.preview["x1"][3] == "1.5"
    roles = {c.name: c.role for c in s.columns}
    assert roles == {"name": "skipped", "color": "one-hot", "x1": "feature", "x2": "feature", "y": "feature"}
    assert s.suggested_target == "y"


def test_infinite_and_missing_values_drop_rows_and_are_counted():
    rows = [[i, (i * 3) % 7, i * 1.5] for i in range(30)]
    rows[2][0], rows[5][2], rows[9][1] = "inf", "-Infinity", "1e999"
    rows[11][0], rows[12][2] = "", "NA"
    d = load_csv(table(["a", "b", "y"], rows), "y")
    assert len(d.X_train) + len(d.X_val) == 25
    assert any(n.startswith("2 of 30 rows dropped: a missing value") for n in d.notes)
    assert any(n.startswith("3 rows dropped: an infinite value") for n in d.notes)
    assert torch.isfinite(d.X_train).all() and torch.isfinite(d.y_val).all()


def test_missing_in_a_mostly_empty_or_skipped_column_costs_no_rows():
    rows = [[i, (i * 3) % 7, "" if i % 3 else "x", f"id{i}" if i % 2 else "", i] for i in range(30)]
    d = load_csv(table(["a", "b", "sparse", "id", "y"], rows), "y")
    assert d.feature_names == ("a", "b") and len(d.X_train) + len(d.X_val) == 30
    assert any("'sparse' (missing in 67% of rows)" in n for n in d.notes)


def test_regression_standardized_with_training_statistics_and_a_seeded_split():
    d = load_csv(table(["a", "b", "y"], NUMS), "y", val_fraction=0.2)
    raw = torch.tensor(NUMS, dtype=torch.float64)
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(0))
    tr, va = raw[perm[6:]], raw[perm[:6]]
    mean, std = tr.mean(0), tr.std(0)
    assert torch.allclose(d.X_val.double(), (va[:, :2] - mean[:2]) / std[:2], atol=1e-6)
    assert torch.allclose(d.y_train.double(), (tr[:, 2:] - mean[2]) / std[2], atol=1e-6)
    assert d.X_train.dtype == d.y_train.dtype == torch.float32 and d.y_train.shape == (24, 1)
    assert d.task == "regression" and d.n_classes == 0 and d.out_dim == 1
    again, other = load_csv(table(["a", "b", "y"], NUMS), "y"), load_csv(table(["a", "b", "y"], NUMS), "y", seed=1)
    assert torch.equal(again.X_val, d.X_val) and not torch.equal(other.X_val, d.X_val)
    # the target's scale is kept: the pictures undo the standardization into the target's own units
    assert d.target_scale == pytest.approx((float(mean[2]), float(std[2])), rel=1e-12) and d.target_name == "y"
    back = d.y_val.double() * d.target_scale[1] + d.target_scale[0]
    assert torch.allclose(back, va[:, 2:], atol=1e-4)


def test_task_is_guessed_and_can_be_overridden():
    rows = [[i, i % 4] for i in range(40)]
    d = load_csv(table(["a", "grade"], rows), "grade")
    assert d.task == "classification" and d.n_classes == 4 and d.y_train.dtype == torch.int64
    assert "classes: 0 = 0, 1 = 1, 2 = 2, 3 = 3" in d.notes
    assert d.class_names == ("0", "1", "2", "3") and d.target_name == "grade" and d.target_scale is None
    assert set(d.y_train.tolist()) | set(d.y_val.tolist()) == {0, 1, 2, 3}
    assert load_csv(table(["a", "grade"], rows), "grade", "regression").task == "regression"
    labels = load_csv(GOOD, "color")
    assert labels.task == "classification" and "classes: 0 = 'blue', 1 = 'green', 2 = 'red'" in labels.notes
    assert labels.feature_names == ("x1", "x2", "y")  # the target is never a feature
    wide = load_csv(GOOD, "y")
    assert wide.feature_names == ("color=blue", "color=green", "color=red", "x1", "x2")


def test_odd_but_readable_files_load_with_notes():
    tabs = b"\xef\xbb\xbfa\tb\ty\r\n" + b"".join(f"{i}\t{i % 3}\t{i * 2}\r\n".encode() for i in range(20))
    d = load_csv(tabs, "y")  # a byte-order mark, tabs and Windows line ends
    assert d.feature_names == ("a", "b") and any("tabs" in n for n in d.notes)
    headless = table(["1", "2", "3"], [[i, i % 3, i * 2] for i in range(20)])
    assert any("first row is read as column names" in n for n in inspect_csv(headless).notes)
    assert load_csv(GOOD, " Y ").task == "regression"  # a target name matching but for case and spaces


def test_csv_preset_validates_and_needs_its_data():
    cfg = SweepConfig(preset="csv", epochs=2, weight_decays=(0.0,))
    with pytest.raises(ConfigError, match="--data FILE.csv"):
        run_sweep(cfg)
    shared, warnings = from_query({"preset": "csv", "epochs": "3"})
    assert shared.preset == "csv" and not warnings  # a link can name it; the data comes from the visitor
    data = load_csv(GOOD, "y")
    with pytest.raises(ConfigError, match="optimizer steps"):
        validate(cfg.replace(epochs=200, batch_size=1), Limits(max_steps=1000), data)  # 200 × 32 steps
    validate(cfg.replace(epochs=31, batch_size=1), Limits(max_steps=1000), data)


@pytest.mark.parametrize("target,optimizer", [("y", "adam"), ("color", "sgd"), ("y", "adamw")])
def test_sweep_on_a_csv_is_exactly_torch_optim(target, optimizer):
    data = load_csv(GOOD, target)
    cfg = SweepConfig(preset="csv", hidden=(8,), optimizers=(optimizer,), lrs=(0.05,), epochs=4, batch_size=10,
                      weight_decays=(0.0, 0.1), seeds=(0, 1))
    df = run_sweep(cfg, data=data).frame
    assert ("train_acc" in df.columns) == (data.task == "classification")
    for m in cfg.members:
        ref = reference_run(cfg, m, data=data)
        got = df[(df.weight_decay == m.weight_decay) & (df.seed == m.seed)].sort_values("epoch")
        for col in ("train_loss", "train_eval_loss", "val_loss", "l2_norm"):
            assert np.allclose(got[col].to_numpy()[1:], ref[col], rtol=1e-5, atol=1e-6), col


CSVISH = st.text(alphabet=st.sampled_from(list('ab1.5,;\t|"\n e-inNA\x00é')), max_size=300)
CELLS = st.sampled_from(["1", "2.5", "-3", "7e3", "", "NA", "inf", "x", "y", '"a,b"', '"', "é", "1,5", " 4 "])
TABLES = st.tuples(st.integers(1, 4), st.sampled_from([",", ";", "\t"])).flatmap(lambda ks: st.builds(
    lambda rows: ("a" + ks[1] + ks[1].join(f"c{j}" for j in range(ks[0])) + ks[1] + "y\n"
                  + "".join(ks[1].join(r) + "\n" for r in rows)).encode(),
    st.lists(st.lists(CELLS, min_size=ks[0] + 2, max_size=ks[0] + 2), max_size=30)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=300), CSVISH.map(str.encode), TABLES), target=st.sampled_from(["a", "y"]))
def test_no_input_crashes_anything_but_a_csv_error(raw, target):
    for call in (lambda: inspect_csv(raw), lambda: load_csv(raw, target)):
        try:
            out = call()
        except CsvError as e:
            assert e.kind and "\n" not in str(e)
            continue
        if hasattr(out, "X_train"):
            assert torch.isfinite(out.X_train).all() and len(out.X_val) >= 1 and math.isfinite(out.y_train.sum())
