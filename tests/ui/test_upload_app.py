"""Your CSV in the explorer through AppTest: upload, preview, train, bad files, and one visitor's table per session."""
import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.settings.config import DEFAULT_LIMITS, SweepConfig
from wdlab.data.reading import MAX_COLUMNS, CsvError
from wdlab.data.tables import inspect_csv, load_csv
from wdlab.run.jobs import JobManager
from wdlab.run.train import InProcess
from wdlab.engine.sweep import run_sweep
from wdlab.ui.fields import cfg_to_state, state_to_cfg
from support import csv_table as table, values
from support import app as open_app
from wdlab.ui.upload import LINK_NOTICE
from wdlab.ui.text import notes_of

pytestmark = pytest.mark.usefixtures("fresh_streamlit")
LINK = "?preset=csv&optimizer=adam&wd=0,0.1&seeds=0&epochs=3&hidden=8"


# a quoted comma in name (a skipped text column), a 3-value category, two numbers, a numeric target
GOOD = table(["name", "color", "x1", "x2", "y"], [[f'"Smith, {i}"', ("red", "blue", "green")[i % 3], i * 0.5,
                                                   (i * 7) % 11, round(i * 1.5 + (i % 3), 2)] for i in range(40)])
OTHER = table(["alpha", "beta", "score"], [[i % 5, (i * 3) % 7, i * 0.25 + (i % 4)] for i in range(30)])


def app(query: str = LINK) -> AppTest:
    return open_app(query)


def upload(at: AppTest, raw: bytes, name: str = "table.csv") -> AppTest:
    return at.file_uploader(key="upload_file").set_value((name, raw, "text/csv")).run()


def train(at: AppTest, timeout: float = 120) -> AppTest:
    at.button(key="train").click().run()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # AppTest never fires run_every: rerun until the finished view
        if any("Trained" in s.value for s in at.success):
            return at
        time.sleep(0.1)
        at.run()
    raise AssertionError("the sweep did not finish")


def loss_lines(at: AppTest) -> dict[float, list[float]]:
    """λ -> the training-loss curve the main figure draws (plotly sends arrays base64-encoded)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    out = {}
    for t in spec["data"]:
        if t.get("meta", {}).get("role") == "line" and t["meta"]["panel"] == "train_loss":
            out[t["meta"]["wd"]] = values(t["y"])
    return out


def test_a_good_file_is_previewed_trained_and_drawn_end_to_end():
    at = app()
    assert not at.exception and at.selectbox(key="cfg_preset").value == "csv"
    assert LINK_NOTICE in [i.value for i in at.info]  # the link named the settings; the table must be uploaded
    assert at.button(key="train").disabled and "job" not in at.session_state  # no silent fallback, no run
    upload(at, GOOD, "people.csv")
    assert not at.exception and not notes_of(at, "error")
    assert at.selectbox(key="upload_target").value == "y"  # the suggested target, preselected
    assert at.selectbox(key="upload_target").options == ["name", "color", "x1", "x2", "y"]
    uses = dict(zip(at.dataframe[0].value["column"], at.dataframe[0].value["use"]))
    assert uses == {"name": "skipped: text with 40 distinct values", "color": "one-hot: 3 0/1 features",
                    "x1": "feature", "x2": "feature", "y": "target: what is predicted"}
    assert at.dataframe[1].value["name"][3] == "Smith, 3"  # the first rows as read: the quoted comma kept
    assert "32 training and 8 validation rows" in " ".join(notes_of(at, "success"))
    train(at)
    job = at.session_state["job"]
    assert job.cfg == SweepConfig(preset="csv", hidden=(8,), epochs=3, weight_decays=(0.0, 0.1))
    assert job.key[1] == at.session_state["wdlab_owner"]  # the job is this session's
    assert list(loss_lines(at)) == [0.0, 0.1] and not at.exception
    expected = run_sweep(job.cfg, data=load_csv(GOOD, "y")).frame  # the numbers are the uploaded table's
    assert job.snapshot().frame["train_loss"].tolist() == expected["train_loss"].tolist()
    assert at.query_params["preset"] == "csv"
    assert any("links to these settings only, not to your table" in c.value for c in at.caption)
    # a bad file afterwards: its message, and the run shown stays
    upload(at, b"\x00\x01" * 300, "oops.csv")
    assert "is binary data, not CSV text" in " ".join(notes_of(at, "error")) and not at.exception
    roles = [{(t.get("meta") or {}).get("role") for t in json.loads(c.proto.spec)["data"]}
             for c in at.get("plotly_chart")]
    pictures = [r for r in roles if r & {"hist", "layer_norm", "fit", "boundary"}]  # the models of the run shown
    panels = [(t.get("meta") or {}).get("panel") for c in at.get("plotly_chart")
              for t in json.loads(c.proto.spec)["data"]]
    # loss | norm, the laws section's max|w| figure, 4 summaries
    assert len(roles) - len(pictures) == 7 and "max_abs_w" in panels and at.button(key="train").disabled
    assert any("hist" in r for r in pictures)


def test_target_and_task_choices_reload_the_table():
    at = upload(app(), GOOD)
    at.selectbox(key="upload_target").set_value("x2").run()
    at.radio(key="upload_task").set_value("classification").run()
    assert "Classification of 'x2' (11 classes)" in " ".join(notes_of(at, "success"))
    uses = dict(zip(at.dataframe[0].value["column"], at.dataframe[0].value["use"]))
    assert uses["x2"].startswith("target") and uses["y"] == "feature"
    at.selectbox(key="upload_target").set_value("color").run()
    at.radio(key="upload_task").set_value("regression").run()  # text labels cannot be regressed
    with pytest.raises(CsvError) as err:
        load_csv(GOOD, "color", "regression")
    assert str(err.value) in " ".join(notes_of(at, "error")) and not at.exception
    assert at.button(key="train").disabled and at.multiselect(key="cfg_lr").value == ["0.01"]  # the rest intact


WIDE = MAX_COLUMNS + 5
# (id, bytes): the bad files; each is read with the target the page suggests
BAD = [
    ("empty", b""),
    ("header only", b"a,b,y\n"),
    ("one column", table(["y"], [[i] for i in range(20)])),
    ("target constant", table(["a", "y"], [[i, 1] for i in range(20)])),
    ("features all text", table(["who", "y"], [[f"p{i}", i] for i in range(20)])),
    ("everything NaN", b"a,b,y\n,,\nNA,nan,\n,,NaN\n"),
    ("a single row", b"a,y\n1,2\n"),
    ("too few rows to split", table(["a", "y"], [[i, i] for i in range(5)])),
    ("not UTF-8", "name,y\ncafé,1\n".encode("latin-1")),
    ("binary renamed .csv", bytes(range(256)) * 8),
    ("xlsx renamed .csv", b"PK\x03\x04" + b"\x14\x00" * 50),
    ("huge number of columns", table([f"c{i}" for i in range(WIDE)], [range(WIDE)] * 12)),
    ("over the size cap", b"a,y\n" + b"1,2\n" * (DEFAULT_LIMITS.max_upload_bytes // 4)),
    ("every row infinite", table(["a", "y"], [[("inf", "-inf")[i % 2], i] for i in range(20)])),
]


def core_message(raw: bytes) -> str:
    try:
        load_csv(raw, inspect_csv(raw).suggested_target)
    except CsvError as e:
        return str(e)
    raise AssertionError("the core accepts this file")


@pytest.mark.parametrize("raw", [b[1] for b in BAD], ids=[b[0] for b in BAD])
def test_each_bad_file_shows_the_core_message_and_nothing_else_breaks(raw):
    at = upload(app(), raw, "bad.csv")
    assert not at.exception
    text = " ".join(notes_of(at, "error"))
    assert text.startswith("bad.csv cannot be") and core_message(raw) in text  # what is wrong and what to do
    assert at.button(key="train").disabled and "job" not in at.session_state
    assert at.title[0].value == "Weight Decay Lab" and at.multiselect(key="cfg_weight_decays").value == ["0", "0.1"]


@pytest.mark.parametrize("raw,delimiter", [
    (table(["x1", "x2", "y"], [[f"{i},5", i % 4, f"{i * 2},25"] for i in range(20)], sep=";"), "semicolons"),
    (b"\xef\xbb\xbfa\tb\ty\r\n" + b"".join(f"{i}\t{i % 3}\t{i * 2}\r\n".encode() for i in range(20)), "tabs"),
], ids=["semicolons and decimal commas", "tabs and a byte-order mark"])
def test_other_separators_load_and_say_so(raw, delimiter):
    at = upload(app(), raw)
    assert not at.exception and not notes_of(at, "error") and not at.button(key="train").disabled
    assert f"columns are separated by {delimiter}" in " ".join(notes_of(at, "info"))


def test_limits_that_depend_on_the_table_are_checked_before_training():
    rows = table(["a", "b", "y"], [[i % 17, i % 5, i % 23] for i in range(2000)])  # 1600 training rows
    at = upload(app("?preset=csv&wd=0&epochs=40&batch-size=1&hidden=8"), rows)  # 64,000 steps
    assert any("optimizer steps" in e and "for this table" in e for e in notes_of(at, "error"))
    assert at.button(key="train").disabled and not at.exception


def test_markdown_in_column_names_is_shown_literally():
    at = upload(app(), table(["**a**", "[b](http://x)", "$y$"], [[i, i % 3, i * 2] for i in range(20)]))
    assert at.selectbox(key="upload_target").value == "$y$" and not notes_of(at, "error")
    assert "Regression of '$y$'" in " ".join(notes_of(at, "success"))  # as typed: st.text parses nothing


def test_a_link_to_a_csv_run_keeps_preset_csv_in_the_controls():
    cfg = SweepConfig(preset="csv", hidden=(8,), epochs=3)
    assert state_to_cfg(cfg_to_state(cfg), DEFAULT_LIMITS) == (cfg, [])


def test_two_sessions_never_see_each_others_table_or_results():
    first, second, same = (upload(app(), raw, "data.csv") for raw in (GOOD, OTHER, GOOD))
    for at in (first, second, same):
        train(at)
    jobs = [at.session_state["job"] for at in (first, second, same)]
    assert len({id(j) for j in jobs}) == 3 and jobs[0].cfg == jobs[1].cfg == jobs[2].cfg
    assert len({at.session_state["wdlab_owner"] for at in (first, second, same)}) == 3
    assert [j.key[1] for j in jobs] == [at.session_state["wdlab_owner"] for at in (first, second, same)]
    frames = [j.snapshot().frame for j in jobs]
    assert not frames[0]["train_loss"].equals(frames[1]["train_loss"])
    assert frames[0]["train_loss"].equals(frames[2]["train_loss"])  # the same table, yet its own job
    for at, frame in zip((first, second), frames):  # each page draws its own job's numbers
        assert loss_lines(at)[0.0] == frame[frame.weight_decay == 0.0].sort_values("epoch")["train_loss"].tolist()
    assert first.selectbox(key="upload_target").options == ["name", "color", "x1", "x2", "y"]
    assert second.selectbox(key="upload_target").options == ["alpha", "beta", "score"]
    assert set(second.dataframe[0].value["column"]) == {"alpha", "beta", "score"}
    for at, foreign in ((first, "alpha"), (second, "Smith")):
        text = " ".join(str(e.value) for e in (*at.markdown, *at.success, *at.caption, *at.text, *at.dataframe))
        assert foreign not in text


def test_the_job_manager_keeps_an_upload_to_its_owner(gated_runner):
    gated_runner.gate.set()
    a, b = load_csv(GOOD, "y"), load_csv(OTHER, "score")
    cfg = SweepConfig(preset="csv", hidden=(4,), epochs=1, weight_decays=(0.0,))
    jm = JobManager(backend=InProcess(gated_runner), warm=False)
    try:
        mine, theirs = jm.submit(cfg, data=a, owner="s1"), jm.submit(cfg, data=b, owner="s2")
        copy = jm.submit(cfg, data=a, owner="s2")  # the very same table from another visitor: its own job
        assert len({id(mine), id(theirs), id(copy)}) == 3
        assert all(j.done_event.wait(10) for j in (mine, theirs, copy))
        assert jm.submit(cfg, data=a, owner="s1") is mine  # the owner's own repeat is deduplicated
        assert jm.get(jm.key(cfg, a, "s1")) is mine and jm.get(jm.key(cfg, a, "s3")) is None
        assert jm.get(jm.key(cfg)) is None  # nor is it reachable as a plain preset run
        assert sorted(id(d) for _, d in gated_runner.calls) == sorted([id(a), id(b), id(a)])
        assert mine.data is None  # the table is not kept with the result
        with pytest.raises(ValueError, match="owner"):
            jm.submit(cfg, data=a)
    finally:
        jm.shutdown()


def test_a_duplicated_target_is_refused_on_the_page():
    raw = table(["noise", "price", "price"], [[i % 3, i, i * 2] for i in range(30)])
    at = upload(app(), raw, "houses.csv")
    assert at.selectbox(key="upload_target").value == "noise"  # a twin is never suggested
    assert any("2 columns are named 'price'" in n for n in notes_of(at, "info"))
    at.selectbox(key="upload_target").set_value("price").run()
    assert not at.exception and at.button(key="train").disabled
    assert any("shares its name" in e and "leak the answer" in e for e in notes_of(at, "error"))


@pytest.mark.parametrize("name,read", [("http://127.0.0.1:8719/x.csv", "data.csv"), ("../../etc/passwd.csv", "data.csv"),
                                       ("Ames Housing.csv", "Ames Housing.csv")])
def test_the_apps_script_on_long_spaced_names_compiles_and_reads_a_plain_local_name(name, read):
    # issue 26, item 4: ten Ames-style headers, long and quoted ones; the uploaded file's name is no path or URL
    import csv
    import io
    headers = ["Lot Frontage", "Lot Area", "Year Built", "Year Remod/Add", "Mas Vnr Area", "BsmtFin SF 1",
               "Total Bsmt SF", "1st Flr SF", "Gr Liv Area", "Garage Yr Blt", "a 'long' \"name\" " * 12, "SalePrice"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(headers)
    for i in range(40):
        w.writerow([(i * (k + 3)) % 17 for k in range(len(headers) - 1)] + [i * 3 + (i % 5)])
    at = upload(app(), out.getvalue().encode(), name)
    at.selectbox(key="upload_target").select("SalePrice").run()
    train(at)
    code = at.code[0].value
    compile(code, "member.py", "exec")
    assert f"pd.read_csv({read!r}" in code and "etc" not in code.split("sep=")[0].split("read_csv")[-1]
    where = " ".join(c.value for c in at.caption)
    assert (f"saved as {read}" in where) == (read == "data.csv")
